package sqlite

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

func TestAlarmStoreConformance(t *testing.T) {
	alarmtest.Run(t, func(t *testing.T) alarm.Store {
		db, err := Open(context.Background(), t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// The retry state of a pending alarm action is on disk: after a restart the action is still
// pending, hidden until its next attempt time, with its attempt count and last error (issue 11,
// item 5).
func TestAlarmActionRetrySurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	sc := alarm.Scope{AccountID: "111111111111", Region: "us-east-1"}
	if err := db.Apply(ctx, alarm.Change{Actions: []alarm.Action{{Scope: sc, AlarmName: "root", AlarmType: alarm.TypeMetric, AlarmARN: "arn:alarm",
		ActionARN: "arn:aws:sns:us-east-1:111111111111:t", OldState: alarm.StateOK, NewState: alarm.StateAlarm, Subject: "s", Message: "{}",
		StateUpdated: t0, Created: t0}}}); err != nil {
		t.Fatal(err)
	}
	pend, err := db.PendingActions(ctx, t0, 10)
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending %v %v", pend, err)
	}
	next := t0.Add(8 * time.Second)
	if err := db.RetryAction(ctx, pend[0].ID, alarm.ActionRetry{Attempts: 4, NextAttempt: next, Err: "database is locked"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if early, err := db.PendingActions(ctx, next.Add(-time.Second), 10); err != nil || len(early) != 0 {
		t.Errorf("due before its next attempt after reopening: %v %v", early, err)
	}
	due, err := db.PendingActions(ctx, next, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due after reopening: %v %v", due, err)
	}
	if a := due[0]; a.ID != pend[0].ID || a.Attempts != 4 || !a.NextAttempt.Equal(next) || a.Error != "database is locked" || a.Status != alarm.ActionPending {
		t.Errorf("reopened action: %+v", a)
	}
}

// PendingActions keeps the outbox first in, first out per alarm and action ARN without a scan per
// pending action: the outer query walks the partial index of pending rows and the NOT EXISTS is
// one seek in alarm_actions_pending_fifo (schema_140).
func TestPendingActionsQueryPlan(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+pendingActionsQuery, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !slices.Contains(plan, "SCAN a USING INDEX alarm_actions_pending") ||
		!slices.ContainsFunc(plan, func(s string) bool {
			return strings.HasPrefix(s, "SEARCH b USING COVERING INDEX alarm_actions_pending_fifo (")
		}) {
		t.Errorf("query plan does not walk the pending rows and seek alarm_actions_pending_fifo:\n%s", strings.Join(plan, "\n"))
	}
}

// BenchmarkAlarmRound10k is one regular evaluation round of 10,000 alarms (the seed's RootAccountUsage
// alarm shape: Sum >= 1, period 300, 1 of 1, notBreaching) on 10,000 metrics over SQLite. "half-data":
// half the metrics have a datapoint in their evaluation range (the others are idle, which the service
// proves once and then skips); "all-data": every metric has one, so every alarm queries SQLite (the
// worst case, and the baseline of the idle-metric cache). States are settled before timing, so a
// round is the steady state without transitions. It reports the CPU time of a round (user+system of
// the whole process, which is what "under 1 s of CPU" asks).
func BenchmarkAlarmRound10k(b *testing.B) {
	for _, every := range []int{2, 1} {
		name := "half-data"
		if every == 1 {
			name = "all-data"
		}
		b.Run(name, func(b *testing.B) { benchRound(b, every) })
	}
}

func benchRound(b *testing.B, every int) {
	const n = 10000
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
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
	if got := svc.Round(ctx, now, false); got != n {
		b.Fatalf("settling round made %d transitions, want %d", got, n)
	}
	cpu0 := cpuTime()
	rounds := 0
	for b.Loop() {
		if got := svc.Round(ctx, now, false); got != 0 {
			b.Fatalf("steady round made %d transitions", got)
		}
		rounds++
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(rounds), "cpu-s/round")
}
