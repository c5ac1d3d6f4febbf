package logstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Backend is what RunBackend needs of a storage backend beyond its logs.Store: the metric
// datapoints that appends matching a metric filter store with the events, the size of its expiry
// transactions, and a restart.
type Backend struct {
	// Store is the backend's log store.
	Store logs.Store
	// Metrics reads back the metric datapoints the store keeps (the backend's metrics store).
	Metrics Aggregates
	// ExpireBatch is how many blocks one ExpireEvents transaction deletes at most, so that a test
	// can sweep more than one transaction's worth.
	ExpireBatch int
	// Reopen closes Store (failing the test if that fails) and opens its data again under the same
	// clock, as a restart does.
	Reopen func() Backend
}

// Aggregates is the part of metrics.Store the tests read metric datapoints back with.
type Aggregates interface {
	QueryAggregates(ctx context.Context, scope metrics.Scope, m metrics.Metric, start, end time.Time) ([]metrics.Aggregate, error)
}

// DB is a backend's database as Restartable opens it: a log store that keeps metric datapoints.
type DB interface {
	logs.Store
	Aggregates
	Close() error
}

// Restartable returns the Backend of the database open opens, closed when t ends, whose Reopen
// closes it and calls open again: open must open the same data each time (a directory, a schema).
func Restartable(t *testing.T, expireBatch int, open func() (DB, error)) Backend {
	t.Helper()
	db, err := open()
	must(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			db.Close()
		}
	})
	return Backend{Store: db, Metrics: db, ExpireBatch: expireBatch, Reopen: func() Backend {
		closed = true
		must(t, db.Close())
		return Restartable(t, expireBatch, open)
	}}
}

// Open returns a new, empty backend whose store reads the time from now (for the compactor's open
// hour and the like); it closes the backend when t ends.
type Open func(t *testing.T, now func() time.Time) Backend

// RunBackend runs the tests of a backend that need more than a logs.Store (see Backend), and those
// of logs.Service over the backend's store: pagination tokens, retention on reads, the metric
// filter cache, backfill, deduplicated delivery and the cardinality limit are behaviours of the
// two together. Every subtest opens its own backend.
func RunBackend(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"ServiceGetLogEventsPaging", testServiceGetLogEventsPaging},
		{"ServiceFilterLogEventsPaging", testServiceFilterLogEventsPaging},
		{"ServiceRetention", testServiceRetention},
		{"ServiceDescribePaging", testServiceDescribePaging},
		{"ServiceFilterCache", testServiceFilterCache},
		{"ServiceRegexFilterQuota", testServiceRegexFilterQuota},
		{"ExpireEventsChunks", testExpireEventsChunks},
		{"BackfillEndsAtCreation", testBackfillEndsAtCreation},
		{"BackfillAfterReput", testBackfillAfterReput},
		{"BackfillAfterReenable", testBackfillAfterReenable},
		{"PutRecordsDedup", testPutRecordsDedup},
		{"PutRecordsConcurrent", testPutRecordsConcurrent},
		{"PutLogEventsRecordGroup", testPutLogEventsRecordGroup},
		{"DisabledFilterSurvivesReopen", testDisabledFilterSurvivesReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// fixedClock is the store clock of the tests that read the time only through the service.
func fixedClock() time.Time { return time.UnixMilli(1_700_000_000_000) }

// newService is logs.Service over a new backend's store, reading the time from *now.
func newService(t *testing.T, open Open, now *time.Time) *logs.Service {
	t.Helper()
	return logs.NewService(open(t, fixedClock).Store, func() time.Time { return *now })
}

// newGroup creates log group "g" of scopeA and its streams through s.
func newGroup(t *testing.T, s *logs.Service, streams ...string) {
	t.Helper()
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scopeA, logs.CreateLogGroupInput{LogGroupName: "g"}))
	for _, st := range streams {
		must(t, s.CreateLogStream(ctx, scopeA, "g", st))
	}
}

