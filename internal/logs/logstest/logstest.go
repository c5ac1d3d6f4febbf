// Package logstest is the conformance suite of logs.Store: every storage backend runs Run, so the
// logs service can rely on the same contract whatever stores its data. RunBackend adds the tests
// that need more of a backend than its logs.Store (logs.Service over it, the metric datapoints it
// keeps, a restart), and BenchPutLogEvents and BenchScanEvents are the benchmarks every backend
// runs under one name, so that one test or benchmark holds every backend to one behaviour.
package logstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

var (
	scopeA = logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
	scopeB = logs.Scope{AccountID: "222222222222", Region: "us-east-1"}
	scopeC = logs.Scope{AccountID: "111111111111", Region: "eu-west-1"}
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) logs.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s logs.Store)
	}{
		{"Groups", testGroups},
		{"GroupScopes", testGroupScopes},
		{"Tags", testTags},
		{"Streams", testStreams},
		{"StreamOrder", testStreamOrder},
		{"Append", testAppend},
		{"AppendUnique", testAppendUnique},
		{"DeleteStreamFreesKeys", testDeleteStreamFreesKeys},
		{"Scan", testScan},
		{"DeleteCascades", testDeleteCascades},
		{"Expire", testExpire},
		{"MetricFilters", testMetricFilters},
		{"NonASCIIPrefixes", testNonASCIIPrefixes},
		{"MetricFilterStatus", testMetricFilterStatus},
		{"MetricFilterLiveSince", testMetricFilterLiveSince},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func names[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func groupName(g logs.LogGroup) string   { return g.Name }
func streamName(s logs.LogStream) string { return s.Name }

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

func testGroups(t *testing.T, s logs.Store) {
	ctx := context.Background()
	for i, n := range []string{"b/two", "a/one", "c/three", "a/four"} {
		must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: n, CreationTime: int64(1000 + i), LogGroupClass: "STANDARD"}))
	}
	wantErr(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "a/one", LogGroupClass: "STANDARD"}), logs.ErrLogGroupExists)

	g, err := s.GetLogGroup(ctx, scopeA, "a/one")
	must(t, err)
	equal(t, "group", g, logs.LogGroup{Name: "a/one", CreationTime: 1001, LogGroupClass: "STANDARD"})
	_, err = s.GetLogGroup(ctx, scopeA, "nope")
	wantErr(t, err, logs.ErrLogGroupNotFound)

	all, err := s.ListLogGroups(ctx, scopeA, logs.GroupQuery{})
	must(t, err)
	equal(t, "all", names(all, groupName), []string{"a/four", "a/one", "b/two", "c/three"})
	pre, err := s.ListLogGroups(ctx, scopeA, logs.GroupQuery{Prefix: "a/"})
	must(t, err)
	equal(t, "prefix", names(pre, groupName), []string{"a/four", "a/one"})
	sub, err := s.ListLogGroups(ctx, scopeA, logs.GroupQuery{Contains: "o"})
	must(t, err)
	equal(t, "contains", names(sub, groupName), []string{"a/four", "a/one", "b/two"})
	page, err := s.ListLogGroups(ctx, scopeA, logs.GroupQuery{After: "a/one", Limit: 1})
	must(t, err)
	equal(t, "page", names(page, groupName), []string{"b/two"})

	must(t, s.SetRetention(ctx, scopeA, "b/two", 7))
	g, err = s.GetLogGroup(ctx, scopeA, "b/two")
	must(t, err)
	equal(t, "retention", g.RetentionInDays, 7)
	must(t, s.SetRetention(ctx, scopeA, "b/two", 0))
	g, _ = s.GetLogGroup(ctx, scopeA, "b/two")
	equal(t, "retention removed", g.RetentionInDays, 0)
	wantErr(t, s.SetRetention(ctx, scopeA, "nope", 7), logs.ErrLogGroupNotFound)

	must(t, s.DeleteLogGroup(ctx, scopeA, "b/two"))
	wantErr(t, s.DeleteLogGroup(ctx, scopeA, "b/two"), logs.ErrLogGroupNotFound)
	all, _ = s.ListLogGroups(ctx, scopeA, logs.GroupQuery{})
	equal(t, "after delete", names(all, groupName), []string{"a/four", "a/one", "c/three"})
}

func testGroupScopes(t *testing.T, s logs.Store) {
	ctx := context.Background()
	for _, sc := range []logs.Scope{scopeA, scopeB, scopeC} {
		must(t, s.CreateLogGroup(ctx, sc, logs.LogGroup{Name: "shared", LogGroupClass: "STANDARD", CreationTime: 1}))
	}
	must(t, s.CreateLogGroup(ctx, scopeB, logs.LogGroup{Name: "only-b", LogGroupClass: "STANDARD"}))
	a, _ := s.ListLogGroups(ctx, scopeA, logs.GroupQuery{})
	equal(t, "scope A", names(a, groupName), []string{"shared"})
	_, err := s.GetLogGroup(ctx, scopeC, "only-b")
	wantErr(t, err, logs.ErrLogGroupNotFound)
	must(t, s.DeleteLogGroup(ctx, scopeA, "shared"))
	_, err = s.GetLogGroup(ctx, scopeB, "shared")
	must(t, err)
}

