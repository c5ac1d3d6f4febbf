package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
	"github.com/trailwatch/trailwatch/internal/store/metricrow"
)

func openMetricsDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMetricsConformance(t *testing.T) {
	metricstest.Run(t, func(t *testing.T) metrics.Store { return openMetricsDB(t) })
}

// benchSamples is a metric-filter-like batch: n samples of value 1 over two metrics and two minutes.
func benchSamples(n int) []metrics.Sample {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	out := make([]metrics.Sample, n)
	for i := range out {
		out[i] = metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: []string{"RootAccountUsageCount", "ConsoleSigninFailureCount"}[i%2],
			Timestamp:  t0.Add(time.Duration(i) * 100 * time.Millisecond), Value: 1}
	}
	return out
}

// cisBatchSamples is what the 14 CIS filters publish for one PutLogEvents batch of ~800 CloudTrail
// records of one stream: ~290 samples of value 1 spread over 14 metrics and the 20 minutes the
// batch's records cover, so most metric-minutes get one or two samples (measured on a
// gen-cloudtrail corpus: 18,239 samples over 542 metric-minutes for 50,000 records in 30 streams).
func cisBatchSamples() []metrics.Sample {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	out := make([]metrics.Sample, 290)
	for i := range out {
		out[i] = metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: fmt.Sprint("CloudWatch.", 1+i%14), Timestamp: t0.Add(time.Duration(i) * 1200 * time.Second / 290), Value: 1}
	}
	return out
}

// BenchmarkInsertSamplesTx measures the SQL cost of a batch's samples inside a transaction that is
// rolled back, i.e. without the commit and its fsync, which the logs store pays once per group of
// PutLogEvents: 1,000 samples on two metrics and two minutes, and a CIS-shaped batch (cisBatchSamples).
func BenchmarkInsertSamplesTx(b *testing.B) {
	for _, c := range []struct {
		name    string
		samples []metrics.Sample
	}{{"two-metrics", benchSamples(1000)}, {"cis-batch", cisBatchSamples()}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := Open(context.Background(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if err := db.AddSamples(ctx, c.samples); err != nil { // rows exist: the upsert path is measured
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				tx, err := db.write.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := db.insertSamplesTx(ctx, tx, c.samples); err != nil {
					b.Fatal(err)
				}
				tx.Rollback()
			}
		})
	}
}

// BenchmarkTxBaseline is the begin/rollback pair BenchmarkInsertSamplesTx also pays: subtract it
// to get the cost of insertSamplesTx itself.
func BenchmarkTxBaseline(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for b.Loop() {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		tx.Rollback()
	}
}

