package logstest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// The benchmarks of a log store, which every backend runs under the same names so that the
// backends compare in one run:
//
//	go test -run '^$' -bench 'PutLogEvents' -benchtime 60x ./internal/store/sqlite ./internal/store/postgres

// OpenBench returns a new, empty log store, closed when b ends.
type OpenBench func(b testing.TB) logs.Store

// CPUTime is the user plus system CPU time the process has used.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CorpusPath is the gen-cloudtrail corpus the ingestion benchmark replays:
//
//	/work/shared/tools/gen-cloudtrail --events 100000 --out /tmp/ct.ndjson
//
// TRAILWATCH_CT_CORPUS overrides it; the benchmark is skipped when the file is absent.
func CorpusPath() string {
	if p := os.Getenv("TRAILWATCH_CT_CORPUS"); p != "" {
		return p
	}
	return "/tmp/ct.ndjson"
}

// corpusKey is a record's dedup key, <recipientAccountId>/<eventID>, as the CloudTrail sources make it.
func corpusKey(b *testing.B, rec string) string {
	var r struct{ RecipientAccountID, EventID string }
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		b.Fatal(err)
	}
	return r.RecipientAccountID + "/" + r.EventID
}

func loadCorpus(b *testing.B) []string {
	b.Helper()
	f, err := os.Open(CorpusPath())
	if err != nil {
		b.Skipf("no CloudTrail corpus: %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return lines
}

// BenchPutLogEvents measures durable ingestion through logs.Service over the store open returns
// (each answer waits for its transaction to be durable: SQLite's WAL fsync, PostgreSQL's commit) of
// a CloudTrail corpus. "filters=none" is the baseline without metric
// filters; "filters=cis" has the 14 CIS filters installed, so every event is also evaluated and
// matches become metric datapoints in the same transaction. "writers=1" sends one batch at a time
// (each waits for its own fsync); "writers=4" has four concurrent senders, as a server has, so
// group commit can share fsyncs between their batches.
func BenchPutLogEvents(b *testing.B, open OpenBench) {
	corpus := loadCorpus(b)
	for _, writers := range []int{1, 4} {
		for _, withFilters := range []bool{false, true} {
			for _, dedup := range []bool{false, true} {
				name := fmt.Sprintf("writers=%d/filters=none/dedup=%v", writers, dedup)
				if withFilters {
					name = fmt.Sprintf("writers=%d/filters=cis/dedup=%v", writers, dedup)
				}
				b.Run(name, func(b *testing.B) { benchIngest(b, open, corpus, withFilters, dedup, writers) })
			}
		}
	}
}

func benchIngest(b *testing.B, open OpenBench, corpus []string, withFilters, dedup bool, writers int) {
	const group = "CloudTrail/DefaultLogGroup"
	ctx := context.Background()
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := open(b)
	svc := logs.NewService(db, func() time.Time { return now })
	sc := logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
	if err := svc.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: group}); err != nil {
		b.Fatal(err)
	}
	for w := range writers {
		if err := svc.CreateLogStream(ctx, sc, group, fmt.Sprintf("trail-%d", w)); err != nil {
			b.Fatal(err)
		}
	}
	if withFilters {
		for _, f := range pattern.CIS() {
			err := svc.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: group,
				FilterName: f.Control, FilterPattern: f.Pattern, MetricTransformations: []logs.MetricTransformation{{
					MetricName: f.Control, MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	// Batches hold up to 1,000 events but never more than PutLogEvents' 1 MiB (message bytes plus
	// 26 per event): CloudTrail records average ~1.3 KB, so a batch is ~800 events.
	// With dedup, batches go through PutRecords (as CloudTrail sources do) with each record's
	// account/eventID as its key; every key is new until the corpus repeats.
	var (
		batches [][]logs.InputLogEvent
		keys    [][]string
	)
	start := now.Add(-time.Hour).UnixMilli()
	for i := 0; i < len(corpus); {
		var (
			evs []logs.InputLogEvent
			ks  []string
		)
		size := 0
		for ; i < len(corpus) && len(evs) < 1000 && size+len(corpus[i])+26 <= 1048576; i++ {
			size += len(corpus[i]) + 26
			evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i), Message: corpus[i]})
			ks = append(ks, corpusKey(b, corpus[i]))
		}
		batches = append(batches, evs)
		keys = append(keys, ks)
	}
	var (
		next   atomic.Int64 // batches handed out
		events atomic.Int64
		bytes  atomic.Int64
		wg     sync.WaitGroup
		errs   = make(chan error, writers)
	)
	cpu0 := CPUTime()
	b.ResetTimer()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("trail-%d", w)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				evs := batches[i%int64(len(batches))]
				var err error
				if dedup {
					_, err = svc.PutRecords(ctx, sc, logs.PutRecordsInput{LogGroupName: group, LogStreamName: stream, Events: evs, DedupKeys: keys[i%int64(len(batches))]})
				} else {
					_, err = svc.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream, LogEvents: evs})
				}
				if err != nil {
					errs <- err
					return
				}
				events.Add(int64(len(evs)))
				for _, e := range evs {
					bytes.Add(int64(len(e.Message)))
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(events.Load())/b.Elapsed().Seconds(), "events/s")
	// The machine this runs on is often shared; CPU time per event says what a dedicated core
	// would sustain, independent of how long the process waited for one.
	b.ReportMetric(float64(events.Load())/(CPUTime()-cpu0).Seconds(), "events/cpu-s")
	b.ReportMetric(float64(bytes.Load())/b.Elapsed().Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(events.Load())/float64(b.N), "events/batch")
}

