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

// BenchmarkAddSamples is the same batch committed (with synchronous=FULL).
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