// BenchmarkAddSamples is the same batch committed and synced.
func BenchmarkAddSamples(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	samples := benchSamples(1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := db.AddSamples(ctx, samples); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAlarmQuery is what an alarm evaluation costs: a day of one-minute data exists, and the
// alarm asks for five 5-minute buckets of Sum.
func BenchmarkAlarmQuery(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var day []metrics.Sample
	for i := range 1440 {
		day = append(day, metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: "RootAccountUsageCount", Timestamp: end.Add(-time.Duration(i) * time.Minute), Value: 1})
	}
	if err := db.AddSamples(ctx, day); err != nil {
		b.Fatal(err)
	}
	svc := metrics.NewService(db, func() time.Time { return end })
	q := metrics.AggregateQuery{Metric: metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsageCount"},
		Start: end.Add(-25 * time.Minute), End: end, Period: 300}
	b.ReportAllocs()
	for b.Loop() {
		aggs, err := svc.Aggregates(ctx, metrics.Scope{AccountID: "111111111111", Region: "us-east-1"}, q)
		if err != nil || len(aggs) != 5 {
			b.Fatalf("Aggregates = %d buckets, %v", len(aggs), err)
		}
	}
}

// FuzzDecodeDist checks the stored distribution decoder on arbitrary bytes: it rejects or decodes
// without panicking, and what it decodes re-encodes to the same bytes.
func FuzzDecodeDist(f *testing.F) {
	f.Add(metricrow.EncodeDist(&metrics.Aggregate{Dist: []metrics.ValueCount{{Value: 1, Count: 3}, {Value: 2.5, Count: 1}}}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := metricrow.DecodeDist(b)
		if err != nil {
			return
		}
		if got := metricrow.EncodeDist(&metrics.Aggregate{Dist: d}); len(b) > 0 && string(got) != string(b) {
			t.Fatalf("decode/encode changed %x into %x", b, got)
		}
	})
}

// TestInsertSamplesMergesStoredMinutes checks that a batch's minutes are merged with those already
// stored, both when insertSamplesTx reads them in one range (minutes close together, as a CloudTrail
// batch's are) and one at a time (a few minutes scattered over days, as a backfill batch's can be),
// and that minutes of the range the batch does not touch are left alone.
func TestInsertSamplesMergesStoredMinutes(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sample := func(at time.Duration, v float64) metrics.Sample {
		return metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: "RootAccountUsage", Timestamp: t0.Add(at), Value: v}
	}
	for _, tc := range []struct {
		name string
		step time.Duration // distance between the minutes a batch touches
	}{{"consecutive minutes", time.Minute}, {"minutes days apart", 72 * time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openMetricsDB(t)
			// Minutes 0, 2 and 4 (in steps) get one sample each; minute 1 two.
			first := []metrics.Sample{sample(0, 1), sample(tc.step, 2), sample(tc.step+time.Second, 3), sample(2*tc.step, 4), sample(4*tc.step, 5)}
			if err := db.AddSamples(ctx, first); err != nil {
				t.Fatal(err)
			}
			// Minutes 0, 1 and 3 again or for the first time; 2 and 4 are left alone.
			second := []metrics.Sample{sample(tc.step+2*time.Second, 10), sample(10*time.Second, 20), sample(3*tc.step, 30)}
			if err := db.AddSamples(ctx, second); err != nil {
				t.Fatal(err)
			}
			want := map[int64][2]float64{ // minute -> sample count, sum
				0: {2, 21}, 1: {3, 15}, 2: {1, 4}, 3: {1, 30}, 4: {1, 5},
			}
			rows, err := db.read.QueryContext(ctx, `SELECT minute, sample_count, sum FROM metric_minutes ORDER BY minute`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := map[int64][2]float64{}
			for rows.Next() {
				var m int64
				var c, s float64
				if err := rows.Scan(&m, &c, &s); err != nil {
					t.Fatal(err)
				}
				got[(m-t0.Unix())/int64(tc.step.Seconds())] = [2]float64{c, s}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("minutes (index: count, sum) = %v, want %v", got, want)
			}
		})
	}
}

// TestMultiRowChunks checks how batches are cut into multi-row statements: full statements of max
// rows, then a tail in falling powers of two, every size among those prepareWrites prepared, so no
// transaction has to prepare its own.
func TestMultiRowChunks(t *testing.T) {
	db := openMetricsDB(t)
	for _, m := range []multiRow{writeMinutes} {
		if m.max != 100 {
			t.Fatalf("%s: max %d; the sizes below assume 100", m.name, m.max)
		}
		for n := 1; n <= 3*m.max; n++ {
			var sizes []int
			for done := 0; done < n; {
				size := m.chunk(n - done)
				if size < 1 || size > n-done {
					t.Fatalf("%s: chunk(%d) = %d", m.name, n-done, size)
				}
				if _, ok := db.writeStmts[stmtKey{m.name, size}]; !ok {
					t.Fatalf("%s: %d rows is not prepared", m.name, size)
				}
				sizes = append(sizes, size)
				done += size
			}
			if n == 299 && fmt.Sprint(sizes) != "[100 100 64 32 2 1]" {
				t.Fatalf("%s: %d rows in statements of %v", m.name, n, sizes)
			}
		}
	}
}