// BenchScanEvents measures reading a CloudTrail log group back the way FilterLogEvents pages
// through it (10,000 events per page, resuming from a (timestamp, seq) cursor): the corpus is stored
// in 20 streams with dedup keys and timestamps of one-second resolution, so many events share a
// timestamp, as CloudTrail's do. It guards the read side of index changes made for ingestion
// (SQLite's schema 070 halved it; 080 restored it).
func BenchScanEvents(b *testing.B, open OpenBench) {
	corpus := loadCorpus(b)
	ctx := context.Background()
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := open(b)
	svc := logs.NewService(db, func() time.Time { return now })
	sc := logs.Scope{AccountID: "111111111111", Region: "us-east-1"}
	if err := svc.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "g"}); err != nil {
		b.Fatal(err)
	}
	start := now.Add(-time.Hour).UnixMilli()
	for s := 0; s < 20; s++ {
		var evs []logs.InputLogEvent
		var keys []string
		// Stream s gets every 20th record; timestamps repeat in blocks of 100 (one-second resolution).
		for i := s; i < len(corpus); i += 20 {
			evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i/100)*1000, Message: corpus[i]})
			keys = append(keys, corpusKey(b, corpus[i]))
			if len(evs) == 700 {
				if _, err := svc.PutRecords(ctx, sc, logs.PutRecordsInput{LogGroupName: "g", LogStreamName: fmt.Sprint("s", s), Events: evs, DedupKeys: keys}); err != nil {
					b.Fatal(err)
				}
				evs, keys = nil, nil
			}
		}
		if len(evs) > 0 {
			if _, err := svc.PutRecords(ctx, sc, logs.PutRecordsInput{LogGroupName: "g", LogStreamName: fmt.Sprint("s", s), Events: evs, DedupKeys: keys}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		var after *logs.EventCursor
		for {
			got := 0
			err := db.ScanEvents(ctx, sc, logs.EventQuery{LogGroupName: "g", After: after}, func(e logs.Event) bool {
				n++
				got++
				after = &logs.EventCursor{Timestamp: e.Timestamp, Seq: e.Seq}
				return got < 10000
			})
			if err != nil {
				b.Fatal(err)
			}
			if got < 10000 {
				break
			}
		}
		if n != len(corpus) {
			b.Fatalf("read %d of %d", n, len(corpus))
		}
	}
	b.ReportMetric(float64(len(corpus)*b.N)/b.Elapsed().Seconds(), "events/s")
}
