package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

// TestReadyz checks /readyz: 503 until the server is live with a store, 503 when the store does
// not answer, 200 when it does.
func TestReadyz(t *testing.T) {
	storeErr := errors.New("database is closed")
	for _, c := range []struct {
		name  string
		live  bool
		store func(context.Context) error
		want  int
	}{
		{"starting", false, func(context.Context) error { return nil }, http.StatusServiceUnavailable},
		{"no store yet", true, nil, http.StatusServiceUnavailable},
		{"store fails", true, func(context.Context) error { return storeErr }, http.StatusServiceUnavailable},
		{"store slow", true, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, http.StatusServiceUnavailable},
		{"ready", true, func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("probe without a deadline")
			}
			return nil
		}, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333"})
			if err != nil {
				t.Fatal(err)
			}
			srv.live.Store(c.live)
			srv.storeReady = c.store
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // bounds the slow store
			defer cancel()
			rec := httptest.NewRecorder()
			srv.readyz(rec, httptest.NewRequest("GET", "/readyz", nil).WithContext(ctx))
			if rec.Code != c.want {
				t.Errorf("status %d, want %d (%s)", rec.Code, c.want, rec.Body)
			}
		})
	}
}

// TestServeMetricsListener runs a server with --metrics-listen: /readyz answers on the API
// listener, /metrics only on the metrics listener, and a request on the API listener is counted.
func TestServeMetricsListener(t *testing.T) {
	o := DefaultOptions()
	o.Listen, o.MetricsListen, o.DataDir, o.AccountID = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "111122223333"
	o.AccessKeyID, o.SecretAccessKey = wiKey, wiSecret
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + srv.Addr() + "/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	// The API listener has no /metrics: the AWS handler refuses it like any unsigned GET.
	if code, body := get("http://" + srv.Addr() + "/metrics"); code == 200 || strings.Contains(body, "trailwatch_") {
		t.Errorf("API listener /metrics = %d %q", code, body)
	}
	if srv.MetricsAddr() == "" || srv.MetricsAddr() == srv.Addr() {
		t.Fatalf("metrics address %q (API %q)", srv.MetricsAddr(), srv.Addr())
	}
	code, body := get("http://" + srv.MetricsAddr() + MetricsPath)
	if code != 200 {
		t.Fatalf("metrics listener = %d %q", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"trailwatch_api_requests_total", "trailwatch_alarms", "trailwatch_outbox_messages", "trailwatch_store_wal_size_bytes",
		"trailwatch_store_commit_duration_seconds", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("family %s missing", name)
		}
	}
	found := false
	for _, m := range fams["trailwatch_api_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["service"] == telemetry.Unknown && labels["outcome"] == telemetry.OutcomeClientError && m.GetCounter().GetValue() >= 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("the refused GET /metrics on the API listener was not counted: %v", fams["trailwatch_api_requests_total"])
	}
	if code, _ := get("http://" + srv.MetricsAddr() + "/healthz"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves more than %s: /healthz = %d", MetricsPath, code)
	}
}

func TestMetricsListenMustDifferFromListen(t *testing.T) {
	o := DefaultOptions()
	o.Listen, o.MetricsListen = "127.0.0.1:4590", "127.0.0.1:4590"
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("New = %v, want a --metrics-listen error", err)
	}
}

type fakeDeliverer struct {
	st  ingest.Stats
	err error
}

func (f fakeDeliverer) Deliver(context.Context, ingest.Destination, cloudtrail.Result) (ingest.Stats, error) {
	return f.st, f.err
}

// TestObservedSink checks the per-source ingest counters of the S3, SQS, EventBridge and Firehose
// sources: stored and duplicate events and their bytes count, also after a partial failure; lag
// is observed for successful deliveries.
func TestObservedSink(t *testing.T) {
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	s := &Server{tel: telemetry.New(telemetry.Options{Now: func() time.Time { return now }})}
	rec := func(ts time.Time) cloudtrail.Record {
		r, err := cloudtrail.ParseRecord([]byte(`{"eventVersion":"1.08","eventID":"e","eventTime":"` + ts.Format(time.RFC3339) + `","recipientAccountId":"111122223333","awsRegion":"us-east-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	res := cloudtrail.Result{Records: []cloudtrail.Record{rec(now.Add(-10 * time.Second)), rec(now.Add(-time.Hour))}}
	ok := s.observeSink(fakeDeliverer{st: ingest.Stats{Records: 2, Stored: 1, Duplicates: 1, Bytes: 300}}, trailSource("https://sqs/queue"))
	if _, err := ok.Deliver(context.Background(), ingest.Destination{}, res); err != nil {
		t.Fatal(err)
	}
	failed := s.observeSink(fakeDeliverer{st: ingest.Stats{Records: 2, Stored: 1, Bytes: 100}, err: errors.New("disk full")}, telemetry.SourceFirehose)
	if _, err := failed.Deliver(context.Background(), ingest.Destination{}, res); err == nil {
		t.Fatal("the sink's error was lost")
	}
	reg := s.tel.Registry()
	for _, c := range []struct {
		src        telemetry.Source
		events     float64
		bytes      float64
		lagSamples int
	}{
		{telemetry.SourceSQS, 2, 300, 2},
		{telemetry.SourceFirehose, 1, 100, 0},
		{telemetry.SourceS3, 0, 0, 0},
	} {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		lag := 0
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				if len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != string(c.src) {
					continue
				}
				switch f.GetName() {
				case "trailwatch_ingest_events_total", "trailwatch_ingest_bytes_total":
					got[f.GetName()] = m.GetCounter().GetValue()
				case "trailwatch_ingest_lag_seconds":
					lag = int(m.GetHistogram().GetSampleCount())
				}
			}
		}
		if got["trailwatch_ingest_events_total"] != c.events || got["trailwatch_ingest_bytes_total"] != c.bytes || lag != c.lagSamples {
			t.Errorf("%s: %v, lag samples %d; want %v events, %v bytes, %d lag samples", c.src, got, lag, c.events, c.bytes, c.lagSamples)
		}
	}
	if trailSource("") != telemetry.SourceS3 {
		t.Error("a trail without a queue is not the S3 polling source")
	}
}

// TestCountMatches checks that metric filter matches exclude default values and weigh backfilled
// samples by their count, and that the wrapped hook still runs.
func TestCountMatches(t *testing.T) {
	s := &Server{tel: telemetry.New(telemetry.Options{})}
	var passed int
	hook := s.countMatches(func(ss []metrics.Sample) { passed += len(ss) })
	// A batch's AWS/Logs IncomingLogEvents and IncomingBytes samples are passed on, not counted.
	hook([]metrics.Sample{{Value: 1}, {Value: 0, Default: true}, {Value: 1, Count: 5},
		{Namespace: logs.ServiceNamespace, MetricName: "IncomingLogEvents", Value: 7}, {Namespace: logs.ServiceNamespace, MetricName: "IncomingBytes", Value: 900}})
	if passed != 5 {
		t.Errorf("wrapped hook saw %d samples, want 5", passed)
	}
	n, err := testutil.GatherAndCount(s.tel.Registry(), "trailwatch_metric_filter_matches_total")
	if err != nil || n != 1 {
		t.Fatalf("matches family: %d series, %v", n, err)
	}
	fams, err := s.tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := -1.0
	for _, f := range fams {
		if f.GetName() == "trailwatch_metric_filter_matches_total" {
			got = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got != 6 {
		t.Errorf("matches = %v, want 6", got)
	}
	if (&Server{}).countMatches(nil) != nil {
		t.Error("without telemetry the hook is not left as it was")
	}
}