func testTags(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD", Tags: map[string]string{"env": "testing1"}}))
	must(t, s.TagLogGroup(ctx, scopeA, "g", map[string]string{"test1": "val1", "env": "testing2"}))
	g, err := s.GetLogGroup(ctx, scopeA, "g")
	must(t, err)
	equal(t, "tags", g.Tags, map[string]string{"env": "testing2", "test1": "val1"})
	must(t, s.UntagLogGroup(ctx, scopeA, "g", []string{"env", "absent"}))
	g, _ = s.GetLogGroup(ctx, scopeA, "g")
	equal(t, "tags after untag", g.Tags, map[string]string{"test1": "val1"})
	wantErr(t, s.TagLogGroup(ctx, scopeA, "nope", map[string]string{"a": "b"}), logs.ErrLogGroupNotFound)
	wantErr(t, s.UntagLogGroup(ctx, scopeA, "nope", []string{"a"}), logs.ErrLogGroupNotFound)
}

func testStreams(t *testing.T, s logs.Store) {
	ctx := context.Background()
	wantErr(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: "s"}), logs.ErrLogGroupNotFound)
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	for _, n := range []string{"web-2", "web-1", "db-1"} {
		must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: n, CreationTime: 5}))
	}
	wantErr(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: "web-1"}), logs.ErrLogStreamExists)
	st, err := s.GetLogStream(ctx, scopeA, "g", "web-1")
	must(t, err)
	equal(t, "stream", st, logs.LogStream{Name: "web-1", CreationTime: 5})
	_, err = s.GetLogStream(ctx, scopeA, "g", "nope")
	wantErr(t, err, logs.ErrLogStreamNotFound)
	_, err = s.GetLogStream(ctx, scopeA, "nope", "web-1")
	wantErr(t, err, logs.ErrLogGroupNotFound)

	list, err := s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{})
	must(t, err)
	equal(t, "by name", names(list, streamName), []string{"db-1", "web-1", "web-2"})
	list, _ = s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{Prefix: "web", Descending: true})
	equal(t, "prefix desc", names(list, streamName), []string{"web-2", "web-1"})
	list, _ = s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{After: &logs.StreamCursor{Name: "db-1"}, Limit: 1})
	equal(t, "page", names(list, streamName), []string{"web-1"})
	list, _ = s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{Descending: true, After: &logs.StreamCursor{Name: "web-1"}})
	equal(t, "desc page", names(list, streamName), []string{"db-1"})
	_, err = s.ListLogStreams(ctx, scopeA, "nope", logs.StreamQuery{})
	wantErr(t, err, logs.ErrLogGroupNotFound)

	must(t, s.DeleteLogStream(ctx, scopeA, "g", "web-2"))
	wantErr(t, s.DeleteLogStream(ctx, scopeA, "g", "web-2"), logs.ErrLogStreamNotFound)
	wantErr(t, s.DeleteLogStream(ctx, scopeA, "nope", "web-2"), logs.ErrLogGroupNotFound)
}

func appendEvents(t *testing.T, s logs.Store, sc logs.Scope, group, stream string, ingest int64, ts ...int64) int64 {
	t.Helper()
	b := logs.AppendBatch{LogGroupName: group, LogStreamName: stream, IngestionTime: ingest}
	for _, x := range ts {
		b.Events = append(b.Events, logs.InputLogEvent{Timestamp: x, Message: fmt.Sprintf("%s@%d", stream, x)})
	}
	seq, err := s.AppendEvents(context.Background(), sc, b)
	must(t, err)
	return seq
}

func testStreamOrder(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	for _, n := range []string{"a", "b", "c"} {
		must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: n}))
	}
	appendEvents(t, s, scopeA, "g", "a", 1, 300)
	appendEvents(t, s, scopeA, "g", "c", 1, 100)
	list, err := s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{ByLastEventTime: true})
	must(t, err)
	equal(t, "by time", names(list, streamName), []string{"b", "c", "a"})
	list, _ = s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{ByLastEventTime: true, Descending: true, Limit: 2})
	equal(t, "by time desc", names(list, streamName), []string{"a", "c"})
	list, _ = s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{ByLastEventTime: true, Descending: true,
		After: &logs.StreamCursor{LastEventTimestamp: 100, Name: "c"}})
	equal(t, "by time desc page", names(list, streamName), []string{"b"})
}

