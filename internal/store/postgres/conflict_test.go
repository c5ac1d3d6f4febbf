package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// A replica whose view of an alarm is stale cannot overwrite a newer change made through another
// replica: its evaluation's transition is refused (alarm.ErrConflict) and it takes the stored
// record instead, and its PutMetricAlarm is rebuilt from the stored record, keeping the state the
// other replica set.
func TestStaleReplicaCannotUndoANewerChange(t *testing.T) {
	u := testSchema(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	open := func() (*DB, *alarm.Service, *[]error) {
		db, err := Open(ctx, u, Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svc, err := alarm.NewService(ctx, db, metrics.NewService(db, clock), clock)
		if err != nil {
			t.Fatal(err)
		}
		var errs []error
		svc.OnError = func(err error) { errs = append(errs, err) }
		return db, svc, &errs
	}
	dbA, a, errsA := open()
	_, b, _ := open()
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	k := alarm.AlarmKey{Scope: sc, Name: "root"}
	p, n := int32(60), int32(1)
	alarmWith := func(threshold float64, desc string) alarm.MetricAlarm {
		return alarm.MetricAlarm{AlarmName: "root", AlarmDescription: desc, MetricName: "M", Namespace: "CloudTrailMetrics",
			Statistic: alarm.StatSum, Period: &p, EvaluationPeriods: &n, Threshold: &threshold,
			ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching}
	}
	if err := a.PutMetricAlarm(ctx, sc, alarmWith(1, ""), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := b.PutMetricAlarm(ctx, sc, alarmWith(5, ""), nil); err != nil { // a does not hear of it
		t.Fatal(err)
	}
	if err := dbA.AddSamples(ctx, []metrics.Sample{{AccountID: sc.AccountID, Region: sc.Region, Namespace: "CloudTrailMetrics",
		MetricName: "M", Timestamp: t0.Add(30 * time.Second), Value: 2}}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = t0.Add(time.Minute)
	mu.Unlock()
	if got := a.Round(ctx, t0.Add(time.Minute), false); got != 0 {
		t.Fatalf("a's stale round made %d transitions", got)
	}
	if len(*errsA) != 1 || !errors.Is((*errsA)[0], alarm.ErrConflict) {
		t.Fatalf("a's errors %v, want one ErrConflict", *errsA)
	}
	stored, err := dbA.LoadAlarm(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if *stored.Metric.Threshold != 5 || stored.State != alarm.StateInsufficientData {
		t.Fatalf("stored after the refused transition: threshold %v state %s", *stored.Metric.Threshold, stored.State)
	}
	if r := a.Get(sc, "root"); *r.Metric.Threshold != 5 {
		t.Fatalf("a did not take the stored record: threshold %v", *r.Metric.Threshold)
	}
	if got := a.Round(ctx, t0.Add(time.Minute), false); got != 1 || a.Get(sc, "root").State != alarm.StateOK {
		t.Fatalf("a's round after the refresh: %d transitions, state %s; want 1 to OK (2 < 5)", got, a.Get(sc, "root").State)
	}
	// b sets ALARM without a hearing; a's PutMetricAlarm, built from a's view (OK), must keep ALARM.
	if err := b.Refresh(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := b.SetAlarmState(ctx, sc, "root", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "set by b"}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutMetricAlarm(ctx, sc, alarmWith(5, "described by a"), nil); err != nil {
		t.Fatal(err)
	}
	stored, err = dbA.LoadAlarm(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if stored.State != alarm.StateAlarm || stored.Metric.AlarmDescription != "described by a" {
		t.Fatalf("stored after a's stale put: state %s, description %q", stored.State, stored.Metric.AlarmDescription)
	}
}