// collectPages calls page with each NextToken, starting from "", until the token comes back empty, and
// returns every name the pages listed, in order.
func collectPages(t *testing.T, page func(tok string) (names []string, next string, err error)) []string {
	t.Helper()
	var all []string
	tok := ""
	for {
		names, next, err := page(tok)
		must(t, err)
		all = append(all, names...)
		if tok = next; tok == "" {
			return all
		}
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

// putN puts msgs to a stream of scopeA through s, one millisecond apart from start.
func putN(t *testing.T, s *logs.Service, group, stream string, start int64, msgs ...string) {
	t.Helper()
	var evs []logs.InputLogEvent
	for i, m := range msgs {
		evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i), Message: m})
	}
	_, err := s.PutLogEvents(context.Background(), scopeA, logs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream, LogEvents: evs})
	must(t, err)
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

// CISRootPattern is the filter pattern of CIS's root account usage control, which RootRecords match.
const CISRootPattern = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

// RootRecords returns n CloudTrail-like records one millisecond apart from start, every one a
// match of CISRootPattern, with eventIDs id0..id<n-1>, and their dedup keys.
func RootRecords(start int64, n int) ([]logs.InputLogEvent, []string) {
	evs := make([]logs.InputLogEvent, n)
	keys := make([]string, n)
	for i := range n {
		evs[i] = logs.InputLogEvent{Timestamp: start + int64(i), Message: fmt.Sprintf(`{"eventID":"id%d","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`, i)}
		keys[i] = fmt.Sprintf("111122223333/id%d", i)
	}
	return evs, keys
}

// RootSum is the sum of CloudTrailMetrics/RootAccountUsage (the metric of the filter CreateRootGroup
// puts) that m stores for scope in the two hours around start.
func RootSum(t testing.TB, m Aggregates, scope logs.Scope, start time.Time) float64 {
	t.Helper()
	aggs, err := m.QueryAggregates(context.Background(), metrics.Scope{AccountID: scope.AccountID, Region: scope.Region},
		metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}, start.Add(-time.Hour), start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, a := range aggs {
		sum += a.Sum
	}
	return sum
}

// PutRecordsConcurrently delivers evs with their keys to stream "a_CloudTrail_r" of group "ct" of
// scope through every service of services at once, each in batches of per records, as S3 and
// EventBridge racing do, and returns the sum of what the deliveries stored and found duplicate.
func PutRecordsConcurrently(t *testing.T, services []*logs.Service, scope logs.Scope, evs []logs.InputLogEvent, keys []string, per int) logs.PutRecordsOutput {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total logs.PutRecordsOutput
	)
	for _, s := range services {
		wg.Go(func() {
			for i := 0; i < len(evs); i += per {
				out, err := s.PutRecords(context.Background(), scope, logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: "a_CloudTrail_r",
					Events: evs[i : i+per], DedupKeys: keys[i : i+per]})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total.Stored += out.Stored
				total.Duplicates += out.Duplicates
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return total
}

// dedupSetup opens a backend and a service, both reading the same fixed time, with a group "ct"
// that has the CIS root filter.
func dedupSetup(t *testing.T, open Open) (Backend, *logs.Service, time.Time) {
	t.Helper()
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	be := open(t, func() time.Time { return now })
	s := logs.NewService(be.Store, func() time.Time { return now })
	CreateRootGroup(t, s, scopeA)
	return be, s, now
}

// CreateRootGroup creates log group "ct" of scope through s, with a metric filter that counts
// CISRootPattern's matches as CloudTrailMetrics/RootAccountUsage (what RootSum reads).
func CreateRootGroup(t *testing.T, s *logs.Service, scope logs.Scope) {
	t.Helper()
	ctx := context.Background()
	must(t, s.CreateLogGroup(ctx, scope, logs.CreateLogGroupInput{LogGroupName: "ct"}))
	must(t, s.PutMetricFilter(ctx, scope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: "root", FilterPattern: CISRootPattern,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}))
}

func testServiceGetLogEventsPaging(t *testing.T, open Open) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	ctx := context.Background()
	newGroup(t, s, "s")
	base := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "s", base, "e0", "e1", "e2", "e3", "e4")

	get := func(in logs.GetLogEventsInput) logs.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = "g", "s"
		out, err := s.GetLogEvents(ctx, scopeA, in)
		must(t, err)
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
	_, err := s.GetLogEvents(ctx, scopeA, logs.GetLogEventsInput{LogGroupName: "g", LogStreamName: "nope"})
	if err != logs.ErrLogStreamNotFound {
		t.Fatalf("missing stream: %v", err)
	}
}

