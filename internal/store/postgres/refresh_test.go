package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// An alarm created through replica B is announced to replica A, which refreshes it from the
// database and then knows it; a deletion the same way. A rolled-back change announces nothing.
func TestAlarmChangesReachOtherReplicas(t *testing.T) {
	u := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dbA, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	dbB, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	a, err := alarm.NewService(ctx, dbA, metrics.NewService(dbA, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := alarm.NewService(ctx, dbB, metrics.NewService(dbB, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan alarm.AlarmKey, 16)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	go dbA.ListenAlarms(lctx, func(k alarm.AlarmKey) { changed <- k })
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	p, n, th := int32(300), int32(1), 1.0
	put := func(name string) {
		t.Helper()
		if err := b.PutMetricAlarm(ctx, sc, alarm.MetricAlarm{AlarmName: name, MetricName: "M", Namespace: "CloudTrailMetrics",
			Statistic: alarm.StatSum, Period: &p, EvaluationPeriods: &n, Threshold: &th,
			ComparisonOperator: alarm.GreaterThanOrEqualToThreshold}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// LISTEN takes effect asynchronously: put alarms until A hears one.
	var first alarm.AlarmKey
	for i := 0; first.Name == ""; i++ {
		name := "warmup-" + string(rune('a'+i))
		put(name)
		select {
		case first = <-changed:
		case <-time.After(time.Second):
			if i > 8 {
				t.Fatal("no alarm change heard")
			}
		}
	}
	put("root")
	var k alarm.AlarmKey
	for k.Name != "root" {
		select {
		case k = <-changed:
		case <-ctx.Done():
			t.Fatal("the creation of root was not announced")
		}
	}
	if err := a.Refresh(ctx, k); err != nil {
		t.Fatal(err)
	}
	if r := a.Get(sc, "root"); r == nil || r.Metric.Threshold == nil || *r.Metric.Threshold != 1 {
		t.Fatalf("A after refresh: %+v", r)
	}
	// A fenced-off change rolls back and announces nothing; the deletion after it is announced.
	if err := dbB.Apply(ctx, alarm.Change{Put: []*alarm.Record{{Scope: sc, Name: "fenced"}}, Fence: &alarm.Fence{Lease: "alarms", Token: 9}}); err == nil {
		t.Fatal("a change under a lease never granted was applied")
	}
	if err := b.DeleteAlarms(ctx, sc, []string{"root"}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case k = <-changed:
		case <-ctx.Done():
			t.Fatal("the deletion was not announced")
		}
		if k.Name == "fenced" {
			t.Fatal("a rolled-back change was announced")
		}
		if k.Name == "root" {
			break
		}
	}
	if err := a.Refresh(ctx, k); err != nil {
		t.Fatal(err)
	}
	if a.Get(sc, "root") != nil {
		t.Fatal("A still has the alarm B deleted")
	}
}
