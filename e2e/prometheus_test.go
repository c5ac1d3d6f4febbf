package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeMetrics GETs url (a /metrics endpoint) and parses it with Prometheus's own text parser.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text exposition format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, body)
	}
	return fams
}

// series returns the value of the series of family name with (at least) the given labels; for a
// histogram, its sample count. A missing series is 0.
func series(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

// TestPrometheusMetrics starts the binary with --metrics-listen, drives PutLogEvents through a
// metric filter and an alarm, and checks with Prometheus's parser that the families are there and
// move with the traffic; and that the API listener serves no /metrics.
func TestPrometheusMetrics(t *testing.T) {
	ctx := context.Background()
	metricsAddr := freeAddr(t)
	s := startServer(t, "", "--metrics-listen", metricsAddr)
	url := "http://" + metricsAddr + "/metrics"

	// The API listener: no metrics (the AWS handler's error, as before), but /readyz.
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 || strings.Contains(string(body), "trailwatch_") || strings.Contains(string(body), "go_goroutines") {
		t.Errorf("API listener GET /metrics = %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/readyz = %d", resp.StatusCode)
	}

	before := scrapeMetrics(t, url)
	for _, name := range []string{
		"trailwatch_ingest_events_total", "trailwatch_ingest_bytes_total", "trailwatch_api_requests_total",
		"trailwatch_alarms", "trailwatch_outbox_messages", "trailwatch_outbox_oldest_message_age_seconds",
		"trailwatch_store_wal_size_bytes", "trailwatch_store_up", "go_goroutines", "go_memstats_heap_alloc_bytes",
		"process_cpu_seconds_total", "process_resident_memory_bytes",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("family %s missing from the first scrape", name)
		}
	}

	lc, cc := logsClient(s), cwClient(s)
	setupRootFilter(t, ctx, lc, "CloudTrail/DefaultLogGroup", "s")
	if _, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("RootAccountUsage"),
		MetricName: aws.String("RootAccountUsage"), Namespace: aws.String("CloudTrailMetrics"), Statistic: cwtypes.StatisticSum,
		Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	eventTime := now.Add(-3 * time.Second)
	root := `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
		`"eventTime":"` + eventTime.UTC().Format(time.RFC3339) + `","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"203.0.113.7","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
	other := strings.Replace(root, `"type":"Root"`, `"type":"IAMUser"`, 1)
	if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("CloudTrail/DefaultLogGroup"), LogStreamName: aws.String("s"),
		LogEvents: []logtypes.InputLogEvent{{Timestamp: aws.Int64(eventTime.UnixMilli()), Message: aws.String(root)},
			{Timestamp: aws.Int64(eventTime.UnixMilli()), Message: aws.String(other)}}}); err != nil {
		t.Fatal(err)
	}

	// The alarm goes to ALARM on the datapoint (early evaluation); wait for it, then scrape.
	deadline := time.Now().Add(20 * time.Second)
	var after map[string]*dto.MetricFamily
	for {
		after = scrapeMetrics(t, url)
		if series(after, "trailwatch_alarms", "state", "ALARM") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm state gauge never showed the alarm in ALARM: %v", after["trailwatch_alarms"])
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"trailwatch_ingest_events_total", []string{"source", "putlogevents"}, 2},
		{"trailwatch_ingest_bytes_total", []string{"source", "putlogevents"}, float64(len(root) + len(other))},
		{"trailwatch_ingest_lag_seconds", []string{"source", "putlogevents"}, 2},
		{"trailwatch_metric_filter_matches_total", nil, 1},
		{"trailwatch_api_requests_total", []string{"service", "logs", "operation", "PutLogEvents", "outcome", "success"}, 1},
		{"trailwatch_api_requests_total", []string{"service", "logs", "operation", "PutMetricFilter", "outcome", "success"}, 1},
		{"trailwatch_api_requests_total", []string{"service", "monitoring", "operation", "PutMetricAlarm", "outcome", "success"}, 1},
		{"trailwatch_alarms", []string{"state", "ALARM"}, 1},
	} {
		if got := series(after, c.name, c.labels...) - series(before, c.name, c.labels...); got != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.delta)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"trailwatch_alarm_evaluations_total", []string{"kind", "early", "outcome", "ok"}},
		{"trailwatch_alarm_evaluation_duration_seconds", []string{"kind", "early"}},
		{"trailwatch_store_commit_duration_seconds", nil},
	} {
		if got := series(after, c.name, c.labels...) - series(before, c.name, c.labels...); got < 1 {
			t.Errorf("%s%v moved by %v, want at least 1", c.name, c.labels, got)
		}
	}
	// The lag of an event that happened 3 s before it was sent is under a minute.
	for _, m := range after["trailwatch_ingest_lag_seconds"].GetMetric() {
		if m.GetLabel()[0].GetValue() != "putlogevents" {
			continue
		}
		for _, b := range m.GetHistogram().GetBucket() {
			if b.GetUpperBound() == 60 && b.GetCumulativeCount() != 2 {
				t.Errorf("events with a lag up to 60 s: %d, want 2", b.GetCumulativeCount())
			}
		}
	}
}