func testServiceFilterLogEventsPaging(t *testing.T, open Open) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	ctx := context.Background()
	newGroup(t, s, "a", "b")
	base := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "a", base, "ERROR a0", "INFO a1", "ERROR a2")
	putN(t, s, "g", "b", base, "ERROR b0", "ERROR b1")

	var got []string
	token := ""
	pages := 0
	for {
		out, err := s.FilterLogEvents(ctx, scopeA, logs.FilterLogEventsInput{LogGroupName: "g", FilterPattern: "ERROR", Limit: intp(2), NextToken: token})
		must(t, err)
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
	out, err := s.FilterLogEvents(ctx, scopeA, logs.FilterLogEventsInput{LogGroupName: "g", LogStreamNamePrefix: "b", FilterPattern: "b1"})
	must(t, err)
	if !reflect.DeepEqual(messages(out.Events), []string{"ERROR b1"}) || out.Events[0].LogStreamName != "b" {
		t.Fatalf("prefix = %+v", out.Events)
	}
	_, err = s.FilterLogEvents(ctx, scopeA, logs.FilterLogEventsInput{LogGroupName: "nope"})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("missing group: %v", err)
	}
}

func testServiceRetention(t *testing.T, open Open) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	ctx := context.Background()
	newGroup(t, s, "s")
	day := 24 * time.Hour
	putN(t, s, "g", "s", now.Add(-3*day).UnixMilli(), "three days old")
	putN(t, s, "g", "s", now.Add(-time.Hour).UnixMilli(), "recent")
	must(t, s.PutRetentionPolicy(ctx, scopeA, "g", 1))

	// Reads hide expired events before the sweep deletes them.
	out, err := s.FilterLogEvents(ctx, scopeA, logs.FilterLogEventsInput{LogGroupName: "g"})
	must(t, err)
	if !reflect.DeepEqual(messages(out.Events), []string{"recent"}) {
		t.Fatalf("filter with retention = %v", messages(out.Events))
	}
	ge, err := s.GetLogEvents(ctx, scopeA, logs.GetLogEventsInput{LogGroupName: "g", LogStreamName: "s", StartFromHead: true})
	must(t, err)
	if !reflect.DeepEqual(messages(ge.Events), []string{"recent"}) {
		t.Fatalf("get with retention = %v", messages(ge.Events))
	}
	n, err := s.ExpireEvents(ctx, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("expired %d events, want 1", n)
	}
	// Removing the policy cannot bring deleted events back.
	must(t, s.DeleteRetentionPolicy(ctx, scopeA, "g"))
	out, _ = s.FilterLogEvents(ctx, scopeA, logs.FilterLogEventsInput{LogGroupName: "g"})
	if !reflect.DeepEqual(messages(out.Events), []string{"recent"}) {
		t.Fatalf("after sweep and policy removal = %v", messages(out.Events))
	}
	g, err := s.DescribeLogGroups(ctx, scopeA, logs.DescribeLogGroupsInput{})
	must(t, err)
	if g.LogGroups[0].RetentionInDays != 0 || g.LogGroups[0].StoredBytes != int64(len("recent")) {
		t.Fatalf("group after expiry = %+v", g.LogGroups[0])
	}
}

