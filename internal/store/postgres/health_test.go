package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/sns"
)

func TestReadyAndPendingCounts(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("ready: %v", err)
	}
	if p, err := db.PendingDeliveries(ctx); err != nil || len(p) != 0 {
		t.Fatalf("empty outbox: %v %v", p, err)
	}
	if n, oldest, err := db.PendingActionCount(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty action queue: %d %v %v", n, oldest, err)
	}
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	enqueue(t, db, 3, t0)
	if _, err := db.Enqueue(ctx, "", "m", []sns.Delivery{{MessageID: "h", SubscriptionARN: "arn:h", Protocol: "https", NextAttempt: t0, Created: t0.Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	p, err := db.PendingDeliveries(ctx)
	if err != nil || len(p) != 2 || p[0] != (PendingOutbox{"email", 3, t0}) || p[1] != (PendingOutbox{"https", 1, t0.Add(time.Minute)}) {
		t.Fatalf("pending deliveries %+v %v", p, err)
	}
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if err := db.Apply(ctx, alarm.Change{Actions: []alarm.Action{{Scope: sc, AlarmName: "a", AlarmType: alarm.TypeMetric, ActionARN: "arn:t",
		OldState: alarm.StateOK, NewState: alarm.StateAlarm, StateUpdated: t0, Created: t0}}}); err != nil {
		t.Fatal(err)
	}
	if n, oldest, err := db.PendingActionCount(ctx); err != nil || n != 1 || !oldest.Equal(t0) {
		t.Fatalf("pending actions: %d %v %v", n, oldest, err)
	}
	db.Close()
	if err := db.Ready(ctx); err == nil {
		t.Fatal("a closed store is ready")
	}
}
