package telemetry

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var t0 = time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)

func fixed() time.Time { return t0 }

func newTest(state StateSource) *Telemetry {
	t := New(Options{Now: fixed})
	t.SetAPIOperations(map[string][]string{
		"logs":       {"PutLogEvents", "CreateLogGroup"},
		"monitoring": {"PutMetricAlarm"},
	})
	if state != nil {
		t.RegisterState(state)
	}
	return t
}

// scrape serves the registry through Handler and parses the text format, as Prometheus does.
func scrape(t *testing.T, tel *Telemetry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, rec.Body)
	}
	return fams
}

// value returns the value of the series of family name whose labels are exactly labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("family %s missing", name)
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("%s%v: no such series", name, labels)
	return 0
}

func TestIngested(t *testing.T) {
	tel := newTest(nil)
	ms := t0.UnixMilli()
	tel.Ingested(SourceSQS, 3, 300)
	tel.Lag(SourceSQS, []int64{ms - 2000, ms - 400_000, ms + 5000}) // one in the future counts as 0 lag
	tel.Ingested(SourcePutLogEvents, 1, 10)
	tel.Lag(SourcePutLogEvents, []int64{ms})
	tel.Ingested(SourceSQS, 0, 999) // nothing stored: nothing counted
	fams := scrape(t, tel)
	for _, c := range []struct {
		name string
		src  Source
		want float64
	}{
		{"trailwatch_ingest_events_total", SourceSQS, 3},
		{"trailwatch_ingest_bytes_total", SourceSQS, 300},
		{"trailwatch_ingest_events_total", SourcePutLogEvents, 1},
		{"trailwatch_ingest_bytes_total", SourcePutLogEvents, 10},
		{"trailwatch_ingest_events_total", SourceFirehose, 0}, // every source exists from the start
		{"trailwatch_ingest_lag_seconds", SourceSQS, 3},
	} {
		if got := value(t, fams, c.name, map[string]string{"source": string(c.src)}); got != c.want {
			t.Errorf("%s{source=%s} = %v, want %v", c.name, c.src, got, c.want)
		}
	}
	h := fams["trailwatch_ingest_lag_seconds"]
	for _, m := range h.Metric {
		if m.Label[0].GetValue() != string(SourceSQS) {
			continue
		}
		if got := m.Histogram.GetSampleSum(); got != 402 {
			t.Errorf("lag sum = %v, want 402 (2 s + 400 s + 0)", got)
		}
		for _, b := range m.Histogram.Bucket {
			if b.GetUpperBound() == 5 && b.GetCumulativeCount() != 2 {
				t.Errorf("lag <= 5 s: %d events, want 2", b.GetCumulativeCount())
			}
		}
	}
}

func TestAPIRequestLabelsAreBounded(t *testing.T) {
	tel := newTest(nil)
	for _, c := range []struct {
		service, op string
		status      int
	}{
		{"logs", "PutLogEvents", 200},
		{"logs", "PutLogEvents", 200},
		{"logs", "PutLogEvents", 400},
		{"logs", "MadeUpOperation1", 400},
		{"logs", "MadeUpOperation2", 400},
		{"nosuchservice", "PutLogEvents", 403},
		{"", "", 403},
		{"monitoring", "PutMetricAlarm", 500},
	} {
		tel.APIRequest(c.service, c.op, c.status)
	}
	fams := scrape(t, tel)
	for _, c := range []struct {
		service, op, outcome string
		want                 float64
	}{
		{"logs", "PutLogEvents", OutcomeSuccess, 2},
		{"logs", "PutLogEvents", OutcomeClientError, 1},
		{"logs", Unknown, OutcomeClientError, 2},
		{Unknown, Unknown, OutcomeClientError, 2},
		{"monitoring", "PutMetricAlarm", OutcomeServerError, 1},
	} {
		got := value(t, fams, "trailwatch_api_requests_total", map[string]string{"service": c.service, "operation": c.op, "outcome": c.outcome})
		if got != c.want {
			t.Errorf("%s/%s/%s = %v, want %v", c.service, c.op, c.outcome, got, c.want)
		}
	}
	if n := len(fams["trailwatch_api_requests_total"].Metric); n != 5 {
		t.Errorf("%d series, want 5", n)
	}
}

func TestMatchesEvaluationsDeliveriesCommits(t *testing.T) {
	tel := newTest(nil)
	tel.MetricFilterMatches(3)
	tel.MetricFilterMatches(0)
	tel.AlarmEvaluated(false, 2*time.Millisecond, nil)
	tel.AlarmEvaluated(true, time.Millisecond, nil)
	tel.AlarmEvaluated(true, time.Millisecond, errors.New("locked"))
	tel.DeliveryAttempt("email", "delivered")
	tel.DeliveryAttempt("https", "retry")
	tel.DeliveryAttempt("https", "retry")
	tel.DeliveryAttempt("carrier-pigeon", "lost")
	tel.Committed(3 * time.Millisecond)
	tel.Committed(time.Second)
	fams := scrape(t, tel)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"trailwatch_metric_filter_matches_total", map[string]string{}, 3},
		{"trailwatch_alarm_evaluations_total", map[string]string{"kind": "regular", "outcome": "ok"}, 1},
		{"trailwatch_alarm_evaluations_total", map[string]string{"kind": "early", "outcome": "ok"}, 1},
		{"trailwatch_alarm_evaluations_total", map[string]string{"kind": "early", "outcome": "error"}, 1},
		{"trailwatch_alarm_evaluation_duration_seconds", map[string]string{"kind": "early"}, 2},
		{"trailwatch_sns_delivery_attempts_total", map[string]string{"protocol": "email", "outcome": "delivered"}, 1},
		{"trailwatch_sns_delivery_attempts_total", map[string]string{"protocol": "https", "outcome": "retry"}, 2},
		{"trailwatch_sns_delivery_attempts_total", map[string]string{"protocol": Unknown, "outcome": Unknown}, 1},
		{"trailwatch_store_commit_duration_seconds", map[string]string{}, 2},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := fams["trailwatch_store_commit_duration_seconds"].Metric[0].Histogram.GetSampleSum(); got != 1.003 {
		t.Errorf("commit latency sum = %v, want 1.003", got)
	}
}

