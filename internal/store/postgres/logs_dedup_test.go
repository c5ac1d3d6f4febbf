package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Ported from internal/store/sqlite (logs_dedup_test.go): the semantic tests of the log store, run on PostgreSQL
// so that both backends behave alike. SQLite-only tests (schema upgrades, query plans) stay there.

const cisRootPattern = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

// rootRecords returns n records, every one a CIS root match, with eventIDs id0..id<n-1>.
func rootRecords(start int64, n int) ([]logs.InputLogEvent, []string) {
	evs := make([]logs.InputLogEvent, n)
	keys := make([]string, n)
	for i := range n {
		evs[i] = logs.InputLogEvent{Timestamp: start + int64(i), Message: fmt.Sprintf(`{"eventID":"id%d","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`, i)}
		keys[i] = fmt.Sprintf("111122223333/id%d", i)
	}
	return evs, keys
}

func rootSum(t *testing.T, db *DB, start time.Time) float64 {
	t.Helper()
	aggs, err := db.QueryAggregates(context.Background(), metrics.Scope{AccountID: svcScope.AccountID, Region: svcScope.Region},
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

func dedupSetup(t *testing.T) (*DB, *logs.Service, time.Time) {
	t.Helper()
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	s := logs.NewService(db, func() time.Time { return now })
	ctx := context.Background()
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "ct"}))
	mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: "root", FilterPattern: cisRootPattern,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}))
	return db, s, now
}

// TestPutRecordsDedup stores a batch, the same batch again, and a batch with a repeated key: each
// record is stored and counted once, the stream is created on first use, and its stored bytes
// count only stored events.
func TestPutRecordsDedup(t *testing.T) {
	db, s, now := dedupSetup(t)
	ctx := context.Background()
	var published int
	s.OnSamples = func(ss []metrics.Sample) { published += len(filterSamples(ss)) }
	start := now.Add(-time.Minute).UnixMilli()
	evs, keys := rootRecords(start, 250)
	in := logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: "111122223333_CloudTrail_us-east-1", Events: evs, DedupKeys: keys}
	out, err := s.PutRecords(ctx, svcScope, in)
	mustOK(t, err)
	if out != (logs.PutRecordsOutput{Stored: 250}) {
		t.Fatalf("first delivery: %+v", out)
	}
	out, err = s.PutRecords(ctx, svcScope, in)
	mustOK(t, err)
	if out != (logs.PutRecordsOutput{Duplicates: 250}) {
		t.Fatalf("second delivery: %+v", out)
	}
	// A batch that repeats a new key and an old one, plus an event without a key (never a duplicate).
	// A repeated record carries its eventTime, so the repeat has the same timestamp.
	more := []logs.InputLogEvent{evs[0], {Timestamp: start + 300, Message: `{"eventID":"new","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
		{Timestamp: start + 300, Message: `{"eventID":"new","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
		{Timestamp: start + 302, Message: `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`}}
	out, err = s.PutRecords(ctx, svcScope, logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: in.LogStreamName, Events: more,
		DedupKeys: []string{keys[0], "111122223333/new", "111122223333/new", ""}})
	mustOK(t, err)
	if out != (logs.PutRecordsOutput{Stored: 2, Duplicates: 2}) {
		t.Fatalf("mixed batch: %+v", out)
	}
	if got := rootSum(t, db, now); got != 252 || published != 252 {
		t.Fatalf("root sum %v, published %d; want 252", got, published)
	}
	st, err := db.GetLogStream(ctx, svcScope, "ct", in.LogStreamName)
	mustOK(t, err)
	want := int64(len(more[1].Message) + len(more[3].Message))
	for _, e := range evs {
		want += int64(len(e.Message))
	}
	if st.StoredBytes != want || st.FirstEventTimestamp != start || st.LastEventTimestamp != start+302 {
		t.Fatalf("stream bookkeeping %+v, want %d bytes", st, want)
	}
	// Keys are per log group: the same records in another group are stored there.
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "other"}))
	out, err = s.PutRecords(ctx, svcScope, logs.PutRecordsInput{LogGroupName: "other", LogStreamName: "x", Events: evs, DedupKeys: keys})
	mustOK(t, err)
	if out.Stored != 250 {
		t.Fatalf("other group: %+v", out)
	}
}

// TestPutRecordsConcurrent delivers the same records from four goroutines at once (S3 and
// EventBridge racing): they are stored and counted once.
func TestPutRecordsConcurrent(t *testing.T) {
	db, s, now := dedupSetup(t)
	ctx := context.Background()
	evs, keys := rootRecords(now.Add(-time.Minute).UnixMilli(), 500)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := logs.PutRecordsOutput{}
	for range 4 {
		wg.Go(func() {
			for i := 0; i < len(evs); i += 50 {
				out, err := s.PutRecords(ctx, svcScope, logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: "a_CloudTrail_r", Events: evs[i : i+50], DedupKeys: keys[i : i+50]})
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
	if total.Stored != 500 || total.Duplicates != 1500 {
		t.Fatalf("%+v", total)
	}
	if got := rootSum(t, db, now); got != 500 {
		t.Fatalf("root sum %v, want 500", got)
	}
}

// TestPutLogEventsRecordGroup checks the group-level switch: PutLogEvents deduplicates only in a
// group tagged trailwatch:dedup=eventID or reported by IsRecordGroup, and a tag added later takes
// effect at once.
func TestPutLogEventsRecordGroup(t *testing.T) {
	db, s, now := dedupSetup(t)
	ctx := context.Background()
	s.RecordKey = func(m string) string { return strings.Split(m, `"`)[3] }
	trailGroups := map[string]bool{}
	s.IsRecordGroup = func(_ context.Context, _ logs.Scope, g string) (bool, error) { return trailGroups[g], nil }
	mustOK(t, s.CreateLogStream(ctx, svcScope, "ct", "s"))
	evs, _ := rootRecords(now.Add(-time.Minute).UnixMilli(), 10)
	put := func() {
		_, err := s.PutLogEvents(ctx, svcScope, logs.PutLogEventsInput{LogGroupName: "ct", LogStreamName: "s", LogEvents: evs})
		mustOK(t, err)
	}
	put()
	put() // an ordinary group stores both
	if got := rootSum(t, db, now); got != 20 {
		t.Fatalf("ordinary group: root sum %v, want 20", got)
	}
	mustOK(t, s.TagLogGroup(ctx, svcScope, "ct", map[string]string{logs.DedupTag: logs.DedupTagValue}))
	put() // keys id0..id9 are not stored with keys yet: stored once more, then never again
	put()
	if got := rootSum(t, db, now); got != 30 {
		t.Fatalf("tagged group: root sum %v, want 30", got)
	}
	mustOK(t, s.UntagLogGroup(ctx, svcScope, "ct", []string{logs.DedupTag}))
	trailGroups["ct"] = true
	s.Forget(svcScope, "ct")
	put()
	if got := rootSum(t, db, now); got != 30 {
		t.Fatalf("trail group: root sum %v, want 30", got)
	}
	// PutLogEvents never creates a stream, in a record group either (CloudTrail's own sources do).
	_, err := s.PutLogEvents(ctx, svcScope, logs.PutLogEventsInput{LogGroupName: "ct", LogStreamName: "missing", LogEvents: evs})
	if !errors.Is(err, logs.ErrLogStreamNotFound) {
		t.Fatalf("PutLogEvents to a missing stream of a record group: %v, want ErrLogStreamNotFound", err)
	}
}

// TestDedupKeysSurviveSchema070 opens a database as schema 060 left it (text dedup keys, separate
// dedup index) and checks that after the upgrade a stored record arriving again is still a
