// Package metrics is the CloudWatch metrics domain: metric identity, samples and their per-minute
// aggregation, statistics and percentiles, and the semantics and validation of PutMetricData,
// ListMetrics, GetMetricStatistics and GetMetricData.
package metrics

import "time"

// Dimension is one name/value pair of a metric's identity.
type Dimension struct {
	Name  string
	Value string
}

// Sample is one value published to a metric, by PutMetricData or by a metric filter that matched a
// log event. Samples are aggregated per minute when stored.
type Sample struct {
	AccountID  string
	Region     string
	Namespace  string
	MetricName string
	// Dimensions in any order; the store normalises them (sorted by name) to form the identity.
	Dimensions []Dimension
	// Unit is a CloudWatch StandardUnit name; "" means None.
	Unit string
	// Timestamp is when the value was observed; for a metric filter it is the log event's timestamp.
	Timestamp time.Time
	Value     float64
	// Default marks a metric filter's defaultValue, published for a minute in which log events were
	// ingested but none matched. It counts only if that minute of that metric has no other sample.
	Default bool
}
