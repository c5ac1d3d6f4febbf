package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// The scale measurements of issue 15 run against a database built once per store layout, so that
// the store before and after a change can be compared with interleaved benchmark runs:
//
//	gen-cloudtrail --events 1000000 --accounts 3 --rate 50 --start 2026-12-01T00:00:00Z --out /tmp/ct1m.ndjson
//	TRAILWATCH_SCALE_DB=/tmp/scale-db TRAILWATCH_CT_CORPUS=/tmp/ct1m.ndjson go test -run TestBuildScaleDB -v -timeout 60m ./internal/store/sqlite/
//	TRAILWATCH_SCALE_DB=/tmp/scale-db go test -run '^$' -bench BenchmarkFilterLogEvents -benchtime 3x ./internal/store/sqlite/
//
// TestBuildScaleDB ingests the corpus as CloudTrail's S3 delivery does (PutRecords with dedup keys,
// one stream per account and region, batches of up to 1,000 records of one stream, four writers)
// into a group with the 14 CIS metric filters, lets compaction finish where the store has one,
// checkpoints and truncates the WAL, and reports the database's size against the raw JSON.

// scaleDir is the database directory of the scale measurements; they are skipped without one.
func scaleDir(tb testing.TB) string {
	dir := os.Getenv("TRAILWATCH_SCALE_DB")
	if dir == "" {
		tb.Skip("set TRAILWATCH_SCALE_DB to a directory to run the scale measurements")
	}
	return dir
}

type scaleRecord struct {
	ts     int64
	stream string
	key    string
	msg    string
}

// scaleClock is the service clock of the scale database: a minute after the corpus's last event.
func scaleClock(dir string) (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(dir, "clock"))
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, string(b))
}

