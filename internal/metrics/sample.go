package metrics

import (
	"math"
	"time"
)

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
	// Count weights Value: the sample stands for Count occurrences of Value, as PutMetricData's
	// Values/Counts arrays do. Zero means 1, so metric filters never need to set it.
	Count float64
	// Stats, when non-nil, is a pre-aggregated statistic set (PutMetricData's StatisticValues);
	// Value and Count are then ignored. A statistic set carries no distribution, so percentiles are
	// available for it only when SampleCount is 1 or Minimum equals Maximum, as in CloudWatch.
	Stats *StatisticSet
}

// StatisticSet is a pre-aggregated group of values: what PutMetricData's StatisticValues carries.
type StatisticSet struct {
	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
}

// weight is the number of occurrences a value sample stands for.
func (s *Sample) weight() float64 {
	if s.Count == 0 {
		return 1
	}
	return s.Count
}

// finite reports whether every number of s is finite.
func (s *Sample) finite() bool {
	ok := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if s.Stats != nil {
		st := s.Stats
		return ok(st.SampleCount) && ok(st.Sum) && ok(st.Minimum) && ok(st.Maximum)
	}
	return ok(s.Value) && ok(s.Count)
}
