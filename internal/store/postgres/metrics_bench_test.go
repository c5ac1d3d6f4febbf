package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

// cisBatchSamples is sqlite's benchmark batch: the samples the 14 CIS filters make of a CloudTrail
// batch (290 samples on 14 metrics over 20 minutes).
func cisBatchSamples() []metrics.Sample {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	out := make([]metrics.Sample, 290)
	for i := range out {
		out[i] = metrics.Sample{AccountID: "111111111111", Region: "us-east-1", Namespace: "CloudTrailMetrics",
			MetricName: fmt.Sprint("CloudWatch.", 1+i%14), Timestamp: t0.Add(time.Duration(i) * 1200 * time.Second / 290), Value: 1}
	}
	return out
}

// BenchmarkInsertSamplesTx is the SQL cost of a CIS batch's samples inside a transaction that is
// rolled back: what the PostgreSQL log store's append will pay for its datapoints.
func BenchmarkInsertSamplesTx(b *testing.B) {
	db := openTest(b, Options{})
	ctx := context.Background()
	samples := cisBatchSamples()
	if err := db.AddSamples(ctx, samples); err != nil { // rows exist: the upsert path is measured
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := insertSamplesTx(ctx, tx, samples); err != nil {
			b.Fatal(err)
		}
		tx.Rollback(ctx)
	}
}

// BenchmarkAddSamplesCIS commits a CIS batch's samples on PostgreSQL and, in the same run, on SQLite.
func BenchmarkAddSamplesCIS(b *testing.B) {
	samples := cisBatchSamples()
	run := func(b *testing.B, st metrics.Store) {
		ctx := context.Background()
		for b.Loop() {
			if err := st.AddSamples(ctx, samples); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	}
	b.Run("postgres", func(b *testing.B) { run(b, openTest(b, Options{})) })
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		run(b, db)
	})
}
