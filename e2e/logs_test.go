package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// cisRoot is the CIS root-usage pattern in the spaced form the CIS CLI text and Prowler use.
const cisRoot = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

// sample is one CloudTrail record of the shared samples, kept as its original bytes.
type sample struct {
	Message string
	IsRoot  bool // what the CIS root pattern must say, by the independent rule below
}

// loadSamples reads ../shared/data/cloudtrail/samples.jsonl (beside the project root); without it the
// test is skipped, or fails under TRAILWATCH_E2E_REQUIRE=1 (corpus.Samples).
func loadSamples(t *testing.T) []sample {
	t.Helper()
	var out []sample
	for _, rec := range corpus.Samples(t) {
		var ev map[string]any
		if err := json.Unmarshal(rec, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{Message: string(rec), IsRoot: cisRootOracle(ev)})
	}
	return out
}

// cisRootOracle is the CIS root rule written out by hand from the reference (filter-patterns.md §4.2: `!=` on
// a missing field is false; NOT EXISTS is true only when the key is absent), independent of the pattern engine.
// It is the same rule ../shared/tools/gen-cloudtrail counts with.
func cisRootOracle(ev map[string]any) bool {
	ui, ok := ev["userIdentity"].(map[string]any)
	if !ok || ui["type"] != "Root" {
		return false
	}
	if _, has := ui["invokedBy"]; has {
		return false
	}
	et, ok := ev["eventType"].(string)
	return ok && et != "AwsServiceEvent"
}

type logEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// writeEvents writes a PutLogEvents --log-events file with the samples stamped at base, base+1ms, ...
func writeEvents(t *testing.T, samples []sample, base time.Time) string {
	t.Helper()
	events := make([]logEvent, len(samples))
	for i, s := range samples {
		events[i] = logEvent{Timestamp: base.UnixMilli() + int64(i), Message: s.Message}
	}
	data, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// TestRootLoginSetupWithCLI runs the CloudWatch Logs and metrics half of the root-login setup with the aws CLI
// v2 exactly as a user would, then checks every number against what the sample events imply.
func TestRootLoginSetupWithCLI(t *testing.T) {
	v2 := findCLI(t, "v2")
	v1 := findCLI(t, "v1")
	s := startServer(t, "")
	samples := loadSamples(t)
	// Sample eventIDs repeat (documentation examples reuse them), so events are compared as a multiset of
	// messages.
	wantRoot := map[string]int{}
	nRoot := 0
	for _, smp := range samples {
		if smp.IsRoot {
			wantRoot[smp.Message]++
			nRoot++
		}
	}
	if nRoot == 0 {
		t.Fatal("the samples hold no root events: the test would prove nothing")
	}

	const group, stream = "CloudTrail/DefaultLogGroup", testAccount + "_CloudTrail_us-east-1"
	v2.run(t, s, "logs", "create-log-group", "--log-group-name", group)
	v2.run(t, s, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream)
	v2.run(t, s, "logs", "put-metric-filter", "--log-group-name", group, "--filter-name", "RootAccountUsage",
		"--filter-pattern", cisRoot,
		"--metric-transformations", "metricName=RootAccountUsage,metricNamespace=CloudTrailMetrics,metricValue=1")

	var filters struct {
		MetricFilters []struct {
			FilterName    string `json:"filterName"`
			FilterPattern string `json:"filterPattern"`
		} `json:"metricFilters"`
	}
	decode(t, v2.run(t, s, "logs", "describe-metric-filters", "--log-group-name", group), &filters)
	if len(filters.MetricFilters) != 1 || filters.MetricFilters[0].FilterPattern != cisRoot {
		t.Fatalf("describe-metric-filters = %+v, want the stored pattern verbatim", filters)
	}

	base := time.Now().Add(-5 * time.Minute).Truncate(time.Minute)
	var put struct {
		NextSequenceToken     string          `json:"nextSequenceToken"`
		RejectedLogEventsInfo json.RawMessage `json:"rejectedLogEventsInfo"`
	}
	decode(t, v2.run(t, s, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", stream,
		"--log-events", writeEvents(t, samples, base)), &put)
	if len(put.RejectedLogEventsInfo) > 0 {
		t.Fatalf("events rejected: %s", put.RejectedLogEventsInfo)
	}

	// FilterLogEvents with the same pattern returns exactly the root events.
	var filtered struct {
		Events []struct {
			Message string `json:"message"`
		} `json:"events"`
	}
	decode(t, v2.run(t, s, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", cisRoot), &filtered)
	gotRoot := map[string]int{}
	for _, e := range filtered.Events {
		gotRoot[e.Message]++
	}
	if diff := setDiff(wantRoot, gotRoot); diff != "" {
		t.Errorf("filter-log-events: %s", diff)
	}

	// The metric filter published one datapoint per matching event; both CLIs read the same sum
	// (v2 over awsQuery, v1 over awsJson 1.0).
	for _, c := range []cli{v2, v1} {
		var stats struct {
			Datapoints []struct {
				Sum         float64 `json:"Sum"`
				SampleCount float64 `json:"SampleCount"`
			} `json:"Datapoints"`
		}
		decode(t, c.run(t, s, "cloudwatch", "get-metric-statistics", "--namespace", "CloudTrailMetrics",
			"--metric-name", "RootAccountUsage", "--statistics", "Sum", "SampleCount", "--period", "60",
			"--start-time", base.Add(-time.Hour).UTC().Format(time.RFC3339),
			"--end-time", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), &stats)
		var sum, count float64
		for _, d := range stats.Datapoints {
			sum += d.Sum
			count += d.SampleCount
		}
		if sum != float64(nRoot) || count != float64(nRoot) {
			t.Errorf("CLI %s get-metric-statistics: Sum=%v SampleCount=%v, want %d (datapoints %+v)", c.name, sum, count, nRoot, stats.Datapoints)
		}
	}

	var metrics struct {
		Metrics []struct {
			Namespace  string `json:"Namespace"`
			MetricName string `json:"MetricName"`
		} `json:"Metrics"`
	}
	decode(t, v2.run(t, s, "cloudwatch", "list-metrics", "--namespace", "CloudTrailMetrics"), &metrics)
	if len(metrics.Metrics) != 1 || metrics.Metrics[0].MetricName != "RootAccountUsage" {
		t.Errorf("list-metrics = %+v, want RootAccountUsage", metrics)
	}

	// TestMetricFilter over the first messages agrees with the oracle.
	var args []string
	want := 0
	for _, smp := range samples[:20] {
		args = append(args, smp.Message)
		if smp.IsRoot {
			want++
		}
	}
	var tested struct {
		Matches []struct {
			EventNumber  int    `json:"eventNumber"`
			EventMessage string `json:"eventMessage"`
		} `json:"matches"`
	}
	decode(t, v2.run(t, s, append([]string{"logs", "test-metric-filter", "--filter-pattern", cisRoot, "--log-event-messages"}, args...)...), &tested)
	if len(tested.Matches) != want || want == 0 {
		t.Errorf("test-metric-filter matched %d of the first 20 samples, want %d", len(tested.Matches), want)
	}
}

// TestBadInputGetsAWSErrors checks that bad requests fail with AWS's error codes through the real CLI.
func TestBadInputGetsAWSErrors(t *testing.T) {
	v2 := findCLI(t, "v2")
	s := startServer(t, "")
	v2.run(t, s, "logs", "create-log-group", "--log-group-name", "g")
	v2.run(t, s, "logs", "create-log-stream", "--log-group-name", "g", "--log-stream-name", "s")
	big := strings.Repeat("x", 256*1024+1)
	bigFile := filepath.Join(t.TempDir(), "big.json")
	data, _ := json.Marshal([]logEvent{{Timestamp: time.Now().UnixMilli(), Message: big}})
	os.WriteFile(bigFile, data, 0o600)

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown group", []string{"logs", "put-log-events", "--log-group-name", "nope", "--log-stream-name", "s",
			"--log-events", fmt.Sprintf("timestamp=%d,message=hi", time.Now().UnixMilli())}, "ResourceNotFoundException"},
		{"duplicate group", []string{"logs", "create-log-group", "--log-group-name", "g"}, "ResourceAlreadyExistsException"},
		{"invalid pattern", []string{"logs", "put-metric-filter", "--log-group-name", "g", "--filter-name", "f",
			"--filter-pattern", `{ $.a = `, "--metric-transformations", "metricName=m,metricNamespace=n,metricValue=1"}, "InvalidParameterException"},
		{"oversize event", []string{"logs", "put-log-events", "--log-group-name", "g", "--log-stream-name", "s",
			"--log-events", "file://" + bigFile}, "InvalidParameterException"},
		{"unknown alarm metric period", []string{"cloudwatch", "get-metric-statistics", "--namespace", "n", "--metric-name", "m",
			"--statistics", "Sum", "--period", "7", "--start-time", "2026-01-01T00:00:00Z", "--end-time", "2026-01-01T01:00:00Z"}, "InvalidParameter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := v2.try(t, s, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want a failure naming %s", code, errOut, tc.want)
			}
		})
	}

	t.Run("wrong signature", func(t *testing.T) {
		for _, args := range [][]string{{"logs", "describe-log-groups"}, {"cloudwatch", "list-metrics"}} {
			_, errOut, code := v2.tryWith(t, s, "not-the-secret", args...)
			if code == 0 || !(strings.Contains(errOut, "InvalidSignatureException") || strings.Contains(errOut, "SignatureDoesNotMatch")) {
				t.Errorf("%v with a wrong secret: exit %d, stderr %q", args, code, errOut)
			}
		}
	})
}

// setDiff describes how two multisets of messages differ, or returns "".
func setDiff(want, got map[string]int) string {
	var missing, extra []string
	for k, n := range want {
		if got[k] < n {
			missing = append(missing, abbreviate(k))
		}
	}
	for k, n := range got {
		if want[k] < n {
			extra = append(extra, abbreviate(k))
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return fmt.Sprintf("missing %v, unexpected %v", missing, extra)
}

func abbreviate(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