func testAppend(t *testing.T, s logs.Store) {
	ctx := context.Background()
	_, err := s.AppendEvents(ctx, scopeA, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s"})
	wantErr(t, err, logs.ErrLogGroupNotFound)
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	_, err = s.AppendEvents(ctx, scopeA, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s"})
	wantErr(t, err, logs.ErrLogStreamNotFound)
	must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: "s"}))

	if seq := appendEvents(t, s, scopeA, "g", "s", 5000, 2000, 2000, 3000); seq != 1 {
		t.Fatalf("first upload sequence = %d, want 1", seq)
	}
	if seq := appendEvents(t, s, scopeA, "g", "s", 6000, 1000); seq != 2 {
		t.Fatalf("second upload sequence = %d, want 2", seq)
	}
	if seq := appendEvents(t, s, scopeA, "g", "s", 7000); seq != 3 {
		t.Fatalf("empty batch upload sequence = %d, want 3", seq)
	}
	st, err := s.GetLogStream(ctx, scopeA, "g", "s")
	must(t, err)
	wantBytes := int64(len("s@2000")*3 + len("s@1000"))
	equal(t, "stream bookkeeping", st, logs.LogStream{Name: "s", FirstEventTimestamp: 1000, LastEventTimestamp: 3000,
		LastIngestionTime: 6000, StoredBytes: wantBytes, UploadSequence: 3})
	g, err := s.GetLogGroup(ctx, scopeA, "g")
	must(t, err)
	equal(t, "group stored bytes", g.StoredBytes, wantBytes)

	var got []logs.Event
	must(t, s.ScanEvents(ctx, scopeA, logs.EventQuery{LogGroupName: "g"}, func(e logs.Event) bool {
		got = append(got, e)
		return true
	}))
	if len(got) != 4 {
		t.Fatalf("scanned %d events, want 4", len(got))
	}
	wantTS := []int64{1000, 2000, 2000, 3000}
	for i, e := range got {
		if e.Timestamp != wantTS[i] || e.LogStreamName != "s" || e.Message != fmt.Sprintf("s@%d", e.Timestamp) {
			t.Fatalf("event %d = %+v", i, e)
		}
		if i > 0 && e.Timestamp == got[i-1].Timestamp && e.Seq <= got[i-1].Seq {
			t.Fatalf("events with equal timestamps not in ingestion order: %+v", got)
		}
	}
	if got[0].IngestionTime != 6000 || got[1].IngestionTime != 5000 {
		t.Fatalf("ingestion times = %d, %d", got[0].IngestionTime, got[1].IngestionTime)
	}
}

func scanAll(t *testing.T, s logs.Store, sc logs.Scope, q logs.EventQuery) []string {
	t.Helper()
	out := []string{}
	must(t, s.ScanEvents(context.Background(), sc, q, func(e logs.Event) bool {
		out = append(out, e.Message)
		return true
	}))
	return out
}

func testScan(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	for _, n := range []string{"a1", "a2", "b1"} {
		must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: n}))
	}
	appendEvents(t, s, scopeA, "g", "a1", 1, 10, 40)
	appendEvents(t, s, scopeA, "g", "a2", 1, 20, 50)
	appendEvents(t, s, scopeA, "g", "b1", 1, 30)

	equal(t, "all", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g"}),
		[]string{"a1@10", "a2@20", "b1@30", "a1@40", "a2@50"})
	equal(t, "window", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", StartTime: 20, EndTime: 50}),
		[]string{"a2@20", "b1@30", "a1@40"})
	equal(t, "descending", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", Descending: true}),
		[]string{"a2@50", "a1@40", "b1@30", "a2@20", "a1@10"})
	equal(t, "streams", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", Streams: []string{"a2", "b1", "missing"}}),
		[]string{"a2@20", "b1@30", "a2@50"})
	equal(t, "one stream", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", Streams: []string{"a1"}}),
		[]string{"a1@10", "a1@40"})
	equal(t, "prefix", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", StreamPrefix: "a"}),
		[]string{"a1@10", "a2@20", "a1@40", "a2@50"})
	equal(t, "no stream matches", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", StreamPrefix: "zz"}), []string{})

	// Cursors are exclusive positions in (Timestamp, Seq) order.
	var third logs.Event
	n := 0
	must(t, s.ScanEvents(ctx, scopeA, logs.EventQuery{LogGroupName: "g"}, func(e logs.Event) bool {
		n++
		third = e
		return n < 3
	}))
	if n != 3 || third.Message != "b1@30" {
		t.Fatalf("stopping scan: n=%d third=%+v", n, third)
	}
	c := &logs.EventCursor{Timestamp: third.Timestamp, Seq: third.Seq}
	equal(t, "after", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", After: c}), []string{"a1@40", "a2@50"})
	equal(t, "before", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", Before: c, Descending: true}),
		[]string{"a2@20", "a1@10"})

	wantErr(t, s.ScanEvents(ctx, scopeA, logs.EventQuery{LogGroupName: "nope"}, func(logs.Event) bool { return true }),
		logs.ErrLogGroupNotFound)
	wantErr(t, s.ScanEvents(ctx, scopeB, logs.EventQuery{LogGroupName: "g"}, func(logs.Event) bool { return true }),
		logs.ErrLogGroupNotFound)
}

func scanAllOrEmpty(t *testing.T, s logs.Store, sc logs.Scope, q logs.EventQuery) []string {
	t.Helper()
	out := []string{}
	err := s.ScanEvents(context.Background(), sc, q, func(e logs.Event) bool {
		out = append(out, e.Message)
		return true
	})
	if err != nil && !errors.Is(err, logs.ErrLogGroupNotFound) {
		t.Fatal(err)
	}
	return out
}

func testDeleteCascades(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD", Tags: map[string]string{"k": "v"}}))
	must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: "s1"}))
	must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: "s2"}))
	appendEvents(t, s, scopeA, "g", "s1", 1, 10)
	appendEvents(t, s, scopeA, "g", "s2", 1, 20)
	must(t, s.PutMetricFilter(ctx, scopeA, logs.MetricFilter{LogGroupName: "g", FilterName: "f",
		Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}, 100))

	must(t, s.DeleteLogStream(ctx, scopeA, "g", "s1"))
	equal(t, "after stream delete", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g"}), []string{"s2@20"})
	g, _ := s.GetLogGroup(ctx, scopeA, "g")
	equal(t, "stored bytes after stream delete", g.StoredBytes, int64(len("s2@20")))

	must(t, s.DeleteLogGroup(ctx, scopeA, "g"))
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	g, err := s.GetLogGroup(ctx, scopeA, "g")
	must(t, err)
	equal(t, "recreated group", g, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"})
	streams, _ := s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{})
	equal(t, "streams of recreated group", len(streams), 0)
	equal(t, "events of recreated group", scanAllOrEmpty(t, s, scopeA, logs.EventQuery{LogGroupName: "g"}), []string{})
	fs, _ := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{LogGroupName: "g"})
	equal(t, "filters of recreated group", len(fs), 0)
}

