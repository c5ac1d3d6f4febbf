package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

// fakeClock is a settable clock shared by the services of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// pipeline is the logs → metrics → alarms chain over SQLite as wire builds it, on a fake clock,
// without the scheduler's goroutine: the test runs the minutely rounds itself.
type pipeline struct {
	clock   *fakeClock
	db      *sqlite.DB
	logs    *logs.Service
	metrics *metrics.Service
	alarms  *alarm.Service
}

func newPipeline(t *testing.T, start time.Time) *pipeline {
	t.Helper()
	ctx := context.Background()
	c := &fakeClock{t: start}
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &pipeline{clock: c, db: db, logs: logs.NewService(db, c.now), metrics: metrics.NewService(db, c.now)}
	if p.alarms, err = alarm.NewService(ctx, db, p.metrics, c.now); err != nil {
		t.Fatal(err)
	}
	p.logs.OnSamples = p.alarms.OnSamples // as wire does
	return p
}

var pipeScope = logs.Scope{AccountID: "111122223333", Region: "us-east-1"}

// put stores n events of size bytes each (message bytes) in group, timestamped now.
func (p *pipeline) put(t *testing.T, group string, n, size int) {
	t.Helper()
	evs := make([]logs.InputLogEvent, n)
	for i := range evs {
		evs[i] = logs.InputLogEvent{Timestamp: p.clock.now().UnixMilli(), Message: strings.Repeat("x", size)}
	}
	if _, err := p.logs.PutLogEvents(context.Background(), pipeScope, logs.PutLogEventsInput{LogGroupName: group, LogStreamName: "s", LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
}

// stat returns GetMetricStatistics' Sum and SampleCount of an AWS/Logs metric over the last hour
// in one datapoint (group "" is the account-wide metric).
func (p *pipeline) stat(t *testing.T, name, group string) (sum, count float64) {
	t.Helper()
	m := metrics.Metric{Namespace: logs.ServiceNamespace, MetricName: name}
	if group != "" {
		m.Dimensions = []metrics.Dimension{{Name: logs.DimensionLogGroupName, Value: group}}
	}
	now := p.clock.now().Truncate(time.Minute).Add(time.Minute)
	aggs, err := p.metrics.Aggregates(context.Background(), metrics.Scope{AccountID: pipeScope.AccountID, Region: pipeScope.Region},
		metrics.AggregateQuery{Metric: m, Start: now.Add(-time.Hour), End: now, Period: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 1 {
		t.Fatalf("%s %q: %d datapoints", name, group, len(aggs))
	}
	return aggs[0].Sum, aggs[0].SampleCount
}

func (p *pipeline) createGroup(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if err := p.logs.CreateLogGroup(ctx, pipeScope, logs.CreateLogGroupInput{LogGroupName: name}); err != nil {
		t.Fatal(err)
	}
	if err := p.logs.CreateLogStream(ctx, pipeScope, name, "s"); err != nil {
		t.Fatal(err)
	}
}

// TestIncomingMetricsStored checks the AWS/Logs metrics as stored and read back over SQLite:
// GetMetricStatistics' Sum is exactly the events (and their bytes plus 26 each) of every group and,
// without the dimension, of the account; SampleCount is the number of batches.
func TestIncomingMetricsStored(t *testing.T) {
	p := newPipeline(t, time.Date(2026, 11, 25, 10, 0, 37, 0, time.UTC))
	p.createGroup(t, "CloudTrail/DefaultLogGroup")
	p.createGroup(t, "app")
	p.put(t, "CloudTrail/DefaultLogGroup", 3, 100) // 3 events, 3*126 bytes
	p.clock.set(p.clock.now().Add(2 * time.Minute))
	p.put(t, "CloudTrail/DefaultLogGroup", 10, 1) // 10 events, 10*27 bytes
	p.put(t, "app", 2, 974)                       // 2 events, 2*1000 bytes
	for _, c := range []struct {
		name, group       string
		wantSum, wantSmpl float64
	}{
		{logs.MetricIncomingLogEvents, "CloudTrail/DefaultLogGroup", 13, 2},
		{logs.MetricIncomingBytes, "CloudTrail/DefaultLogGroup", 3*126 + 10*27, 2},
		{logs.MetricIncomingLogEvents, "app", 2, 1},
		{logs.MetricIncomingBytes, "app", 2000, 1},
		{logs.MetricIncomingLogEvents, "", 15, 3},
		{logs.MetricIncomingBytes, "", 3*126 + 10*27 + 2000, 3},
	} {
		if sum, n := p.stat(t, c.name, c.group); sum != c.wantSum || n != c.wantSmpl {
			t.Errorf("%s %q: Sum %v SampleCount %v, want %v %v", c.name, c.group, sum, n, c.wantSum, c.wantSmpl)
		}
	}
}

// TestCloudTrailStoppedAlarm is the README's "CloudTrail stopped arriving" alarm, driven minute
// by minute on a fake clock over the real store: IncomingLogEvents of the CloudTrail group, Sum <
// 1 for 3 periods of 5 minutes, missing data breaching. Events arrive every minute until 10:19 and
// again from 11:00; the alarm goes to ALARM once no period of its evaluation range holds data, and
// back to OK at the first evaluation after events resume. Without the AWS/Logs samples reaching
// the alarm service's OnSamples hook, its no-data cache would keep the alarm in ALARM.
func TestCloudTrailStoppedAlarm(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 37, 0, time.UTC)
	p := newPipeline(t, start)
	ctx := context.Background()
	const group = "CloudTrail/DefaultLogGroup"
	p.createGroup(t, group)
	sc := alarm.Scope{AccountID: pipeScope.AccountID, Region: pipeScope.Region}
	p32 := func(v int32) *int32 { return &v }
	one := 1.0
	err := p.alarms.PutMetricAlarm(ctx, sc, alarm.MetricAlarm{AlarmName: "CloudTrailStopped", ActionsEnabled: true,
		Namespace: logs.ServiceNamespace, MetricName: logs.MetricIncomingLogEvents,
		Dimensions: []metrics.Dimension{{Name: logs.DimensionLogGroupName, Value: group}},
		Statistic:  alarm.StatSum, Period: p32(300), EvaluationPeriods: p32(3), Threshold: &one,
		ComparisonOperator: alarm.LessThanThreshold, TreatMissingData: alarm.TreatBreaching}, nil)
	if err != nil {
		t.Fatal(err)
	}
	state := alarm.StateInsufficientData
	var seq []string
	for now := start; now.Before(start.Add(80 * time.Minute)); now = now.Add(time.Minute) {
		p.clock.set(now)
		if m := now.Sub(start.Truncate(time.Hour)).Minutes(); m < 20 || m >= 60 {
			p.put(t, group, 2, 50) // CloudTrail delivering
		}
		p.alarms.Round(ctx, now, false)
		rec := p.alarms.Get(sc, "CloudTrailStopped")
		if rec.State != state {
			state = rec.State
			seq = append(seq, fmt.Sprintf("%s %s", now.Format("15:04"), state))
		}
	}
	// 10:00's evaluation (window ending 10:00) predates the alarm; from 10:01 the newest period
	// holds 10:00's events: OK. The last events are in 10:19. An alarm of 3 periods looks back over
	// an evaluation range of 5 (alarm.RangeSize) and prefers the real datapoint there to missing
	// ones, so it fires when 10:19 leaves the range: at 10:45, 25 minutes after the last event.
	// Events resume at 11:00:37; the regular evaluation that sees them is 11:01's (the scheduler's
	// early evaluation, on OnSamples, sees them at once: TestCloudTrailResumedEarly).
	got, want := strings.Join(seq, ", "), "10:01 OK, 10:45 ALARM, 11:01 OK"
	if got != want {
		t.Fatalf("transitions %q, want %q", got, want)
	}
}

// TestCloudTrailStoppedScheduler runs the alarm scheduler itself (Run: the regular rounds and the
// early evaluations OnSamples triggers) in a synctest bubble over SQLite: the dead-man alarm fires
// when CloudTrail stops and returns to OK at the first regular round after events resume. Early
// evaluations act on final ALARM outcomes only (alarm.EvaluateEarly), so a returning metric waits
// for that round; what OnSamples must do here is drop the scheduler's no-data cache.
func TestCloudTrailStoppedScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		t.Cleanup(func() {
			cancel()
			<-done
			db.Close()
		})
		logsSvc := logs.NewService(db, nil)
		metricsSvc := metrics.NewService(db, nil)
		alarms, err := alarm.NewService(ctx, db, metricsSvc, nil)
		if err != nil {
			close(done)
			t.Fatal(err)
		}
		logsSvc.OnSamples = alarms.OnSamples
		go func() { alarms.Run(ctx); close(done) }()
		const group = "CloudTrail/DefaultLogGroup"
		if err := logsSvc.CreateLogGroup(ctx, pipeScope, logs.CreateLogGroupInput{LogGroupName: group}); err != nil {
			t.Fatal(err)
		}
		if err := logsSvc.CreateLogStream(ctx, pipeScope, group, "s"); err != nil {
			t.Fatal(err)
		}
		sc := alarm.Scope{AccountID: pipeScope.AccountID, Region: pipeScope.Region}
		p32 := func(v int32) *int32 { return &v }
		one := 1.0
		if err := alarms.PutMetricAlarm(ctx, sc, alarm.MetricAlarm{AlarmName: "CloudTrailStopped", ActionsEnabled: true,
			Namespace: logs.ServiceNamespace, MetricName: logs.MetricIncomingLogEvents,
			Dimensions: []metrics.Dimension{{Name: logs.DimensionLogGroupName, Value: group}},
			Statistic:  alarm.StatSum, Period: p32(300), EvaluationPeriods: p32(3), Threshold: &one,
			ComparisonOperator: alarm.LessThanThreshold, TreatMissingData: alarm.TreatBreaching}, nil); err != nil {
			t.Fatal(err)
		}
		put := func() {
			t.Helper()
			ev := []logs.InputLogEvent{{Timestamp: time.Now().UnixMilli(), Message: "{}"}}
			if _, err := logsSvc.PutLogEvents(ctx, pipeScope, logs.PutLogEventsInput{LogGroupName: group, LogStreamName: "s", LogEvents: ev}); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		state := func() alarm.State { return alarms.Get(sc, "CloudTrailStopped").State }
		sleep := func(d time.Duration) { time.Sleep(d); synctest.Wait() }
		sleep(30 * time.Second) // mid-minute, between rounds
		for range 5 {
			put()
			sleep(time.Minute)
		}
		if got := state(); got != alarm.StateOK {
			t.Fatalf("while events arrive: %v", got)
		}
		// The last event came at 00:04:30; the evaluation range (5 periods) holds it until the
		// round of 00:30.
		sleep(19 * time.Minute) // 00:24:30
		if got := state(); got != alarm.StateOK {
			t.Fatalf("20 minutes after the last event: %v", got)
		}
		sleep(6 * time.Minute) // 00:30:30
		if got := state(); got != alarm.StateAlarm {
			t.Fatalf("26 minutes after the last event: %v", got)
		}
		sleep(20 * time.Minute)
		put()
		if got := state(); got != alarm.StateAlarm {
			t.Fatalf("an early evaluation returned the alarm to OK: %v", got)
		}
		sleep(time.Minute)
		if got := state(); got != alarm.StateOK {
			t.Fatalf("a minute after events resumed: %v", got)
		}
	})
}

// TestSNSMetricsStored checks the adapter between the SNS side and the metrics store: the data
// reported by sns.Service and notify.Worker become AWS/SNS metrics with the TopicName dimension,
// read back with their exact sums, and reach the alarm service's hook.
func TestSNSMetricsStored(t *testing.T) {
	p := newPipeline(t, time.Date(2026, 11, 25, 10, 0, 37, 0, time.UTC))
	var hooked []metrics.Sample
	onSamples := func(ss []metrics.Sample) { hooked = append(hooked, ss...) }
	m := &snsMetrics{store: p.db}
	m.onSamples.Store(&onSamples)
	sc := sns.Scope{AccountID: pipeScope.AccountID, Region: pipeScope.Region}
	at := p.clock.now()
	for _, size := range []float64{100, 250, 7} {
		m.PublishMetrics(context.Background(), []sns.MetricDatum{
			{Scope: sc, TopicName: "alerts", MetricName: sns.MetricMessagesPublished, Unit: "Count", Value: 1, Time: at},
			{Scope: sc, TopicName: "alerts", MetricName: sns.MetricPublishSize, Unit: "Bytes", Value: size, Time: at},
		})
	}
	m.PublishMetrics(context.Background(), []sns.MetricDatum{{Scope: sc, TopicName: "alerts", MetricName: sns.MetricNotificationsFailed, Unit: "Count", Value: 1, Time: at}})
	if len(hooked) != 7 {
		t.Fatalf("hook saw %d samples, want 7", len(hooked))
	}
	end := at.Truncate(time.Minute).Add(time.Minute)
	for _, c := range []struct {
		name                  string
		sum, count, min, maxv float64
	}{
		{sns.MetricMessagesPublished, 3, 3, 1, 1},
		{sns.MetricPublishSize, 357, 3, 7, 250},
		{sns.MetricNotificationsFailed, 1, 1, 1, 1},
	} {
		aggs, err := p.metrics.Aggregates(context.Background(), metrics.Scope{AccountID: sc.AccountID, Region: sc.Region},
			metrics.AggregateQuery{Metric: metrics.Metric{Namespace: sns.MetricsNamespace, MetricName: c.name,
				Dimensions: []metrics.Dimension{{Name: sns.DimensionTopicName, Value: "alerts"}}}, Start: end.Add(-time.Hour), End: end, Period: 3600})
		if err != nil {
			t.Fatal(err)
		}
		if len(aggs) != 1 || aggs[0].Sum != c.sum || aggs[0].SampleCount != c.count || aggs[0].Minimum != c.min || aggs[0].Maximum != c.maxv {
			t.Errorf("%s: %+v", c.name, aggs)
		}
	}
}