func testServiceDescribePaging(t *testing.T, open Open) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	ctx := context.Background()
	for i := range 5 {
		must(t, s.CreateLogGroup(ctx, scopeA, logs.CreateLogGroupInput{LogGroupName: fmt.Sprintf("g%d", i)}))
	}
	for i := range 5 {
		must(t, s.CreateLogStream(ctx, scopeA, "g0", fmt.Sprintf("s%d", i)))
		must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g1", FilterName: fmt.Sprintf("f%d", i),
			MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}}))
	}
	groups := collectPages(t, func(tok string) ([]string, string, error) {
		out, err := s.DescribeLogGroups(ctx, scopeA, logs.DescribeLogGroupsInput{Limit: intp(2), NextToken: tok})
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
		out, err := s.DescribeLogStreams(ctx, scopeA, logs.DescribeLogStreamsInput{LogGroupName: "g0", Descending: true, Limit: intp(2), NextToken: tok})
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
		out, err := s.DescribeMetricFilters(ctx, scopeA, logs.DescribeMetricFiltersInput{Limit: intp(3), NextToken: tok})
		var names []string
		for _, f := range out.MetricFilters {
			names = append(names, f.FilterName)
		}
		return names, out.NextToken, err
	})
	if !reflect.DeepEqual(filters, []string{"f0", "f1", "f2", "f3", "f4"}) {
		t.Fatalf("filters = %v", filters)
	}
	err := s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "missing", FilterName: "f",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("filter on missing group: %v", err)
	}
	_, err = s.DescribeMetricFilters(ctx, scopeA, logs.DescribeMetricFiltersInput{LogGroupName: "missing"})
	if err != logs.ErrLogGroupNotFound {
		t.Fatalf("describe filters of missing group: %v", err)
	}
}

// testServiceFilterCache checks that the per-group metric filter cache follows changes made
// through the service: new filters publish at once, deleted ones stop, and a group deleted and
// recreated under the same name starts without filters.
func testServiceFilterCache(t *testing.T, open Open) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	var got []metrics.Sample
	s.OnSamples = func(ss []metrics.Sample) { got = append(got, filterSamples(ss)...) }
	ctx := context.Background()
	newGroup(t, s, "s")
	ts := now.Add(-time.Minute).UnixMilli()
	putN(t, s, "g", "s", ts, "ERROR one") // warms the cache with no filters
	must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "errors", FilterPattern: "ERROR",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}}))
	putN(t, s, "g", "s", ts, "ERROR two")
	if len(got) != 1 || got[0].MetricName != "Errors" {
		t.Fatalf("after PutMetricFilter: %+v", got)
	}
	must(t, s.DeleteMetricFilter(ctx, scopeA, "g", "errors"))
	putN(t, s, "g", "s", ts, "ERROR three")
	if len(got) != 1 {
		t.Fatalf("after DeleteMetricFilter: %+v", got)
	}
	must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "errors", FilterPattern: "ERROR",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Errors", MetricNamespace: "App", MetricValue: "1"}}}))
	must(t, s.DeleteLogGroup(ctx, scopeA, "g"))
	newGroup(t, s, "s")
	putN(t, s, "g", "s", ts, "ERROR four")
	if len(got) != 1 {
		t.Fatalf("after the group was recreated: %+v", got)
	}
}

// testServiceRegexFilterQuota checks AWS's quota of five metric filters containing a regular expression
// per log group (filter-patterns.md §6, DOC-REGEX "Quotas"): the sixth is refused with
// LimitExceededException, replacing an existing regex filter is allowed, and filters without a regex are
// not counted.
func testServiceRegexFilterQuota(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := newService(t, open, &now)
	sc := logs.Scope{AccountID: "111122223333", Region: "us-east-1"}
	must(t, s.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "g"}))
	put := func(name, pattern string) error {
		return s.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: name, FilterPattern: pattern,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
	}
	for i := range 5 {
		must(t, put(fmt.Sprint("re", i), fmt.Sprintf("%%err%d%%", i)))
	}
	must(t, put("plain", "ERROR"))
	must(t, put("re0", "%replaced%"))
	err := put("re5", "%one too many%")
	var le *logs.Error
	if !errors.As(err, &le) || le.ErrorCode() != "LimitExceededException" {
		t.Fatalf("sixth regex filter: err = %v, want LimitExceededException", err)
	}
	must(t, put("plain2", `{ $.a = "b" }`))
}