func testExpire(t *testing.T, s logs.Store) {
	ctx := context.Background()
	const day = 24 * 60 * 60 * 1000
	now := int64(100 * day)
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "short", LogGroupClass: "STANDARD"}))
	must(t, s.CreateLogGroup(ctx, scopeB, logs.LogGroup{Name: "forever", LogGroupClass: "STANDARD"}))
	for _, sc := range []logs.Scope{scopeA, scopeB} {
		g := map[logs.Scope]string{scopeA: "short", scopeB: "forever"}[sc]
		must(t, s.CreateLogStream(ctx, sc, g, logs.LogStream{Name: "s"}))
		appendEvents(t, s, sc, g, "s", now, now-3*day, now-2*day, now-day+1)
	}
	must(t, s.SetRetention(ctx, scopeA, "short", 1))
	n, err := s.ExpireEvents(ctx, now)
	must(t, err)
	equal(t, "expired", n, int64(2))
	equal(t, "kept", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "short"}), []string{fmt.Sprintf("s@%d", now-day+1)})
	equal(t, "untouched", len(scanAll(t, s, scopeB, logs.EventQuery{LogGroupName: "forever"})), 3)
	g, _ := s.GetLogGroup(ctx, scopeA, "short")
	equal(t, "stored bytes after expiry", g.StoredBytes, int64(len(fmt.Sprintf("s@%d", now-day+1))))
	n, err = s.ExpireEvents(ctx, now)
	must(t, err)
	equal(t, "second sweep", n, int64(0))
}

func testMetricFilters(t *testing.T, s logs.Store) {
	ctx := context.Background()
	def := 0.0
	f := logs.MetricFilter{LogGroupName: "g1", FilterName: "root", FilterPattern: `{ $.userIdentity.type = "Root" }`, CreationTime: 7,
		Transformation: logs.MetricTransformation{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1", DefaultValue: &def}}
	wantErr(t, s.PutMetricFilter(ctx, scopeA, f, 100), logs.ErrLogGroupNotFound)
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g1", LogGroupClass: "STANDARD"}))
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g2", LogGroupClass: "STANDARD"}))
	must(t, s.PutMetricFilter(ctx, scopeA, f, 100))
	dim := logs.MetricFilter{LogGroupName: "g2", FilterName: "bytes", FilterPattern: `[ip, user, size]`, CreationTime: 8,
		Transformation: logs.MetricTransformation{MetricName: "Bytes", MetricNamespace: "Web", MetricValue: "$size", Unit: "Bytes",
			Dimensions: map[string]string{"User": "$user"}}}
	must(t, s.PutMetricFilter(ctx, scopeA, dim, 100))
	other := logs.MetricFilter{LogGroupName: "g1", FilterName: "auth", FilterPattern: "ERROR", CreationTime: 9,
		Transformation: logs.MetricTransformation{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}
	must(t, s.PutMetricFilter(ctx, scopeA, other, 100))

	all, err := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{})
	must(t, err)
	equal(t, "all filters", all, []logs.MetricFilter{other, f, dim})
	g1, _ := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{LogGroupName: "g1", FilterNamePrefix: "ro"})
	equal(t, "prefix", g1, []logs.MetricFilter{f})
	byMetric, _ := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{MetricName: "Bytes", MetricNamespace: "Web"})
	equal(t, "by metric", byMetric, []logs.MetricFilter{dim})
	page, _ := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{AfterGroup: "g1", AfterName: "auth", Limit: 1})
	equal(t, "page", page, []logs.MetricFilter{f})
	none, _ := s.ListMetricFilters(ctx, scopeB, logs.FilterQuery{})
	equal(t, "other scope", len(none), 0)

	grp, _ := s.GetLogGroup(ctx, scopeA, "g1")
	equal(t, "metricFilterCount", grp.MetricFilterCount, 2)

	// Replacing keeps the count; the quota applies to new names only.
	f.FilterPattern = "Root"
	must(t, s.PutMetricFilter(ctx, scopeA, f, 2))
	wantErr(t, s.PutMetricFilter(ctx, scopeA, logs.MetricFilter{LogGroupName: "g1", FilterName: "third",
		Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}, 2), logs.ErrMetricFilterLimit)
	g1, _ = s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{LogGroupName: "g1"})
	equal(t, "after replace", g1, []logs.MetricFilter{other, f})

	must(t, s.DeleteMetricFilter(ctx, scopeA, "g1", "auth"))
	wantErr(t, s.DeleteMetricFilter(ctx, scopeA, "g1", "auth"), logs.ErrMetricFilterNotFound)
	wantErr(t, s.DeleteMetricFilter(ctx, scopeA, "nope", "auth"), logs.ErrLogGroupNotFound)
}