// TestCompactAfterBackfill: a sample stored into a slot that was already rolled up (a backfill
// reaching 20 days back) lowers the metric's watermark, and the next compaction folds it into the
// slot, so the slot is one aggregate again with every sample counted.
func TestCompactAfterBackfill(t *testing.T) {
	ctx := context.Background()
	db := openMetricsDB(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	slot := now.Add(-20 * 24 * time.Hour).Truncate(5 * time.Minute)
	at := func(d time.Duration, v float64) metrics.Sample {
		return metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: "RootAccountUsage", Timestamp: slot.Add(d), Value: v}
	}
	rows := func() (n int, sum float64) {
		if err := db.read.QueryRow(`SELECT count(*), coalesce(sum(sum), 0) FROM metric_minutes`).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		return n, sum
	}
	if err := db.AddSamples(ctx, []metrics.Sample{at(0, 1), at(time.Minute, 2), at(3*time.Minute, 4), at(time.Hour, 8)}); err != nil {
		t.Fatal(err)
	}
	if removed, err := db.Compact(ctx, metrics.RollupAt(now)); err != nil || removed != 2 {
		t.Fatalf("first compaction removed %d, %v; want 2 (three minutes of one slot into one)", removed, err)
	}
	var watermark int64
	if err := db.read.QueryRow(`SELECT rolled_5m FROM metric_series`).Scan(&watermark); err != nil || watermark != metrics.RollupAt(now).FiveMinutesBefore.Unix() {
		t.Fatalf("watermark %d, %v; want the cutoff", watermark, err)
	}
	if err := db.AddSamples(ctx, []metrics.Sample{at(2*time.Minute, 16)}); err != nil { // the backfill
		t.Fatal(err)
	}
	if err := db.read.QueryRow(`SELECT rolled_5m FROM metric_series`).Scan(&watermark); err != nil || watermark > slot.Unix() {
		t.Fatalf("watermark %d after a sample in a rolled-up slot, %v; want at most %d", watermark, err, slot.Unix())
	}
	if n, sum := rows(); n != 3 || sum != 31 {
		t.Fatalf("%d aggregates summing %v before the second compaction; want 3, 31", n, sum)
	}
	if removed, err := db.Compact(ctx, metrics.RollupAt(now)); err != nil || removed != 1 {
		t.Fatalf("second compaction removed %d, %v; want 1", removed, err)
	}
	if n, sum := rows(); n != 2 || sum != 31 {
		t.Fatalf("%d aggregates summing %v; want 2 (two slots), 31", n, sum)
	}
}

// TestRepeatedDimensionNamesOneMetric: the same dimensions in two orders, a name repeated (possible
// for a direct store caller; PutMetricData refuses repeated names), are one metric, and two samples
// of one minute in one batch both count (found in review: they made two batches whose second write
// replaced the first's).
func TestRepeatedDimensionNamesOneMetric(t *testing.T) {
	ctx := context.Background()
	db := openMetricsDB(t)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	smp := func(v float64, dims ...metrics.Dimension) metrics.Sample {
		return metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "App", MetricName: "M",
			Dimensions: dims, Timestamp: t0, Value: v}
	}
	if err := db.AddSamples(ctx, []metrics.Sample{smp(2, metrics.Dimension{Name: "A", Value: "2"}, metrics.Dimension{Name: "A", Value: "1"}),
		smp(4, metrics.Dimension{Name: "A", Value: "1"}, metrics.Dimension{Name: "A", Value: "2"})}); err != nil {
		t.Fatal(err)
	}
	var n, count, sum float64
	if err := db.read.QueryRow(`SELECT count(*), sum(sample_count), sum(sum) FROM metric_minutes`).Scan(&n, &count, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 1 || count != 2 || sum != 6 {
		t.Fatalf("%v minutes, %v samples, sum %v; want 1, 2, 6", n, count, sum)
	}
}