// testExpireEventsChunks sweeps more blocks than one transaction deletes, and a block that holds
// events on both sides of the cutoff: every chunk commits, the straddling block keeps its newer
// events, and the counters end right.
func testExpireEventsChunks(t *testing.T, open Open) {
	be := open(t, fixedClock)
	db := be.Store
	ctx := context.Background()
	sc := logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
	must(t, db.CreateLogGroup(ctx, sc, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	must(t, db.CreateLogStream(ctx, sc, "g", logs.LogStream{Name: "s"}))
	const (
		hour = 60 * 60 * 1000
		day  = 24 * hour
	)
	now := int64(1000*day + hour/2) // the cutoff is half way through an hour bucket
	cutoff := now - day
	old := 2*be.ExpireBatch + 1
	b := logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", IngestionTime: now}
	for i := range old { // one block per hour
		b.Events = append(b.Events, logs.InputLogEvent{Timestamp: cutoff - int64(old-i)*hour, Message: "old"})
	}
	b.Events = append(b.Events, logs.InputLogEvent{Timestamp: cutoff - 1, Message: "old"},
		logs.InputLogEvent{Timestamp: cutoff, Message: "new!"}, logs.InputLogEvent{Timestamp: now, Message: "new!"})
	_, err := db.AppendEvents(ctx, sc, b)
	must(t, err)
	must(t, db.SetRetention(ctx, sc, "g", 1))
	n, err := db.ExpireEvents(ctx, now)
	must(t, err)
	if n != int64(old+1) {
		t.Fatalf("expired %d, want %d", n, old+1)
	}
	st, err := db.GetLogStream(ctx, sc, "g", "s")
	must(t, err)
	g, err := db.GetLogGroup(ctx, sc, "g")
	must(t, err)
	if st.StoredBytes != 8 || g.StoredBytes != 8 {
		t.Fatalf("stored bytes: stream %d, group %d, want 8", st.StoredBytes, g.StoredBytes)
	}
	var got []int64
	must(t, db.ScanEvents(ctx, sc, logs.EventQuery{LogGroupName: "g"}, func(e logs.Event) bool {
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

// testBackfillEndsAtCreation runs logs.Service.Backfill over stored events around a filter's
// creation: by default it ends at the creation time and skips events stored after it (a late
// delivery with an older timestamp included), so nothing the filter counted live is counted
// again; an explicit later end reaches an event stored earlier with a later timestamp.
func testBackfillEndsAtCreation(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := newService(t, open, &now)
	newGroup(t, s, "s")
	t0 := now.UnixMilli()
	putN(t, s, "g", "s", t0-10*60_000, "hit old")   // before the filter, older
	putN(t, s, "g", "s", t0+30*60_000, "hit ahead") // before the filter, timestamp after it
	now = now.Add(time.Minute)
	created := now.UnixMilli()
	must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "hits", FilterPattern: "hit",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Hits", MetricNamespace: "App", MetricValue: "1"}}}))
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", t0-5*60_000, "hit late") // counted live: a late delivery
	putN(t, s, "g", "s", now.UnixMilli(), "hit new")

	count := func(out logs.BackfillOutput) float64 {
		n := 0.0
		for _, smp := range out.Samples {
			n += max(smp.Count, 1)
		}
		return n
	}
	out, err := s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: t0 - time.Hour.Milliseconds()})
	must(t, err)
	if out.EndTime != created || out.CreationTime != created || out.Events != 2 || out.Skipped != 1 || count(out) != 1 {
		t.Fatalf("default backfill: end %d (created %d), %d events, %d skipped, %v counted; want end at creation, 2, 1, 1",
			out.EndTime, created, out.Events, out.Skipped, count(out))
	}
	out, err = s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: t0 - time.Hour.Milliseconds(),
		EndTime: now.Add(time.Hour).UnixMilli()})
	must(t, err)
	if out.Events != 4 || out.Skipped != 2 || count(out) != 2 {
		t.Fatalf("backfill past the creation: %d events, %d skipped, %v counted; want 4, 2, 2 (old and ahead)", out.Events, out.Skipped, count(out))
	}
	out, err = s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: created})
	must(t, err)
	if out.Events != 0 || len(out.Samples) != 0 {
		t.Fatalf("a start at the creation time backfills nothing by default: %+v", out)
	}
}

