package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
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

// BenchmarkInsertSamplesTx measures the SQL cost of a 1,000-sample batch inside a transaction that
// is rolled back, i.e. without the commit's fsync, which the logs store pays once per PutLogEvents.
func BenchmarkInsertSamplesTx(b *testing.B) {
	db, err := Open(context.Background(), b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	samples := benchSamples(1000)
	if err := db.AddSamples(ctx, samples); err != nil { // rows exist: the upsert path is measured
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.insertSamplesTx(ctx, tx, samples); err != nil {
			b.Fatal(err)
		}
		tx.Rollback()
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
	f.Add(encodeDist(&metrics.Aggregate{Dist: []metrics.ValueCount{{Value: 1, Count: 3}, {Value: 2.5, Count: 1}}}))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDist(b)
		if err != nil {
			return
		}
		if got := encodeDist(&metrics.Aggregate{Dist: d}); len(b) > 0 && string(got) != string(b) {
			t.Fatalf("decode/encode changed %x into %x", b, got)
		}
	})
}
