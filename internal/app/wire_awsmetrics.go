package app

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// snsMetrics stores the AWS/SNS metrics that sns.Service (publishes) and notify.Worker
// (deliveries) report, as CloudWatch metrics of the topic's account, and hands them to the alarm
// scheduler as metric filters' samples are: the scheduler's no-data cache must hear of every write.
// (The AWS/Logs metrics need no such path: the logs service stores them with the events.)
type snsMetrics struct {
	store  metrics.Store
	logger *slog.Logger
	// onSamples is the alarm service's OnSamples, set by wire once the alarm service exists
	// (the delivery worker may already be running).
	onSamples atomic.Pointer[func([]metrics.Sample)]
}

// PublishMetrics implements sns.MetricSink and notify.MetricSink. A failure is logged: the
// message or delivery it counts has happened regardless.
func (m *snsMetrics) PublishMetrics(ctx context.Context, data []sns.MetricDatum) {
	samples := make([]metrics.Sample, len(data))
	for i, d := range data {
		samples[i] = metrics.Sample{AccountID: d.Scope.AccountID, Region: d.Scope.Region, Namespace: sns.MetricsNamespace,
			MetricName: d.MetricName, Dimensions: []metrics.Dimension{{Name: sns.DimensionTopicName, Value: d.TopicName}},
			Unit: d.Unit, Timestamp: d.Time.UTC(), Value: d.Value}
	}
	if err := m.store.AddSamples(context.WithoutCancel(ctx), samples); err != nil {
		m.logger.Warn("storing AWS/SNS metrics failed", "err", err)
		return
	}
	if f := m.onSamples.Load(); f != nil {
		(*f)(samples)
	}
}