// testBackfillAfterReput: a metric filter put again keeps counting what it counted. An identical
// re-put (a re-run setup script, a Terraform apply) leaves the default backfill's end and its
// "counted live" cutoff at the time the definition went live, so an event the filter counted is not
// counted again (the reviewer's case: the re-put used to move both to the re-put's time). A changed
// definition is live only from its put: the default backfill then reaches, and counts under the new
// definition, the events stored before it.
func testBackfillAfterReput(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := newService(t, open, &now)
	newGroup(t, s, "s")
	put := func(pattern, value string) {
		must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "hits", FilterPattern: pattern,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Hits", MetricNamespace: "App", MetricValue: value}}}))
	}
	sum := func(out logs.BackfillOutput) float64 {
		n := 0.0
		for _, smp := range out.Samples {
			n += smp.Value * max(smp.Count, 1)
		}
		return n
	}
	start := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "s", now.UnixMilli(), "hit before")
	now = now.Add(time.Minute)
	live := now.UnixMilli()
	put("hit", "1")
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), "hit live") // counted as it arrives
	for range 2 {
		now = now.Add(time.Minute)
		put("hit", "1") // the same filter again
		now = now.Add(time.Minute)
		out, err := s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start})
		must(t, err)
		if out.EndTime != live || out.LiveSince != live || out.CreationTime == live || sum(out) != 1 || out.Skipped != 0 {
			t.Fatalf("default backfill after an identical re-put: end %d, live since %d, created %d, sum %v, %d skipped; want end and live since %d, only the event before it counted",
				out.EndTime, out.LiveSince, out.CreationTime, sum(out), out.Skipped, live)
		}
		out, err = s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start, EndTime: now.UnixMilli()})
		must(t, err)
		if sum(out) != 1 || out.Skipped != 1 {
			t.Fatalf("backfill to now after an identical re-put: sum %v, %d skipped; want the live event skipped", sum(out), out.Skipped)
		}
	}

	now = now.Add(time.Minute)
	changed := now.UnixMilli()
	put("hit", "10") // a new definition: it counted nothing yet
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), "hit after change")
	out, err := s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start})
	must(t, err)
	if out.EndTime != changed || out.LiveSince != changed || sum(out) != 20 {
		t.Fatalf("default backfill after a changed re-put: end %d, live since %d, sum %v; want end %d, both earlier events counted at 10",
			out.EndTime, out.LiveSince, sum(out), changed)
	}
}

