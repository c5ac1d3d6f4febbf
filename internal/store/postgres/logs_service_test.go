package postgres

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Ported from internal/store/sqlite (logs_test.go): the semantic tests of the log store, run on PostgreSQL
// so that both backends behave alike. SQLite-only tests (schema upgrades, query plans) stay there.

func openLogsDB(t testing.TB) *DB {
	t.Helper()
	return openTest(t, Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
}

// These tests run logs.Service over the real store: pagination tokens, retention on reads and the
// metric-filter cache are behaviours of the two together.

var svcScope = logs.Scope{AccountID: "111111111111", Region: "us-east-1"}

func newLogsService(t *testing.T, now *time.Time) *logs.Service {
	t.Helper()
	return logs.NewService(openLogsDB(t), func() time.Time { return *now })
}

// collectPages calls page with each NextToken, starting from "", until the token comes back empty, and
// returns every name the pages listed, in order.
func collectPages(t *testing.T, page func(tok string) (names []string, next string, err error)) []string {
	t.Helper()
	var all []string
	tok := ""
	for {
		names, next, err := page(tok)
		mustOK(t, err)
		all = append(all, names...)
		if tok = next; tok == "" {
			return all
		}
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func intp(i int) *int { return &i }

func messages(evs []logs.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func putN(t *testing.T, s *logs.Service, group, stream string, start int64, msgs ...string) {
	t.Helper()
	var evs []logs.InputLogEvent
	for i, m := range msgs {
		evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i), Message: m})
	}
	_, err := s.PutLogEvents(context.Background(), svcScope, logs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream, LogEvents: evs})
	mustOK(t, err)
}

func TestServiceGetLogEventsPaging(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	ctx := context.Background()
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	base := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "s", base, "e0", "e1", "e2", "e3", "e4")

	get := func(in logs.GetLogEventsInput) logs.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = "g", "s"
		out, err := s.GetLogEvents(ctx, svcScope, in)
		mustOK(t, err)
		return out
	}
	// Without a token: the newest page by default, the oldest with startFromHead.
	tail := get(logs.GetLogEventsInput{Limit: intp(2)})
	if !reflect.DeepEqual(messages(tail.Events), []string{"e3", "e4"}) {
		t.Fatalf("tail = %v", messages(tail.Events))
	}
	head := get(logs.GetLogEventsInput{Limit: intp(2), StartFromHead: true})
	if !reflect.DeepEqual(messages(head.Events), []string{"e0", "e1"}) {
		t.Fatalf("head = %v", messages(head.Events))
	}
	// Backward from the tail.
	back := get(logs.GetLogEventsInput{Limit: intp(2), NextToken: tail.NextBackwardToken})
	if !reflect.DeepEqual(messages(back.Events), []string{"e1", "e2"}) {
		t.Fatalf("backward = %v", messages(back.Events))
	}
	back = get(logs.GetLogEventsInput{Limit: intp(2), NextToken: back.NextBackwardToken})
	if !reflect.DeepEqual(messages(back.Events), []string{"e0"}) {
		t.Fatalf("backward 2 = %v", messages(back.Events))
	}
	end := get(logs.GetLogEventsInput{Limit: intp(2), NextToken: back.NextBackwardToken})
	if len(end.Events) != 0 || end.NextBackwardToken != back.NextBackwardToken {
		t.Fatalf("at the head the same backward token comes back: %+v", end)
	}
	// Forward from the head to the end, then the same forward token comes back.
	fwd := get(logs.GetLogEventsInput{Limit: intp(2), NextToken: head.NextForwardToken})
	if !reflect.DeepEqual(messages(fwd.Events), []string{"e2", "e3"}) {
		t.Fatalf("forward = %v", messages(fwd.Events))
	}
	fwd = get(logs.GetLogEventsInput{Limit: intp(2), NextToken: fwd.NextForwardToken})
	if !reflect.DeepEqual(messages(fwd.Events), []string{"e4"}) {
		t.Fatalf("forward 2 = %v", messages(fwd.Events))
	}
	end = get(logs.GetLogEventsInput{Limit: intp(2), NextToken: fwd.NextForwardToken})
	if len(end.Events) != 0 || end.NextForwardToken != fwd.NextForwardToken {
		t.Fatalf("at the end the same forward token comes back: %+v", end)
	}
	// New events show up through the token the client kept polling with.
	putN(t, s, "g", "s", base+10, "e5")
	more := get(logs.GetLogEventsInput{NextToken: end.NextForwardToken})
	if !reflect.DeepEqual(messages(more.Events), []string{"e5"}) {
		t.Fatalf("after new events = %v", messages(more.Events))
	}
	// From an exhausted forward position, going backward returns what precedes it, e4 included.
	back = get(logs.GetLogEventsInput{Limit: intp(1), NextToken: end.NextBackwardToken})
	if !reflect.DeepEqual(messages(back.Events), []string{"e4"}) {
		t.Fatalf("backward from the end = %v", messages(back.Events))
	}
	// Time window: startTime inclusive, endTime exclusive.
	win := get(logs.GetLogEventsInput{StartTime: base + 1, EndTime: base + 3, StartFromHead: true})
	if !reflect.DeepEqual(messages(win.Events), []string{"e1", "e2"}) {
		t.Fatalf("window = %v", messages(win.Events))
	}
	_, err := s.GetLogEvents(ctx, svcScope, logs.GetLogEventsInput{LogGroupName: "g", LogStreamName: "nope"})
	if err != logs.ErrLogStreamNotFound {
		t.Fatalf("missing stream: %v", err)
	}
}

