package app

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// TestBackfillSharedAggregation stores events before a metric filter with a dimension and a
// value exists, then events after it (one of them a late delivery with an earlier timestamp), and
// backfills by default both ways: the CLI (FilterLogEvents pages, --dry-run) and the server
// (logs.Service.Backfill, which BackfillMetricFilter runs) produce the same datapoints line for
// line, end at the filter's creation time, and skip what the filter counted live. An --end after
// the creation time is accepted with a warning.
func TestBackfillSharedAggregation(t *testing.T) {
	w, sc := wireAppGroup(t)
	ctx := context.Background()
	put := func(evs ...logs.InputLogEvent) {
		t.Helper()
		if _, err := w.logs.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: "app", LogStreamName: "s", LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-40 * time.Minute).Truncate(time.Minute).UnixMilli()
	var before []logs.InputLogEvent
	for i := range 30 {
		// Three minutes, two operations, values 1..3, and a non-matching event now and then.
		msg := fmt.Sprintf(`{"op":"%s","ms":%d}`, []string{"get", "put"}[i%2], 1+i%3)
		if i%7 == 0 {
			msg = `{"other":true}`
		}
		before = append(before, logs.InputLogEvent{Timestamp: base + int64(i)*6000, Message: msg})
	}
	put(before...)
	if err := w.logs.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "app", FilterName: "latency", FilterPattern: `{ $.ms > 0 }`,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Latency", MetricNamespace: "App", MetricValue: "$.ms",
			Unit: "Milliseconds", Dimensions: map[string]string{"Op": "$.op"}}}}); err != nil {
		t.Fatal(err)
	}
	filters, err := w.logs.DescribeMetricFilters(ctx, sc, logs.DescribeMetricFiltersInput{LogGroupName: "app"})
	if err != nil {
		t.Fatal(err)
	}
	created := filters.MetricFilters[0].CreationTime
	for time.Now().UnixMilli() <= created { // events stored in the creation millisecond count as older
		runtime.Gosched()
	}
	// Counted live: a late delivery of an older event, and a new one.
	put(logs.InputLogEvent{Timestamp: base + 1000, Message: `{"op":"get","ms":50}`})
	put(logs.InputLogEvent{Timestamp: time.Now().UnixMilli(), Message: `{"op":"get","ms":70}`})

	t.Setenv("AWS_ACCESS_KEY_ID", wiKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", wiSecret)
	t.Setenv("AWS_REGION", wiRegion)
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"backfill", "--endpoint", w.url, "--log-group", "app", "--filter-name", "latency", "--start", "2h", "--dry-run"}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("backfill --dry-run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	cli := stdout.String()
	if !strings.Contains(cli, "backfill up to "+time.UnixMilli(created).UTC().Format(time.RFC3339Nano)+", since when the filter has counted events live") ||
		!strings.Contains(cli, "1 events skipped") {
		t.Fatalf("CLI output:\n%s", cli)
	}

	res, err := w.logs.Backfill(ctx, sc, logs.BackfillInput{LogGroupName: "app", FilterName: "latency", StartTime: time.Now().Add(-2 * time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	if res.EndTime != created || res.Events != 31 || res.Skipped != 1 {
		t.Fatalf("server backfill: end %d (created %d), %d events, %d skipped", res.EndTime, created, res.Events, res.Skipped)
	}
	var server strings.Builder
	sum := 0.0
	for _, d := range backfillDatums(res.Samples) {
		fmt.Fprintf(&server, "%s value=%g count=%g %v\n", d.Timestamp.Format(time.RFC3339), d.Values[0], d.Counts[0], dimsText(d.Dimensions))
		sum += d.Values[0] * d.Counts[0]
	}
	var cliLines []string
	for _, l := range strings.SplitAfter(cli, "\n") {
		if strings.Contains(l, " value=") {
			cliLines = append(cliLines, l)
		}
	}
	if got := strings.Join(cliLines, ""); got != server.String() || len(cliLines) < 6 {
		t.Fatalf("CLI datapoints:\n%s\nserver datapoints:\n%s", got, server.String())
	}
	if !strings.Contains(cli, fmt.Sprintf("%d datapoints, sum %g (dry run", len(cliLines), sum)) {
		t.Fatalf("CLI summary disagrees with the server's sum %g:\n%s", sum, cli)
	}

	stdout.Reset()
	stderr.Reset()
	code = Main(ctx, []string{"backfill", "--endpoint", w.url, "--log-group", "app", "--filter-name", "latency", "--start", "2h", "--end", "0s", "--dry-run"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "warning: --end") || !strings.Contains(stderr.String(), "since when the filter counted events live") {
		t.Fatalf("--end after creation: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// The CLI asks FilterLogEvents for matches only: 25 before, 2 counted live.
	if !strings.Contains(stdout.String(), "27 events examined") || !strings.Contains(stdout.String(), "2 events skipped") {
		t.Fatalf("--end now: %s", stdout.String())
	}
}

// TestBackfillAfterReputCLIAndServer: after a metric filter counted an event live and was put
// again unchanged (a re-run setup script), the CLI and the server both end a default backfill at
// the time since which the filter has been live, not its new creation time, skip the event it
// counted, and publish the same datapoints. The CLI learns that time from trailwatchLiveSince in
// DescribeMetricFilters.
func TestBackfillAfterReputCLIAndServer(t *testing.T) {
	w, sc := wireAppGroup(t)
	ctx := context.Background()
	put := func(msg string) {
		t.Helper()
		if _, err := w.logs.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: "app", LogStreamName: "s",
			LogEvents: []logs.InputLogEvent{{Timestamp: time.Now().Add(-time.Minute).UnixMilli(), Message: msg}}}); err != nil {
			t.Fatal(err)
		}
	}
	putFilter := func() int64 {
		t.Helper()
		if err := w.logs.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "app", FilterName: "errors", FilterPattern: "ERROR",
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}}); err != nil {
			t.Fatal(err)
		}
		filters, err := w.logs.DescribeMetricFilters(ctx, sc, logs.DescribeMetricFiltersInput{LogGroupName: "app"})
		if err != nil {
			t.Fatal(err)
		}
		created := filters.MetricFilters[0].CreationTime
		for time.Now().UnixMilli() <= created+1 { // keep the steps in distinct milliseconds
			runtime.Gosched()
		}
		return created
	}
	put("ERROR before the filter")
	live := putFilter()
	put("ERROR counted live")
	if again := putFilter(); again == live {
		t.Fatalf("the re-put has the creation time of the first put, %d", live)
	}

	t.Setenv("AWS_ACCESS_KEY_ID", wiKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", wiSecret)
	t.Setenv("AWS_REGION", wiRegion)
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"backfill", "--endpoint", w.url, "--log-group", "app", "--filter-name", "errors", "--start", "2h", "--dry-run"}, nil, &stdout, &stderr)
	cli := stdout.String()
	if code != 0 || !strings.Contains(cli, "backfill up to "+time.UnixMilli(live).UTC().Format(time.RFC3339Nano)+",") ||
		!strings.Contains(cli, "1 events skipped") || !strings.Contains(cli, "2 events examined, 1 datapoints, sum 1 ") {
		t.Fatalf("CLI after an identical re-put: exit %d\n%s%s", code, cli, stderr.String())
	}
	res, err := w.logs.Backfill(ctx, sc, logs.BackfillInput{LogGroupName: "app", FilterName: "errors", StartTime: time.Now().Add(-2 * time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	var server strings.Builder
	for _, d := range backfillDatums(res.Samples) {
		fmt.Fprintf(&server, "%s value=%g count=%g %v\n", d.Timestamp.Format(time.RFC3339), d.Values[0], d.Counts[0], dimsText(d.Dimensions))
	}
	if res.EndTime != live || res.Events != 2 || res.Skipped != 1 || !strings.Contains(cli, server.String()) {
		t.Fatalf("server after an identical re-put: end %d (live since %d), %d events, datapoints\n%sCLI:\n%s", res.EndTime, live, res.Events, server.String(), cli)
	}
}

// TestBackfillAfterReenableCLIAndServer: a filter disabled by its dimensions' cardinality and
// enabled again by an identical put is backfilled, by default, over the events stored while it was
// disabled and none it counted live, by the CLI (which reads the paused period from
// DescribeMetricFilters) and the server alike.
func TestBackfillAfterReenableCLIAndServer(t *testing.T) {
	w, sc := wireAppGroup(t)
	ctx := context.Background()
	step := func() { // keeps the steps in distinct milliseconds
		for t0 := time.Now().UnixMilli(); time.Now().UnixMilli() <= t0+1; {
			runtime.Gosched()
		}
	}
	put := func(msgs ...string) {
		t.Helper()
		var evs []logs.InputLogEvent
		for _, m := range msgs {
			evs = append(evs, logs.InputLogEvent{Timestamp: time.Now().Add(-time.Minute).UnixMilli(), Message: m})
		}
		if _, err := w.logs.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: "app", LogStreamName: "s", LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
		step()
	}
	putFilter := func() {
		t.Helper()
		if err := w.logs.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "app", FilterName: "users", FilterPattern: "{ $.user = * }",
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1",
				Dimensions: map[string]string{"User": "$.user"}}}}); err != nil {
			t.Fatal(err)
		}
		step()
	}
	putFilter()
	put(`{"user":"live"}`)
	var many []string
	for i := range 1001 {
		many = append(many, fmt.Sprintf(`{"user":"u%d"}`, i))
	}
	put(many...) // disables the filter
	put(`{"user":"disabled1"}`, `{"user":"disabled2"}`)
	putFilter() // enables it again
	put(`{"user":"live again"}`)

	t.Setenv("AWS_ACCESS_KEY_ID", wiKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", wiSecret)
	t.Setenv("AWS_REGION", wiRegion)
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"backfill", "--endpoint", w.url, "--log-group", "app", "--filter-name", "users", "--start", "2h", "--dry-run"}, nil, &stdout, &stderr)
	cli := stdout.String()
	if code != 0 || !strings.Contains(cli, "and the events stored while the filter was disabled") ||
		!strings.Contains(cli, "2 datapoints, sum 2 ") || !strings.Contains(cli, "User=disabled1") || !strings.Contains(cli, "User=disabled2") {
		t.Fatalf("CLI after re-enabling: exit %d\n%s%s", code, cli, stderr.String())
	}
	res, err := w.logs.Backfill(ctx, sc, logs.BackfillInput{LogGroupName: "app", FilterName: "users", StartTime: time.Now().Add(-2 * time.Hour).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	var server strings.Builder
	for _, d := range backfillDatums(res.Samples) {
		fmt.Fprintf(&server, "%s value=%g count=%g %v\n", d.Timestamp.Format(time.RFC3339), d.Values[0], d.Counts[0], dimsText(d.Dimensions))
	}
	if len(res.Samples) != 2 || res.PausedUntil == 0 || res.EndTime != res.PausedUntil || !strings.Contains(cli, server.String()) {
		t.Fatalf("server after re-enabling: %d samples, end %d, paused until %d; datapoints\n%sCLI:\n%s", len(res.Samples), res.EndTime, res.PausedUntil, server.String(), cli)
	}
}

// wireAppGroup starts the test server (wire) with the log group "app" and its stream "s", in which
// the backfill tests store their events.
func wireAppGroup(t *testing.T) (*wired, logs.Scope) {
	t.Helper()
	w := wire(t, DefaultIngestOptions())
	ctx := context.Background()
	sc := logs.Scope{AccountID: wiAccount, Region: wiRegion}
	if err := w.logs.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "app"}); err != nil {
		t.Fatal(err)
	}
	if err := w.logs.CreateLogStream(ctx, sc, "app", "s"); err != nil {
		t.Fatal(err)
	}
	return w, sc
}
