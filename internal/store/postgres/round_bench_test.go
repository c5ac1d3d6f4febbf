package postgres

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

// roundStore is what an alarm round needs of a backend.
type roundStore interface {
	alarm.Store
	metrics.Store
}

// BenchmarkAlarmRound10k is one regular evaluation round of 10,000 alarms on 10,000 metrics, half
// of them with a datapoint in range (sqlite's BenchmarkAlarmRound10k/half-data), on PostgreSQL and,
// in the same run, on SQLite. States are settled before timing, so a round is the steady state
// without transitions. ns/op is the round's wall time; the PostgreSQL server's own CPU is not in
// this process's.
func BenchmarkAlarmRound10k(b *testing.B) {
	b.Run("postgres", func(b *testing.B) { benchRound(b, openTest(b, Options{})) })
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchRound(b, db)
	})
}

func benchRound(b *testing.B, db roundStore) {
	const n, every = 10000, 2
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sc := alarm.Scope{AccountID: "111111111111", Region: "us-east-1"}
	var samples []metrics.Sample
	for i := range n / every {
		samples = append(samples, metrics.Sample{AccountID: sc.AccountID, Region: sc.Region, Namespace: "CloudTrailMetrics",
			MetricName: "M" + strconv.Itoa(i*every), Timestamp: now.Add(-time.Duration(1+i%14) * time.Minute), Value: 1})
	}
	if err := db.AddSamples(ctx, samples); err != nil {
		b.Fatal(err)
	}
	period, evals, threshold := int32(300), int32(1), 1.0
	var change alarm.Change
	for i := range n {
		name := "alarm-" + strconv.Itoa(i)
		change.Put = append(change.Put, &alarm.Record{Scope: sc, Name: name, Type: alarm.TypeMetric,
			Metric: &alarm.MetricAlarm{AlarmName: name, ActionsEnabled: true, AlarmActions: []string{"arn:aws:sns:us-east-1:111111111111:t"},
				MetricName: "M" + strconv.Itoa(i), Namespace: "CloudTrailMetrics", Statistic: alarm.StatSum, Period: &period,
				EvaluationPeriods: &evals, Threshold: &threshold, ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
				TreatMissingData: alarm.TreatNotBreaching},
			ConfigUpdated: now.Add(-time.Hour), State: alarm.StateInsufficientData, Reason: alarm.InitialReason,
			StateUpdated: now.Add(-time.Hour), StateTransitioned: now.Add(-time.Hour)})
	}
	if err := db.Apply(ctx, change); err != nil {
		b.Fatal(err)
	}
	clock := func() time.Time { return now }
	svc, err := alarm.NewService(ctx, db, metrics.NewService(db, clock), clock)
	if err != nil {
		b.Fatal(err)
	}
	settle := time.Now()
	if got := svc.Round(ctx, now, false); got != n {
		b.Fatalf("settling round made %d transitions, want %d", got, n)
	}
	b.Logf("settling round (%d transitions, one transaction each): %v", n, time.Since(settle))
	for b.Loop() {
		if got := svc.Round(ctx, now, false); got != 0 {
			b.Fatalf("steady round made %d transitions", got)
		}
	}
}
