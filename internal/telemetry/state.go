package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outbox names: the SNS delivery outbox and the alarm action queue.
const (
	OutboxSNSDelivery = "sns_delivery"
	OutboxAlarmAction = "alarm_action"
)

// OutboxStat is the pending part of one outbox for one protocol.
type OutboxStat struct {
	// Outbox is OutboxSNSDelivery or OutboxAlarmAction.
	Outbox string
	// Protocol is the SNS subscription protocol of a delivery; "sns" for alarm actions (an alarm
	// action publishes to an SNS topic).
	Protocol string
	// Depth is the number of pending messages.
	Depth int
	// Oldest is when the oldest pending message was created; zero when Depth is 0.
	Oldest time.Time
}

// StateSource answers the scrape-time gauges. Each call should cost one indexed query or an
// in-memory read: a scrape waits for them.
type StateSource interface {
	// AlarmStates counts alarms by state name (OK, ALARM, INSUFFICIENT_DATA).
	AlarmStates(ctx context.Context) (map[string]int, error)
	// Outboxes reports the pending messages of each outbox and protocol that has any.
	Outboxes(ctx context.Context) ([]OutboxStat, error)
	// WALSize is the size in bytes of the store's write-ahead log.
	WALSize() (int64, error)
	// CompactBacklog counts the log group hours holding small blocks that compaction has yet to
	// merge: it stays near 0 while the compactor keeps up with the appends.
	CompactBacklog(ctx context.Context) (int, error)
}

// alarmStates are the values of the state label, always all exported.
var alarmStates = []string{"OK", "ALARM", "INSUFFICIENT_DATA"}

// defaultOutboxes are the outbox series exported at zero when nothing is pending, so that an
// alert on them sees a value rather than an absent series.
var defaultOutboxes = []OutboxStat{
	{Outbox: OutboxSNSDelivery, Protocol: "email"},
	{Outbox: OutboxSNSDelivery, Protocol: "email-json"},
	{Outbox: OutboxSNSDelivery, Protocol: "http"},
	{Outbox: OutboxSNSDelivery, Protocol: "https"},
	{Outbox: OutboxAlarmAction, Protocol: "sns"},
}

var (
	alarmsDesc = prometheus.NewDesc(Namespace+"_alarms", "Alarms (metric and composite) by current state.", []string{"state"}, nil)
	depthDesc  = prometheus.NewDesc(Namespace+"_outbox_messages", "Messages pending in an outbox (SNS deliveries, alarm actions), by protocol.",
		[]string{"outbox", "protocol"}, nil)
	ageDesc = prometheus.NewDesc(Namespace+"_outbox_oldest_message_age_seconds", "Age of the oldest message pending in an outbox, by protocol; 0 when none is pending.",
		[]string{"outbox", "protocol"}, nil)
	walDesc     = prometheus.NewDesc(Namespace+"_store_wal_size_bytes", "Size of the store's write-ahead log file.", nil, nil)
	backlogDesc = prometheus.NewDesc(Namespace+"_store_compaction_backlog", "Log group hours holding small event blocks that compaction has yet to merge; it grows when ingest outruns the compactor.", nil, nil)
	upDesc      = prometheus.NewDesc(Namespace+"_store_up", "1 when the store answered this scrape's state queries in time, 0 otherwise.", nil, nil)
)

// stateCollector reads the store-backed gauges at scrape time.
type stateCollector struct {
	src     StateSource
	timeout time.Duration
	now     func() time.Time
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{alarmsDesc, depthDesc, ageDesc, walDesc, backlogDesc, upDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failing or slow query leaves its families out and
// reports trailwatch_store_up 0, rather than failing the whole scrape (the runtime metrics still
// tell what the process is doing).
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	up := 1.0
	if states, err := c.src.AlarmStates(ctx); err != nil {
		up = 0
	} else {
		for _, st := range alarmStates {
			ch <- prometheus.MustNewConstMetric(alarmsDesc, prometheus.GaugeValue, float64(states[st]), st)
		}
	}
	if boxes, err := c.src.Outboxes(ctx); err != nil {
		up = 0
	} else {
		now := c.now()
		type key struct{ outbox, protocol string }
		merged := map[key]OutboxStat{}
		var order []key
		for _, b := range append(append([]OutboxStat(nil), defaultOutboxes...), boxes...) {
			if b.Outbox == OutboxSNSDelivery && !snsProtocols[b.Protocol] {
				b.Protocol = Unknown
			}
			k := key{b.Outbox, b.Protocol}
			m, seen := merged[k]
			if !seen {
				order = append(order, k)
			}
			m.Depth += b.Depth
			if !b.Oldest.IsZero() && (m.Oldest.IsZero() || b.Oldest.Before(m.Oldest)) {
				m.Oldest = b.Oldest
			}
			merged[k] = m
		}
		for _, k := range order {
			m := merged[k]
			age := 0.0
			if m.Depth > 0 && !m.Oldest.IsZero() {
				age = max(now.Sub(m.Oldest).Seconds(), 0)
			}
			ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(m.Depth), k.outbox, k.protocol)
			ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age, k.outbox, k.protocol)
		}
	}
	if n, err := c.src.WALSize(); err != nil {
		up = 0
	} else {
		ch <- prometheus.MustNewConstMetric(walDesc, prometheus.GaugeValue, float64(n))
	}
	if n, err := c.src.CompactBacklog(ctx); err != nil {
		up = 0
	} else {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
}