// testAppendUnique checks deduplication by key and timestamp: duplicates (stored earlier, repeated
// in the batch) are skipped with their samples, keyless events always stored, a key at another
// timestamp is another event, keys are per group, and the stream's bookkeeping counts only stored
// events. Batches larger than one insert statement are covered too.
func testAppendUnique(t *testing.T, s logs.Store) {
	ctx := context.Background()
	_, err := s.AppendUnique(ctx, scopeA, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s"})
	wantErr(t, err, logs.ErrLogGroupNotFound)
	for _, g := range []string{"g", "h"} {
		must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: g, LogGroupClass: "STANDARD"}))
		must(t, s.CreateLogStream(ctx, scopeA, g, logs.LogStream{Name: "s"}))
	}
	sample := func(v float64) metrics.Sample {
		return metrics.Sample{AccountID: scopeA.AccountID, Region: scopeA.Region, Namespace: "N", MetricName: "M", Timestamp: time.UnixMilli(60000), Value: v}
	}
	b := logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", IngestionTime: 9000,
		Events:       []logs.InputLogEvent{{Timestamp: 1000, Message: "a"}, {Timestamp: 2000, Message: "b"}, {Timestamp: 1000, Message: "a-again"}, {Timestamp: 4000, Message: "nokey"}},
		DedupKeys:    []string{"k1", "k2", "k1", ""},
		Samples:      []metrics.Sample{sample(1), sample(2), sample(3), sample(4), sample(5)},
		SampleEvents: []int{0, 1, 2, 3, -1},
	}
	res, err := s.AppendUnique(ctx, scopeA, b)
	must(t, err)
	equal(t, "duplicates", res.Duplicate, []bool{false, false, true, false})
	equal(t, "samples", res.Samples, []metrics.Sample{sample(1), sample(2), sample(4), sample(5)})
	equal(t, "sequence", res.UploadSequence, int64(1))
	res, err = s.AppendUnique(ctx, scopeA, b)
	must(t, err)
	equal(t, "duplicates again", res.Duplicate, []bool{true, true, true, false})
	equal(t, "samples again", res.Samples, []metrics.Sample{sample(4), sample(5)})
	st, err := s.GetLogStream(ctx, scopeA, "g", "s")
	must(t, err)
	equal(t, "stream bookkeeping", st, logs.LogStream{Name: "s", FirstEventTimestamp: 1000, LastEventTimestamp: 4000,
		LastIngestionTime: 9000, StoredBytes: int64(len("a") + len("b") + 2*len("nokey")), UploadSequence: 2})
	equal(t, "events", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g"}), []string{"a", "b", "nokey", "nokey"})
	b.LogGroupName = "h"
	res, err = s.AppendUnique(ctx, scopeA, b)
	must(t, err)
	equal(t, "other group", res.Duplicate, []bool{false, false, true, false})

	// With CreateStream a missing stream is created, at the batch's ingestion time; without it the
	// append fails.
	_, err = s.AppendUnique(ctx, scopeA, logs.AppendBatch{LogGroupName: "h", LogStreamName: "new", IngestionTime: 9500,
		Events: []logs.InputLogEvent{{Timestamp: 1000, Message: "x"}}, DedupKeys: []string{"kx"}})
	wantErr(t, err, logs.ErrLogStreamNotFound)
	res, err = s.AppendUnique(ctx, scopeA, logs.AppendBatch{LogGroupName: "h", LogStreamName: "new", IngestionTime: 9500, CreateStream: true,
		Events: []logs.InputLogEvent{{Timestamp: 1000, Message: "x"}}, DedupKeys: []string{"kx"}})
	must(t, err)
	equal(t, "created stream duplicates", res.Duplicate, []bool{false})
	st, err = s.GetLogStream(ctx, scopeA, "h", "new")
	must(t, err)
	equal(t, "created stream", st, logs.LogStream{Name: "new", CreationTime: 9500, FirstEventTimestamp: 1000, LastEventTimestamp: 1000,
		LastIngestionTime: 9500, StoredBytes: 1, UploadSequence: 1})
	_, err = s.AppendUnique(ctx, scopeA, logs.AppendBatch{LogGroupName: "missing", LogStreamName: "new", CreateStream: true,
		Events: []logs.InputLogEvent{{Timestamp: 1000, Message: "x"}}, DedupKeys: []string{"kx"}})
	wantErr(t, err, logs.ErrLogGroupNotFound)

	// The same key at another time is another event.
	res, err = s.AppendUnique(ctx, scopeA, logs.AppendBatch{LogGroupName: "h", LogStreamName: "s", IngestionTime: 9000,
		Events: []logs.InputLogEvent{{Timestamp: 1001, Message: "a-later"}}, DedupKeys: []string{"k1"}})
	must(t, err)
	equal(t, "same key, other time", res.Duplicate, []bool{false})

	// A large batch: new keys, keys stored earlier and keys repeated in the batch, spread over
	// many events so that a store inserting in chunks meets duplicates in several of them.
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "big", LogGroupClass: "STANDARD"}))
	must(t, s.CreateLogStream(ctx, scopeA, "big", logs.LogStream{Name: "s"}))
	first := logs.AppendBatch{LogGroupName: "big", LogStreamName: "s", IngestionTime: 9000}
	for i := range 500 {
		first.Events = append(first.Events, logs.InputLogEvent{Timestamp: int64(3 * i), Message: fmt.Sprint("e", i)})
		first.DedupKeys = append(first.DedupKeys, fmt.Sprint("k", i))
	}
	res, err = s.AppendUnique(ctx, scopeA, first)
	must(t, err)
	equal(t, "big first duplicates", res.Duplicate, make([]bool, 500))
	var (
		second = logs.AppendBatch{LogGroupName: "big", LogStreamName: "s", IngestionTime: 9000}
		want   []bool
		stored []string
	)
	for i := range 1000 {
		// Every third event repeats an event of the first batch (at the same time); every other
		// fifth repeats the event before it in this batch; the rest are new.
		e, k, dup := logs.InputLogEvent{Timestamp: int64(i), Message: fmt.Sprint("n", i)}, fmt.Sprint("n", i), false
		switch {
		case i%3 == 0:
			e, k, dup = first.Events[i/3], first.DedupKeys[i/3], true
		case i%5 == 0:
			prev := len(second.Events) - 1
			e, k, dup = second.Events[prev], second.DedupKeys[prev], true
		}
		second.Events = append(second.Events, e)
		second.DedupKeys = append(second.DedupKeys, k)
		want = append(want, dup)
		if !dup {
			stored = append(stored, e.Message)
		}
	}
	res, err = s.AppendUnique(ctx, scopeA, second)
	must(t, err)
	equal(t, "big second duplicates", res.Duplicate, want)
	got := scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "big"})
	var gotNew []string
	for _, m := range got {
		if m[0] == 'n' {
			gotNew = append(gotNew, m)
		}
	}
	equal(t, "big stored", len(got), 500+len(stored))
	equal(t, "big stored new", gotNew, stored)
	// Long scans (a store may read in chunks) agree in both directions and within bounds.
	desc := scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "big", Descending: true})
	slices.Reverse(desc)
	equal(t, "big descending", desc, got)
	var inRange []string
	for _, e := range append(first.Events, second.Events...) {
		if e.Timestamp >= 100 && e.Timestamp < 1300 && !slices.Contains(inRange, e.Message) {
			inRange = append(inRange, e.Message)
		}
	}
	ranged := scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "big", StartTime: 100, EndTime: 1300})
	slices.Sort(inRange)
	sortedRanged := slices.Clone(ranged)
	slices.Sort(sortedRanged)
	equal(t, "big time range", sortedRanged, inRange)

	// Events with keys at one timestamp come back in ingestion order, whatever their keys.
	same := logs.AppendBatch{LogGroupName: "big", LogStreamName: "s", IngestionTime: 9000}
	var wantSame, wantSameDesc []string
	for i := range 20 {
		m := fmt.Sprint("same", i)
		same.Events = append(same.Events, logs.InputLogEvent{Timestamp: 5000, Message: m})
		same.DedupKeys = append(same.DedupKeys, fmt.Sprint("key-", 19-i))
		wantSame = append(wantSame, m)
		wantSameDesc = append([]string{m}, wantSameDesc...)
	}
	_, err = s.AppendUnique(ctx, scopeA, same)
	must(t, err)
	equal(t, "one timestamp", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "big", StartTime: 5000, EndTime: 5001}), wantSame)
	equal(t, "one timestamp descending", scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "big", StartTime: 5000, EndTime: 5001, Descending: true}), wantSameDesc)
}

