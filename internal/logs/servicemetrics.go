package logs

import "github.com/trailwatch/trailwatch/internal/metrics"

// CloudWatch Logs' own metrics, which AWS publishes for every account into the AWS/Logs namespace
// ("CloudWatch Logs metrics", Monitoring usage with CloudWatch metrics, as mirrored by Pulumi's
// awsx docs classic.cloudwatch.metrics.logs.incomingLogEvents / incomingBytes and aws-cdk-lib's
// LogsMetrics): IncomingLogEvents, "the number of log events uploaded to CloudWatch Logs. When
// used with the LogGroupName dimension, this is the number of log events uploaded to the log
// group", unit None, valid statistic Sum; IncomingBytes, "the volume of log events in uncompressed
// bytes uploaded to CloudWatch Logs", likewise, unit Bytes. Without the dimension they are the
// account's totals (in the region), so trailwatch publishes both forms.
const (
	ServiceNamespace        = "AWS/Logs"
	MetricIncomingLogEvents = "IncomingLogEvents"
	MetricIncomingBytes     = "IncomingBytes"
	// DimensionLogGroupName is the one dimension of the per-group form.
	DimensionLogGroupName = "LogGroupName"
)

// incomingSamples returns the AWS/Logs samples of one append: the events a group accepted from a
// PutLogEvents call or one of trailwatch's own sources, counted at their ingestion time (now,
// epoch ms), not at their timestamps, so that a metric of arrivals shows when data stopped
// arriving whatever the events' own times. It returns nil for no events.
//
// Each metric gets one sample per batch whose value is the batch's total, so that Sum is the
// exact count (or byte volume) and SampleCount the number of batches, the way AWS reports a
// PutLogEvents call. Decisions where AWS's documentation is silent:
//   - an event counts when it is accepted: events PutLogEvents rejects for their time (too old,
//     too new, expired) are not uploaded and are not counted; a CloudTrail record trailwatch then
//     drops as a duplicate (DedupTag, Service.IsRecordGroup) was uploaded and is counted, since it
//     did arrive and AWS, which has no such deduplication, would store it;
//   - an event's bytes are its UTF-8 message bytes plus 26, the size of a log event as
//     PutLogEvents' batch limit defines it ("the sum of all event messages in UTF-8, plus 26 bytes
//     for each log event"); storedBytes counts messages only.
func incomingSamples(sc Scope, group string, events []InputLogEvent, now int64) []metrics.Sample {
	if len(events) == 0 {
		return nil
	}
	var size int64
	for _, e := range events {
		size += int64(len(e.Message) + eventOverhead)
	}
	ts := millisTime(now)
	sample := func(name, unit string, value float64, dims []metrics.Dimension) metrics.Sample {
		return metrics.Sample{AccountID: sc.AccountID, Region: sc.Region, Namespace: ServiceNamespace,
			MetricName: name, Dimensions: dims, Unit: unit, Timestamp: ts, Value: value}
	}
	byGroup := []metrics.Dimension{{Name: DimensionLogGroupName, Value: group}}
	n := float64(len(events))
	return []metrics.Sample{
		sample(MetricIncomingLogEvents, "None", n, byGroup),
		sample(MetricIncomingBytes, "Bytes", float64(size), byGroup),
		sample(MetricIncomingLogEvents, "None", n, nil),
		sample(MetricIncomingBytes, "Bytes", float64(size), nil),
	}
}