func TestNilTelemetryObservesNothing(t *testing.T) {
	var tel *Telemetry
	tel.Ingested(SourceS3, 1, 1)
	tel.Lag(SourceS3, []int64{1})
	tel.SetAPIOperations(nil)
	tel.RegisterState(nil)
	tel.APIRequest("logs", "PutLogEvents", 200)
	tel.MetricFilterMatches(1)
	tel.AlarmEvaluated(false, 0, nil)
	tel.DeliveryAttempt("email", "delivered")
	tel.Committed(0)
}

type fakeState struct {
	states  map[string]int
	boxes   []OutboxStat
	wal     int64
	backlog int
	err     error
	block   bool
}

func (f *fakeState) AlarmStates(ctx context.Context) (map[string]int, error) {
	if f.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return f.states, f.err
}
func (f *fakeState) Outboxes(context.Context) ([]OutboxStat, error) { return f.boxes, f.err }
func (f *fakeState) WALSize() (int64, error)                        { return f.wal, f.err }
func (f *fakeState) CompactBacklog(context.Context) (int, error)    { return f.backlog, f.err }

func TestStateGauges(t *testing.T) {
	src := &fakeState{
		states: map[string]int{"ALARM": 2, "OK": 5},
		boxes: []OutboxStat{
			{Outbox: OutboxSNSDelivery, Protocol: "email", Depth: 3, Oldest: t0.Add(-90 * time.Second)},
			{Outbox: OutboxAlarmAction, Protocol: "sns", Depth: 1, Oldest: t0.Add(-2 * time.Second)},
			{Outbox: OutboxSNSDelivery, Protocol: "bogus", Depth: 1, Oldest: t0.Add(-time.Second)},
		},
		wal:     4096,
		backlog: 3,
	}
	fams := scrape(t, newTest(src))
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"trailwatch_alarms", map[string]string{"state": "OK"}, 5},
		{"trailwatch_alarms", map[string]string{"state": "ALARM"}, 2},
		{"trailwatch_alarms", map[string]string{"state": "INSUFFICIENT_DATA"}, 0},
		{"trailwatch_outbox_messages", map[string]string{"outbox": "sns_delivery", "protocol": "email"}, 3},
		{"trailwatch_outbox_oldest_message_age_seconds", map[string]string{"outbox": "sns_delivery", "protocol": "email"}, 90},
		{"trailwatch_outbox_messages", map[string]string{"outbox": "sns_delivery", "protocol": "https"}, 0},
		{"trailwatch_outbox_oldest_message_age_seconds", map[string]string{"outbox": "sns_delivery", "protocol": "https"}, 0},
		{"trailwatch_outbox_messages", map[string]string{"outbox": "sns_delivery", "protocol": Unknown}, 1},
		{"trailwatch_outbox_messages", map[string]string{"outbox": "alarm_action", "protocol": "sns"}, 1},
		{"trailwatch_outbox_oldest_message_age_seconds", map[string]string{"outbox": "alarm_action", "protocol": "sns"}, 2},
		{"trailwatch_store_wal_size_bytes", map[string]string{}, 4096},
		{"trailwatch_store_compaction_backlog", map[string]string{}, 3},
		{"trailwatch_store_up", map[string]string{}, 1},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestStateFailureDoesNotFailTheScrape(t *testing.T) {
	for name, src := range map[string]*fakeState{
		"error": {err: errors.New("database is closed")},
		"slow":  {block: true},
	} {
		t.Run(name, func(t *testing.T) {
			tel := New(Options{Now: fixed, StateTimeout: 10 * time.Millisecond})
			tel.RegisterState(src)
			fams := scrape(t, tel)
			if got := value(t, fams, "trailwatch_store_up", map[string]string{}); got != 0 {
				t.Errorf("store_up = %v, want 0", got)
			}
			if _, ok := fams["trailwatch_alarms"]; ok {
				t.Error("alarm states exported although the query failed")
			}
			if _, ok := fams["trailwatch_ingest_events_total"]; !ok {
				t.Error("counters missing from a scrape whose state queries failed")
			}
		})
	}
}

func TestProcessCollectors(t *testing.T) {
	tel := New(Options{Process: true})
	n, err := testutil.GatherAndCount(tel.Registry(), "go_goroutines", "process_cpu_seconds_total")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d runtime/process series, want 2", n)
	}
}

func TestLint(t *testing.T) {
	problems, err := testutil.GatherAndLint(newTest(&fakeState{}).Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