// testBackfillAfterReenable: a filter disabled for its dimensions' cardinality and enabled again by
// a PutMetricFilter of the same definition keeps the time since which it was live; the default
// backfill then counts the events stored while it was disabled, and none of those it counted
// before or after.
func testBackfillAfterReenable(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := newService(t, open, &now)
	newGroup(t, s, "s")
	put := func() {
		must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "users", FilterPattern: "{ $.user = * }",
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1",
				Dimensions: map[string]string{"User": "$.user"}}}}))
	}
	start := now.Add(-time.Hour).UnixMilli()
	live := now.UnixMilli()
	put()
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"early"}`) // counted live
	now = now.Add(time.Minute)
	var evs []logs.InputLogEvent
	for i := range 1001 {
		evs = append(evs, logs.InputLogEvent{Timestamp: now.UnixMilli(), Message: fmt.Sprintf(`{"user":"u%d"}`, i)})
	}
	_, err := s.PutLogEvents(ctx, scopeA, logs.PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: evs})
	must(t, err) // the 1,001st user disables the filter
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"while disabled"}`)
	now = now.Add(time.Minute)
	reenabled := now.UnixMilli()
	put()
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"late"}`) // counted live

	out, err := s.Backfill(ctx, scopeA, logs.BackfillInput{LogGroupName: "g", FilterName: "users", StartTime: start})
	must(t, err)
	var users []string
	for _, smp := range out.Samples {
		users = append(users, smp.Dimensions[0].Value)
	}
	if out.LiveSince != live || out.PausedUntil != reenabled || out.EndTime != reenabled || len(users) != 1 || users[0] != "while disabled" {
		t.Fatalf("default backfill after re-enabling: live since %d, paused until %d, end %d, %d users %v...; want live since %d, paused and end %d, only the user stored while disabled",
			out.LiveSince, out.PausedUntil, out.EndTime, len(users), users[:min(len(users), 5)], live, reenabled)
	}
}

// testPutRecordsDedup stores a batch, the same batch again, and a batch with a repeated key: each
// record is stored and counted once, the stream is created on first use, and its stored bytes
// count only stored events.
func testPutRecordsDedup(t *testing.T, open Open) {
	be, s, now := dedupSetup(t, open)
	ctx := context.Background()
	var published int
	s.OnSamples = func(ss []metrics.Sample) { published += len(filterSamples(ss)) }
	start := now.Add(-time.Minute).UnixMilli()
	evs, keys := RootRecords(start, 250)
	in := logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: "111122223333_CloudTrail_us-east-1", Events: evs, DedupKeys: keys}
	out, err := s.PutRecords(ctx, scopeA, in)
	must(t, err)
	if out != (logs.PutRecordsOutput{Stored: 250}) {
		t.Fatalf("first delivery: %+v", out)
	}
	out, err = s.PutRecords(ctx, scopeA, in)
	must(t, err)
	if out != (logs.PutRecordsOutput{Duplicates: 250}) {
		t.Fatalf("second delivery: %+v", out)
	}
	// A batch that repeats a new key and an old one, plus an event without a key (never a duplicate).
	// A repeated record carries its eventTime, so the repeat has the same timestamp.
	more := []logs.InputLogEvent{evs[0], {Timestamp: start + 300, Message: `{"eventID":"new","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
		{Timestamp: start + 300, Message: `{"eventID":"new","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
		{Timestamp: start + 302, Message: `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`}}
	out, err = s.PutRecords(ctx, scopeA, logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: in.LogStreamName, Events: more,
		DedupKeys: []string{keys[0], "111122223333/new", "111122223333/new", ""}})
	must(t, err)
	if out != (logs.PutRecordsOutput{Stored: 2, Duplicates: 2}) {
		t.Fatalf("mixed batch: %+v", out)
	}
	if got := RootSum(t, be.Metrics, scopeA, now); got != 252 || published != 252 {
		t.Fatalf("root sum %v, published %d; want 252", got, published)
	}
	st, err := be.Store.GetLogStream(ctx, scopeA, "ct", in.LogStreamName)
	must(t, err)
	want := int64(len(more[1].Message) + len(more[3].Message))
	for _, e := range evs {
		want += int64(len(e.Message))
	}
	if st.StoredBytes != want || st.FirstEventTimestamp != start || st.LastEventTimestamp != start+302 {
		t.Fatalf("stream bookkeeping %+v, want %d bytes", st, want)
	}
	// Keys are per log group: the same records in another group are stored there.
	must(t, s.CreateLogGroup(ctx, scopeA, logs.CreateLogGroupInput{LogGroupName: "other"}))
	out, err = s.PutRecords(ctx, scopeA, logs.PutRecordsInput{LogGroupName: "other", LogStreamName: "x", Events: evs, DedupKeys: keys})
	must(t, err)
	if out.Stored != 250 {
		t.Fatalf("other group: %+v", out)
	}
}

// testPutRecordsConcurrent delivers the same records from four goroutines at once (S3 and
// EventBridge racing): they are stored and counted once.
func testPutRecordsConcurrent(t *testing.T, open Open) {
	be, s, now := dedupSetup(t, open)
	evs, keys := RootRecords(now.Add(-time.Minute).UnixMilli(), 500)
	total := PutRecordsConcurrently(t, []*logs.Service{s, s, s, s}, scopeA, evs, keys, 50)
	if total.Stored != 500 || total.Duplicates != 1500 {
		t.Fatalf("%+v", total)
	}
	if got := RootSum(t, be.Metrics, scopeA, now); got != 500 {
		t.Fatalf("root sum %v, want 500", got)
	}
}

// testPutLogEventsRecordGroup checks the group-level switch: PutLogEvents deduplicates only in a
// group tagged trailwatch:dedup=eventID or reported by IsRecordGroup, and a tag added later takes
// effect at once.
func testPutLogEventsRecordGroup(t *testing.T, open Open) {
	be, s, now := dedupSetup(t, open)
	ctx := context.Background()
	s.RecordKey = func(m string) string { return strings.Split(m, `"`)[3] }
	trailGroups := map[string]bool{}
	s.IsRecordGroup = func(_ context.Context, _ logs.Scope, g string) (bool, error) { return trailGroups[g], nil }
	must(t, s.CreateLogStream(ctx, scopeA, "ct", "s"))
	evs, _ := RootRecords(now.Add(-time.Minute).UnixMilli(), 10)
	put := func() {
		_, err := s.PutLogEvents(ctx, scopeA, logs.PutLogEventsInput{LogGroupName: "ct", LogStreamName: "s", LogEvents: evs})
		must(t, err)
	}
	put()
	put() // an ordinary group stores both
	if got := RootSum(t, be.Metrics, scopeA, now); got != 20 {
		t.Fatalf("ordinary group: root sum %v, want 20", got)
	}
	must(t, s.TagLogGroup(ctx, scopeA, "ct", map[string]string{logs.DedupTag: logs.DedupTagValue}))
	put() // keys id0..id9 are not stored with keys yet: stored once more, then never again
	put()
	if got := RootSum(t, be.Metrics, scopeA, now); got != 30 {
		t.Fatalf("tagged group: root sum %v, want 30", got)
	}
	must(t, s.UntagLogGroup(ctx, scopeA, "ct", []string{logs.DedupTag}))
	trailGroups["ct"] = true
	s.Forget(scopeA, "ct")
	put()
	if got := RootSum(t, be.Metrics, scopeA, now); got != 30 {
		t.Fatalf("trail group: root sum %v, want 30", got)
	}
	// PutLogEvents never creates a stream, in a record group either (CloudTrail's own sources do).
	_, err := s.PutLogEvents(ctx, scopeA, logs.PutLogEventsInput{LogGroupName: "ct", LogStreamName: "missing", LogEvents: evs})
	if !errors.Is(err, logs.ErrLogStreamNotFound) {
		t.Fatalf("PutLogEvents to a missing stream of a record group: %v, want ErrLogStreamNotFound", err)
	}
}

// testDisabledFilterSurvivesReopen disables a metric filter through PutLogEvents (1,001 distinct
// dimension values within an hour), then closes and reopens the store (Backend.Reopen) under a new service, as a
// restart does: the filter is still disabled (DescribeMetricFilters shows it, nothing is published,
// not even for a value counted before), until PutMetricFilter puts it again.
func testDisabledFilterSurvivesReopen(t *testing.T, open Open) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	service := func(be Backend) (*logs.Service, *int) {
		s := logs.NewService(be.Store, clock)
		published := new(int)
		s.OnSamples = func(ss []metrics.Sample) { *published += len(filterSamples(ss)) }
		return s, published
	}
	be := open(t, clock)
	s, published := service(be)
	newGroup(t, s, "s")
	put := func(s *logs.Service) {
		must(t, s.PutMetricFilter(ctx, scopeA, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "users", FilterPattern: `{ $.user = * }`,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1",
				Dimensions: map[string]string{"User": "$.user"}}}}))
	}
	put(s)
	msgs := make([]string, 1001)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"user":"u%d"}`, i)
	}
	putN(t, s, "g", "s", now.UnixMilli(), msgs...)
	if *published != 1000 {
		t.Fatalf("published %d samples, want the first 1,000", *published)
	}
	state := func(s *logs.Service) *logs.FilterStatus {
		out, err := s.DescribeMetricFilters(ctx, scopeA, logs.DescribeMetricFiltersInput{LogGroupName: "g"})
		must(t, err)
		return out.MetricFilters[0].Status
	}
	if st := state(s); st == nil || st.State != logs.FilterStateDisabled || st.Time != now.UnixMilli() {
		t.Fatalf("status after 1,001 values: %+v", st)
	}
	be = be.Reopen()
	s, published = service(be)
	if st := state(s); st == nil || st.State != logs.FilterStateDisabled {
		t.Fatalf("status after reopening: %+v", st)
	}
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"u0"}`)
	if *published != 0 {
		t.Fatalf("a disabled filter published %d samples after reopening", *published)
	}
	now = now.Add(time.Second) // a new creation time
	put(s)
	if st := state(s); st != nil {
		t.Fatalf("status after PutMetricFilter: %+v", st)
	}
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"u0"}`)
	if *published != 1 {
		t.Fatalf("the filter put again published %d samples, want 1", *published)
	}
}