func TestBuildScaleDB(t *testing.T) {
	dir := scaleDir(t)
	f, err := os.Open(corpusPath())
	if err != nil {
		t.Skipf("no corpus: %v", err)
	}
	defer f.Close()
	var (
		recs     []scaleRecord
		rawBytes int64
		last     int64
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var r struct {
			EventTime          time.Time
			RecipientAccountID string
			AWSRegion          string
			EventID            string
		}
		line := sc.Text()
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		ts := r.EventTime.UnixMilli()
		recs = append(recs, scaleRecord{ts, r.RecipientAccountID + "_CloudTrail_" + r.AWSRegion, r.RecipientAccountID + "/" + r.EventID, line})
		rawBytes += int64(len(line))
		last = max(last, ts)
	}
	mustOK(t, sc.Err())
	now := time.UnixMilli(last).Add(time.Minute).UTC()
	mustOK(t, os.MkdirAll(dir, 0o700))
	mustOK(t, os.WriteFile(filepath.Join(dir, "clock"), []byte(now.Format(time.RFC3339Nano)), 0o600))
	ctx := context.Background()
	db, err := Open(ctx, dir, Options{Now: func() time.Time { return now }})
	mustOK(t, err)
	svc := logs.NewService(db, func() time.Time { return now })
	mustOK(t, svc.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "ct"}))
	for _, f := range pattern.CIS() {
		mustOK(t, svc.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: f.Control, FilterPattern: f.Pattern,
			MetricTransformations: []logs.MetricTransformation{{MetricName: f.Control, MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}))
	}
	// Batches as S3 objects bring them: a stream's records in arrival order, up to 1,000 and
	// PutLogEvents' 1 MiB, cut when they would span more than five minutes or go back in time.
	type batch struct {
		stream string
		recs   []scaleRecord
		size   int
	}
	var batches []batch
	open := map[string]*batch{}
	flush := func(s string) {
		if b := open[s]; b != nil {
			batches = append(batches, *b)
			delete(open, s)
		}
	}
	for _, r := range recs {
		b := open[r.stream]
		if b != nil && (len(b.recs) == 1000 || b.size+len(r.msg)+26 > 1<<20 || r.ts-b.recs[0].ts > 5*60*1000 || r.ts < b.recs[len(b.recs)-1].ts) {
			flush(r.stream)
			b = nil
		}
		if b == nil {
			b = &batch{stream: r.stream}
			open[r.stream] = b
		}
		b.recs = append(b.recs, r)
		b.size += len(r.msg) + 26
	}
	for s := range open {
		flush(s)
	}
	work := make(chan batch)
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for b := range work {
				in := logs.PutRecordsInput{LogGroupName: "ct", LogStreamName: b.stream}
				for _, r := range b.recs {
					in.Events = append(in.Events, logs.InputLogEvent{Timestamp: r.ts, Message: r.msg})
					in.DedupKeys = append(in.DedupKeys, r.key)
				}
				if _, err := svc.PutRecords(ctx, svcScope, in); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, b := range batches {
		work <- b
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("ingested %d events (%d batches) in %v: %.0f events/s", len(recs), len(batches), elapsed.Round(time.Millisecond),
		float64(len(recs))/elapsed.Seconds())
	if c, ok := any(db).(interface {
		CompactBlocks(context.Context) (int, error)
	}); ok {
		cstart := time.Now()
		for {
			n, err := c.CompactBlocks(ctx)
			mustOK(t, err)
			if n > 0 {
				continue
			}
			// A round that lost a race with the background compactor (ErrGone) also merges
			// nothing: compaction is over when no hour has small blocks left to merge.
			pending, err := db.CompactBacklog(ctx)
			mustOK(t, err)
			if pending == 0 {
				break
			}
		}
		t.Logf("compaction finished %v after ingest", time.Since(cstart).Round(time.Millisecond))
		// The server's compactor then gives the free pages the merges left back, maxReclaim a
		// round; the test does what those rounds would.
		for {
			n, err := db.reclaimFreePages(ctx)
			mustOK(t, err)
			if n == 0 {
				break
			}
		}
	}
	mustOK(t, db.Close())
	// Close checkpoints as the last connection goes, and removes the WAL.
	fi, err := os.Stat(filepath.Join(dir, FileName))
	mustOK(t, err)
	wal, _ := os.Stat(filepath.Join(dir, FileName+"-wal"))
	var walSize int64
	if wal != nil {
		walSize = wal.Size()
	}
	t.Logf("database %d bytes (WAL %d) for %d bytes of JSON in %d events: %.1f%% of the JSON, %.0f bytes per event",
		fi.Size(), walSize, rawBytes, len(recs), 100*float64(fi.Size())/float64(rawBytes), float64(fi.Size())/float64(len(recs)))
}

// BenchmarkFilterLogEvents measures FilterLogEvents over the scale database: "root" pages with the
// CIS root-usage pattern through the whole group (MB/s of raw JSON examined per second of wall
// time and per CPU second); "firstpage" asks for the first page of the last five minutes without
// a pattern (its latency is the time per op); "recentroot" asks for the first page of the last five
// minutes with the root pattern, which has to examine every event of those minutes (root events are
// rare), so it measures a scan of about 15,000 events rather than a page's latency.
func BenchmarkFilterLogEvents(b *testing.B) {
	dir := scaleDir(b)
	now, err := scaleClock(dir)
	if err != nil {
		b.Skipf("no scale database: %v", err)
	}
	ctx := context.Background()
	db, err := Open(ctx, dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	svc := logs.NewService(db, func() time.Time { return now })
	g, err := db.GetLogGroup(ctx, svcScope, "ct")
	if err != nil {
		b.Fatal(err)
	}
	root := pattern.CIS()[0].Pattern
	b.Run("root", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			cpu0 := cpuTime()
			tok, matched := "", 0
			for {
				out, err := svc.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "ct", FilterPattern: root, NextToken: tok})
				if err != nil {
					b.Fatal(err)
				}
				matched += len(out.Events)
				if tok = out.NextToken; tok == "" {
					break
				}
			}
			cpu += cpuTime() - cpu0
			if matched == 0 {
				b.Fatal("no root events found")
			}
		}
		b.ReportMetric(float64(g.StoredBytes)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MB/s")
		b.ReportMetric(float64(g.StoredBytes)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
	})
	b.Run("firstpage", func(b *testing.B) {
		for b.Loop() {
			out, err := svc.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "ct",
				StartTime: now.Add(-5 * time.Minute).UnixMilli(), EndTime: now.UnixMilli()})
			if err != nil {
				b.Fatal(err)
			}
			if len(out.Events) == 0 {
				b.Fatal("empty first page")
			}
		}
	})
	b.Run("recentroot", func(b *testing.B) {
		for b.Loop() {
			_, err := svc.FilterLogEvents(ctx, svcScope, logs.FilterLogEventsInput{LogGroupName: "ct", FilterPattern: root,
				StartTime: now.Add(-5 * time.Minute).UnixMilli(), EndTime: now.UnixMilli()})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