func TestServiceFilterLogEventsPaging(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	ctx := context.Background()
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "a"))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "b"))
	base := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "a", base, "ERROR a0", "INFO a1", "ERROR a2")
	putN(t, s, "g", "b", base, "ERROR b0", "ERROR b1")

	var got []string
	token := ""
	pages := 0
	for {
		out, err := s.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "g", FilterPattern: "ERROR", Limit: intp(2), NextToken: token})
		mustOK(t, err)
		got = append(got, messages(out.Events)...)
		pages++
		if out.NextToken == "" {
			break
		}
		token = out.NextToken
	}
	// Interleaved by timestamp, then ingestion order.
	if want := []string{"ERROR a0", "ERROR b0", "ERROR b1", "ERROR a2"}; !reflect.DeepEqual(got, want) || pages > 3 {
		t.Fatalf("filtered = %v in %d pages, want %v", got, pages, want)
	}
	out, err := s.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "g", LogStreamNamePrefix: "b", FilterPattern: "b1"})
	mustOK(t, err)
	if !reflect.DeepEqual(messages(out.Events), []string{"ERROR b1"}) || out.Events[0].LogStreamName != "b" {
		t.Fatalf("prefix = %+v", out.Events)
	}
	_, err = s.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "nope"})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("missing group: %v", err)
	}
}

func TestServiceRetention(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	ctx := context.Background()
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	day := 24 * time.Hour
	putN(t, s, "g", "s", now.Add(-3*day).UnixMilli(), "three days old")
	putN(t, s, "g", "s", now.Add(-time.Hour).UnixMilli(), "recent")
	mustOK(t, s.PutRetentionPolicy(ctx, svcScope, "g", 1))

	// Reads hide expired events before the sweep deletes them.
	out, err := s.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "g"})
	mustOK(t, err)
	if !reflect.DeepEqual(messages(out.Events), []string{"recent"}) {
		t.Fatalf("filter with retention = %v", messages(out.Events))
	}
	ge, err := s.GetLogEvents(ctx, svcScope, logs.GetLogEventsInput{LogGroupName: "g", LogStreamName: "s", StartFromHead: true})
	mustOK(t, err)
	if !reflect.DeepEqual(messages(ge.Events), []string{"recent"}) {
		t.Fatalf("get with retention = %v", messages(ge.Events))
	}
	n, err := s.ExpireEvents(ctx, now)
	mustOK(t, err)
	if n != 1 {
		t.Fatalf("expired %d events, want 1", n)
	}
	// Removing the policy cannot bring deleted events back.
	mustOK(t, s.DeleteRetentionPolicy(ctx, svcScope, "g"))
	out, _ = s.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "g"})
	if !reflect.DeepEqual(messages(out.Events), []string{"recent"}) {
		t.Fatalf("after sweep and policy removal = %v", messages(out.Events))
	}
	g, err := s.DescribeLogGroups(ctx, svcScope, logs.DescribeLogGroupsInput{})
	mustOK(t, err)
	if g.LogGroups[0].RetentionInDays != 0 || g.LogGroups[0].StoredBytes != int64(len("recent")) {
		t.Fatalf("group after expiry = %+v", g.LogGroups[0])
	}
}

func TestServiceDescribePaging(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	ctx := context.Background()
	for i := range 5 {
		mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: fmt.Sprintf("g%d", i)}))
	}
	for i := range 5 {
		mustOK(t, s.CreateLogStream(ctx, svcScope, "g0", fmt.Sprintf("s%d", i)))
		mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g1", FilterName: fmt.Sprintf("f%d", i),
			MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}}))
	}
	groups := collectPages(t, func(tok string) ([]string, string, error) {
		out, err := s.DescribeLogGroups(ctx, svcScope, logs.DescribeLogGroupsInput{Limit: intp(2), NextToken: tok})
		var names []string
		for _, g := range out.LogGroups {
			names = append(names, g.Name)
		}
		return names, out.NextToken, err
	})
	if !reflect.DeepEqual(groups, []string{"g0", "g1", "g2", "g3", "g4"}) {
		t.Fatalf("groups = %v", groups)
	}
	streams := collectPages(t, func(tok string) ([]string, string, error) {
		out, err := s.DescribeLogStreams(ctx, svcScope, logs.DescribeLogStreamsInput{LogGroupName: "g0", Descending: true, Limit: intp(2), NextToken: tok})
		var names []string
		for _, st := range out.LogStreams {
			names = append(names, st.Name)
		}
		return names, out.NextToken, err
	})
	if !reflect.DeepEqual(streams, []string{"s4", "s3", "s2", "s1", "s0"}) {
		t.Fatalf("streams = %v", streams)
	}
	filters := collectPages(t, func(tok string) ([]string, string, error) {
		out, err := s.DescribeMetricFilters(ctx, svcScope, logs.DescribeMetricFiltersInput{Limit: intp(3), NextToken: tok})
		var names []string
		for _, f := range out.MetricFilters {
			names = append(names, f.FilterName)
		}
		return names, out.NextToken, err
	})
	if !reflect.DeepEqual(filters, []string{"f0", "f1", "f2", "f3", "f4"}) {
		t.Fatalf("filters = %v", filters)
	}
	err := s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "missing", FilterName: "f",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("filter on missing group: %v", err)
	}
	_, err = s.DescribeMetricFilters(ctx, svcScope, logs.DescribeMetricFiltersInput{LogGroupName: "missing"})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("describe filters of missing group: %v", err)
	}
}