// testNonASCIIPrefixes holds every prefix query to byte-wise prefix matching of UTF-8 names: a
// prefix with multi-byte characters (Japanese, an accented letter, an emoji) selects exactly the
// names that start with it, and neither a name one code point further nor an ASCII look-alike.
// SQLite's substr counts characters while Go's len counts bytes, which once made every such prefix
// match nothing (issue 11, item 8).
func testNonASCIIPrefixes(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	streams := []string{"e1", "ルート/a", "ルート/b", "ルーター", "é1", "é2", "ê", "😀x", "😁", "z\xef\xbf\xbf"}
	for _, n := range streams {
		must(t, s.CreateLogStream(ctx, scopeA, "g", logs.LogStream{Name: n}))
		appendEvents(t, s, scopeA, "g", n, 1, 10)
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"ルート/", []string{"ルート/a", "ルート/b"}},
		{"ルー", []string{"ルーター", "ルート/a", "ルート/b"}},
		{"é", []string{"é1", "é2"}},
		{"😀", []string{"😀x"}},
		{"z\xef\xbf\xbf", []string{"z\xef\xbf\xbf"}},
		{"e", []string{"e1"}},
		{"ルート/c", []string{}},
	}
	for _, c := range cases {
		list, err := s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{Prefix: c.prefix})
		must(t, err)
		equal(t, "streams with prefix "+c.prefix, names(list, streamName), c.want)
		var msgs []string
		for _, n := range c.want {
			msgs = append(msgs, n+"@10")
		}
		if msgs == nil {
			msgs = []string{}
		}
		got := scanAll(t, s, scopeA, logs.EventQuery{LogGroupName: "g", StreamPrefix: c.prefix})
		slices.Sort(got)
		slices.Sort(msgs)
		equal(t, "events of streams with prefix "+c.prefix, got, msgs)
	}
	desc, err := s.ListLogStreams(ctx, scopeA, "g", logs.StreamQuery{Prefix: "ルート/", Descending: true, Limit: 1})
	must(t, err)
	equal(t, "descending page with prefix", names(desc, streamName), []string{"ルート/b"})

	for _, n := range []string{"ルート/root", "ルーター", "é", "e", "😀 root"} {
		must(t, s.PutMetricFilter(ctx, scopeA, logs.MetricFilter{LogGroupName: "g", FilterName: n, FilterPattern: "x",
			Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}, 100))
	}
	filterName := func(f logs.MetricFilter) string { return f.FilterName }
	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"ルート/", []string{"ルート/root"}},
		{"é", []string{"é"}},
		{"😀", []string{"😀 root"}},
		{"ê", []string{}},
	} {
		list, err := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{LogGroupName: "g", FilterNamePrefix: c.prefix})
		must(t, err)
		equal(t, "filters with prefix "+c.prefix, names(list, filterName), c.want)
	}
}

