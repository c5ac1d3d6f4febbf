package sqlite

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestReady checks the readiness probe: an open database answers, a closed one does not.
func TestReady(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready on an open database: %v", err)
	}
	db.Close()
	if err := db.Ready(ctx); err == nil {
		t.Fatal("Ready on a closed database succeeded")
	}
}

// TestWALSizeAndOnCommit checks that the WAL size is the file's and that every committed write
// transaction reaches OnCommit with its latency on the Now clock.
func TestWALSizeAndOnCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	calls := 0
	clock := func() time.Time { calls++; return t0.Add(time.Duration(calls) * time.Millisecond) } // each reading 1 ms later
	var took []time.Duration
	db, err := Open(ctx, dir, Options{Now: clock, OnCommit: func(d time.Duration) { took = append(took, d) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls = 0
	if _, err := db.Enqueue(ctx, "", "m1", []sns.Delivery{{MessageID: "m1", Protocol: "email", Created: t0, NextAttempt: t0, Status: sns.DeliveryPending}}); err != nil {
		t.Fatal(err)
	}
	if len(took) != 1 || took[0] <= 0 {
		t.Errorf("OnCommit saw %v, want one positive latency", took)
	}
	n, err := db.WALSize()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(db.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if n != fi.Size() || n == 0 {
		t.Errorf("WALSize = %d, file has %d bytes", n, fi.Size())
	}
	if err := os.Remove(db.Path() + "-wal"); err != nil {
		t.Fatal(err)
	}
	if n, err := db.WALSize(); n != 0 || err != nil {
		t.Errorf("WALSize without a WAL file = %d, %v", n, err)
	}
}

// TestPendingOutboxes checks the outbox gauges' queries: pending SNS deliveries by protocol with
// the oldest creation time, pending alarm actions, and finished ones left out.
func TestPendingOutboxes(t *testing.T) {
	ctx := context.Background()
	db := openSNSDB(t)
	t0 := time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)
	if n, oldest, err := db.PendingActionCount(ctx); n != 0 || !oldest.IsZero() || err != nil {
		t.Fatalf("no actions: %d %v %v", n, oldest, err)
	}
	if got, err := db.PendingDeliveries(ctx); len(got) != 0 || err != nil {
		t.Fatalf("no deliveries: %v %v", got, err)
	}
	mk := func(id, proto string, created time.Time) sns.Delivery {
		return sns.Delivery{MessageID: id, SubscriptionARN: "arn:s:" + id, Protocol: proto, Created: created, NextAttempt: created, Status: sns.DeliveryPending}
	}
	if _, err := db.Enqueue(ctx, "", "m", []sns.Delivery{mk("a", "email", t0.Add(-time.Minute)), mk("b", "email", t0), mk("c", "https", t0.Add(-time.Hour)), mk("d", "https", t0)}); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueDeliveries(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		if d.MessageID == "c" { // the oldest https delivery is delivered: it no longer counts
			if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: d.ID, N: 1, At: t0, Outcome: "delivered"}, sns.DeliveryDelivered, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := db.PendingDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []PendingOutbox{{Protocol: "email", Count: 2, Oldest: t0.Add(-time.Minute)}, {Protocol: "https", Count: 1, Oldest: t0}}
	if !slices.Equal(got, want) {
		t.Errorf("PendingDeliveries = %+v, want %+v", got, want)
	}

	sc := alarm.Scope{AccountID: "111111111111", Region: "us-east-1"}
	// Three alarms, so that all three actions are due at once (one alarm's actions to one topic
	// are handed out first in, first out).
	act := func(created time.Time) alarm.Action {
		return alarm.Action{Scope: sc, AlarmName: "root-" + created.Format("1504"), AlarmType: alarm.TypeMetric, AlarmARN: "arn:alarm",
			ActionARN: "arn:aws:sns:us-east-1:111111111111:t", OldState: alarm.StateOK, NewState: alarm.StateAlarm, Subject: "s", Message: "{}",
			StateUpdated: created, Created: created}
	}
	if err := db.Apply(ctx, alarm.Change{Actions: []alarm.Action{act(t0.Add(-2 * time.Minute)), act(t0.Add(-time.Minute)), act(t0)}}); err != nil {
		t.Fatal(err)
	}
	pend, err := db.PendingActions(ctx, t0, 10)
	if err != nil || len(pend) != 3 {
		t.Fatalf("pending %v %v", pend, err)
	}
	if err := db.MarkActionDone(ctx, pend[0].ID, alarm.ActionOutcome{At: t0}); err != nil {
		t.Fatal(err)
	}
	n, oldest, err := db.PendingActionCount(ctx)
	if n != 2 || !oldest.Equal(t0.Add(-time.Minute)) || err != nil {
		t.Errorf("PendingActionCount = %d, %v, %v; want 2, %v", n, oldest, err, t0.Add(-time.Minute))
	}
}