// filterSamples drops the AWS/Logs samples (logs.ServiceNamespace) that count every batch's
// events, for tests about metric filters.
func filterSamples(ss []metrics.Sample) []metrics.Sample {
	var out []metrics.Sample
	for _, s := range ss {
		if s.Namespace != logs.ServiceNamespace {
			out = append(out, s)
		}
	}
	return out
}

// TestServiceFilterCache checks that the per-group metric filter cache follows changes made
// through the service: new filters publish at once, deleted ones stop, and a group deleted and
// recreated under the same name starts without filters.
func TestServiceFilterCache(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newLogsService(t, &now)
	var got []metrics.Sample
	s.OnSamples = func(ss []metrics.Sample) { got = append(got, filterSamples(ss)...) }
	ctx := context.Background()
	setup := func() {
		mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
		mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	}
	setup()
	ts := now.Add(-time.Minute).UnixMilli()
	putN(t, s, "g", "s", ts, "ERROR one") // warms the cache with no filters
	mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "errors", FilterPattern: "ERROR",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}}))
	putN(t, s, "g", "s", ts, "ERROR two")
	if len(got) != 1 || got[0].MetricName != "Errors" {
		t.Fatalf("after PutMetricFilter: %+v", got)
	}
	mustOK(t, s.DeleteMetricFilter(ctx, svcScope, "g", "errors"))
	putN(t, s, "g", "s", ts, "ERROR three")
	if len(got) != 1 {
		t.Fatalf("after DeleteMetricFilter: %+v", got)
	}
	mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "errors", FilterPattern: "ERROR",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}}))
	mustOK(t, s.DeleteLogGroup(ctx, svcScope, "g"))
	setup()
	putN(t, s, "g", "s", ts, "ERROR four")
	if len(got) != 1 {
		t.Fatalf("after the group was recreated: %+v", got)
	}
}

// TestExpireEventsChunks sweeps more blocks than one transaction deletes, and a block that holds
// events on both sides of the cutoff: every chunk commits, the straddling block keeps its newer
// events, and the counters end right.
func TestExpireEventsChunks(t *testing.T) {
	db := openLogsDB(t)
	ctx := context.Background()
	sc := logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
	mustOK(t, db.CreateLogGroup(ctx, sc, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	mustOK(t, db.CreateLogStream(ctx, sc, "g", logs.LogStream{Name: "s"}))
	const (
		hour = 60 * 60 * 1000
		day  = 24 * hour
	)
	now := int64(1000*day + hour/2) // the cutoff is half way through an hour bucket
	cutoff := now - day
	old := 2*expireBlocks + 1
	b := logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", IngestionTime: now}
	for i := range old { // one block per hour
		b.Events = append(b.Events, logs.InputLogEvent{Timestamp: cutoff - int64(old-i)*hour, Message: "old"})
	}
	b.Events = append(b.Events, logs.InputLogEvent{Timestamp: cutoff - 1, Message: "old"},
		logs.InputLogEvent{Timestamp: cutoff, Message: "new!"}, logs.InputLogEvent{Timestamp: now, Message: "new!"})
	_, err := db.AppendEvents(ctx, sc, b)
	mustOK(t, err)
	mustOK(t, db.SetRetention(ctx, sc, "g", 1))
	n, err := db.ExpireEvents(ctx, now)
	mustOK(t, err)
	if n != int64(old+1) {
		t.Fatalf("expired %d, want %d", n, old+1)
	}
	st, err := db.GetLogStream(ctx, sc, "g", "s")
	mustOK(t, err)
	g, err := db.GetLogGroup(ctx, sc, "g")
	mustOK(t, err)
	if st.StoredBytes != 8 || g.StoredBytes != 8 {
		t.Fatalf("stored bytes: stream %d, group %d, want 8", st.StoredBytes, g.StoredBytes)
	}
	var got []int64
	mustOK(t, db.ScanEvents(ctx, sc, logs.EventQuery{LogGroupName: "g"}, func(e logs.Event) bool {
		got = append(got, e.Timestamp)
		return true
	}))
	if !slices.Equal(got, []int64{cutoff, now}) {
		t.Fatalf("events left at %v, want [%d %d]", got, cutoff, now)
	}
	if n, err := db.ExpireEvents(ctx, now); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
}

// cpuTime is the user plus system CPU time the process has used.