// testMetricFilterStatus checks that a disabled filter keeps its status, that disabling targets one
// version of a filter (its creation time) and nothing that replaced it, and that PutMetricFilter
// re-enables.
func testMetricFilterStatus(t *testing.T, s logs.Store) {
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	f := logs.MetricFilter{LogGroupName: "g", FilterName: "users", FilterPattern: "{ $.user = * }", CreationTime: 7,
		Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1", Dimensions: map[string]string{"User": "$.user"}}}
	must(t, s.PutMetricFilter(ctx, scopeA, f, 100))
	st := logs.FilterStatus{State: logs.FilterStateDisabled, Reason: "too many", Time: 99}
	must(t, s.DisableMetricFilter(ctx, scopeA, "g", "users", 6, st)) // another version: no-op
	must(t, s.DisableMetricFilter(ctx, scopeA, "g", "gone", 7, st))
	must(t, s.DisableMetricFilter(ctx, scopeA, "nope", "users", 7, st))
	got, err := s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{})
	must(t, err)
	equal(t, "filters before disabling", got, []logs.MetricFilter{f})

	must(t, s.DisableMetricFilter(ctx, scopeA, "g", "users", 7, st))
	got, err = s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{LogGroupName: "g"})
	must(t, err)
	disabled := f
	disabled.Status = &st
	equal(t, "disabled filter", got, []logs.MetricFilter{disabled})
	if other, _ := s.ListMetricFilters(ctx, scopeB, logs.FilterQuery{}); len(other) != 0 {
		t.Fatalf("other scope sees %v", other)
	}

	f.CreationTime = 8
	f.LiveSince = 8
	must(t, s.PutMetricFilter(ctx, scopeA, f, 100))
	got, err = s.ListMetricFilters(ctx, scopeA, logs.FilterQuery{})
	must(t, err)
	// The same definition put again is enabled again; the time it was disabled becomes its paused
	// period (testMetricFilterLiveSince checks LiveSince).
	want := f
	want.LiveSince, want.PausedFrom, want.PausedUntil = 0, 99, 8
	equal(t, "filter put again", got, []logs.MetricFilter{want})
}

// testMetricFilterLiveSince checks that PutMetricFilter stores f.Replacing(the filter it replaces):
// a put of the same definition keeps LiveSince, whatever its creation time; a changed definition
// (pattern, value, default, dimensions, unit, metric) starts afresh; a put that enables a disabled
// filter again keeps LiveSince and records the disabled period; scopes and groups do not mix.
func testMetricFilterLiveSince(t *testing.T, s logs.Store) {
	ctx := context.Background()
	for _, sc := range []logs.Scope{scopeA, scopeB} {
		must(t, s.CreateLogGroup(ctx, sc, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	}
	must(t, s.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "h", LogGroupClass: "STANDARD"}))
	def := 0.0
	base := logs.MetricFilter{LogGroupName: "g", FilterName: "f", FilterPattern: "{ $.user = * }",
		Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1",
			DefaultValue: &def, Dimensions: map[string]string{"User": "$.user"}, Unit: "Count"}}
	put := func(sc logs.Scope, f logs.MetricFilter, at int64) logs.MetricFilter {
		t.Helper()
		f.CreationTime, f.LiveSince = at, at
		must(t, s.PutMetricFilter(ctx, sc, f, 100))
		got, err := s.ListMetricFilters(ctx, sc, logs.FilterQuery{LogGroupName: f.LogGroupName, FilterNamePrefix: f.FilterName})
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("after put: %+v", got)
		}
		if got[0].CreationTime != at {
			t.Errorf("creation time %d, want the put's, %d", got[0].CreationTime, at)
		}
		return got[0]
	}
	if got := put(scopeA, base, 10); got.LiveSince != 10 || got.PausedFrom != 0 || got.PausedUntil != 0 {
		t.Fatalf("new filter: %+v", got)
	}
	same := base
	same.Transformation.Dimensions = map[string]string{"User": "$.user"} // equal, not the same map
	if got := put(scopeA, same, 20); got.LiveSince != 10 {
		t.Errorf("same definition put again: live since %d, want 10", got.LiveSince)
	}
	put(scopeB, base, 25) // another scope's filter of that name
	other := base
	other.LogGroupName = "h"
	put(scopeA, other, 26) // another group's
	if got := put(scopeA, same, 30); got.LiveSince != 10 {
		t.Errorf("same definition after puts elsewhere: live since %d, want 10", got.LiveSince)
	}
	one := 1.0
	changes := map[string]func(*logs.MetricFilter){
		"pattern":    func(f *logs.MetricFilter) { f.FilterPattern = "{ $.user = \"x\" }" },
		"name":       func(f *logs.MetricFilter) { f.Transformation.MetricName = "m2" },
		"namespace":  func(f *logs.MetricFilter) { f.Transformation.MetricNamespace = "n2" },
		"value":      func(f *logs.MetricFilter) { f.Transformation.MetricValue = "2" },
		"default":    func(f *logs.MetricFilter) { f.Transformation.DefaultValue = &one },
		"no default": func(f *logs.MetricFilter) { f.Transformation.DefaultValue = nil },
		"dimensions": func(f *logs.MetricFilter) { f.Transformation.Dimensions = map[string]string{"Who": "$.user"} },
		"unit":       func(f *logs.MetricFilter) { f.Transformation.Unit = "" },
	}
	at := int64(100)
	for what, change := range changes {
		put(scopeA, base, at) // back to base: a change too, unless it is the first round
		at++
		live := put(scopeA, base, at).LiveSince
		at++
		changed := base
		changed.Transformation.Dimensions = map[string]string{"User": "$.user"}
		change(&changed)
		if got := put(scopeA, changed, at); got.LiveSince != at {
			t.Errorf("%s changed: live since %d, want the put's time %d (was %d)", what, got.LiveSince, at, live)
		}
		at++
	}

	// Disabled, then put again unchanged: enabled, live since unchanged, the disabled period paused.
	live := put(scopeA, base, 1000).LiveSince
	must(t, s.DisableMetricFilter(ctx, scopeA, "g", "f", 1000, logs.FilterStatus{State: logs.FilterStateDisabled, Reason: "r", Time: 1100}))
	got := put(scopeA, base, 1200)
	if got.Status != nil || got.LiveSince != live || got.PausedFrom != 1100 || got.PausedUntil != 1200 {
		t.Fatalf("re-enabled: %+v, want live since %d, paused 1100 to 1200, no status", got, live)
	}
	if got := put(scopeA, base, 1300); got.LiveSince != live || got.PausedFrom != 1100 || got.PausedUntil != 1200 {
		t.Fatalf("put again while active: %+v keeps the paused period", got)
	}
	changed := base
	changed.FilterPattern = "{ $.user = \"y\" }"
	if got := put(scopeA, changed, 1400); got.LiveSince != 1400 || got.PausedFrom != 0 || got.PausedUntil != 0 {
		t.Fatalf("changed after a pause: %+v, want live since 1400 and no paused period", got)
	}
	if got := put(scopeB, base, 1500); got.LiveSince != 25 {
		t.Errorf("other scope: live since %d, want 25", got.LiveSince)
	}
}

// testDeleteStreamFreesKeys checks that a deleted stream's records may be stored again, as when
// their rows (and so their keys) went with the stream.
func testDeleteStreamFreesKeys(t *testing.T, db logs.Store) {
	ctx := context.Background()
	must(t, db.CreateLogGroup(ctx, scopeA, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	b := logs.AppendBatch{LogGroupName: "ct", LogStreamName: "a", Events: []logs.InputLogEvent{{Timestamp: 5, Message: "x"}},
		DedupKeys: []string{"k"}, CreateStream: true}
	for _, want := range []bool{false, true} {
		res, err := db.AppendUnique(ctx, scopeA, b)
		must(t, err)
		if res.Duplicate[0] != want {
			t.Fatalf("duplicate %v, want %v", res.Duplicate[0], want)
		}
	}
	must(t, db.DeleteLogStream(ctx, scopeA, "ct", "a"))
	res, err := db.AppendUnique(ctx, scopeA, b)
	must(t, err)
	if res.Duplicate[0] {
		t.Fatal("the deleted stream's key still suppresses the record")
	}
}
