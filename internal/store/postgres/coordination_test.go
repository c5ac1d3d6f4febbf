package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// expireLease ends the lease's current grant as if its TTL had run out (the holder died), without
// waiting for it.
func expireLease(t *testing.T, db *DB, name string) {
	t.Helper()
	if _, err := db.pool.Exec(context.Background(), `UPDATE leases SET expires = 0 WHERE name = $1`, name); err != nil {
		t.Fatal(err)
	}
}

func TestLeaseTakeoverFencesTheFormerHolder(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	ga, ok, err := db.TryLease(ctx, "alarms", "a", time.Minute)
	if err != nil || !ok || ga.Token != 1 {
		t.Fatalf("a: %+v %v %v", ga, ok, err)
	}
	if _, ok, err := db.TryLease(ctx, "alarms", "b", time.Minute); err != nil || ok {
		t.Fatalf("b got a held lease: %v %v", ok, err)
	}
	if g, ok, _ := db.TryLease(ctx, "alarms", "a", time.Minute); !ok || g.Token != 1 {
		t.Fatalf("renewal changed the token: %+v %v", g, ok)
	}
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	put := func(name string, f alarm.Fence) error {
		return db.Apply(ctx, alarm.Change{Put: []*alarm.Record{{Scope: sc, Name: name, Type: alarm.TypeMetric}}, Fence: &f})
	}
	if err := put("by-a", alarm.Fence{Lease: "alarms", Token: ga.Token}); err != nil {
		t.Fatalf("holder's fenced write: %v", err)
	}
	expireLease(t, db, "alarms") // a stops renewing (paused, or dead)
	gb, ok, err := db.TryLease(ctx, "alarms", "b", time.Minute)
	if err != nil || !ok || gb.Token != 2 {
		t.Fatalf("b after expiry: %+v %v %v", gb, ok, err)
	}
	if err := put("late-a", alarm.Fence{Lease: "alarms", Token: ga.Token}); !errors.Is(err, alarm.ErrFenced) {
		t.Fatalf("former holder's write: %v, want ErrFenced", err)
	}
	if err := put("by-b", alarm.Fence{Lease: "alarms", Token: gb.Token}); err != nil {
		t.Fatalf("new holder's write: %v", err)
	}
	if _, ok, _ := db.TryLease(ctx, "alarms", "a", time.Minute); ok {
		t.Fatal("a renewed a lease b holds")
	}
	recs, err := db.LoadAlarms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"by-a", "by-b"}) {
		t.Fatalf("stored %v: the fenced write must leave nothing", names)
	}
	if h, g, ok, _ := db.LeaseHolder(ctx, "alarms"); !ok || h != "b" || g.Token != 2 {
		t.Fatalf("holder %q %+v %v", h, g, ok)
	}
	if err := db.ReleaseLease(ctx, "alarms", "b"); err != nil {
		t.Fatal(err)
	}
	if g, ok, _ := db.TryLease(ctx, "alarms", "a", time.Minute); !ok || g.Token != 3 {
		t.Fatalf("a after b released: %+v %v", g, ok)
	}
}

// Many replicas asking at once: exactly one gets the lease.
func TestLeaseOneGrantUnderContention(t *testing.T) {
	db := openTest(t, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i := range 8 {
		holder := fmt.Sprintf("r%d", i)
		wg.Go(func() {
			_, ok, err := db.TryLease(context.Background(), "sweep", holder, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners = append(winners, holder)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners %v", winners)
	}
}

func TestClaimRoundOncePerSlot(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	m := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 6 {
		wg.Go(func() {
			ok, err := db.ClaimRound(ctx, "retention", m)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d replicas ran the 12:00 round", won)
	}
	if ok, _ := db.ClaimRound(ctx, "retention", m.Add(-time.Minute)); ok {
		t.Fatal("an older round ran after a newer one")
	}
	if ok, _ := db.ClaimRound(ctx, "retention", m.Add(time.Minute)); !ok {
		t.Fatal("the next round did not run")
	}
	if ok, _ := db.ClaimRound(ctx, "compaction", m); !ok {
		t.Fatal("another job's round was blocked")
	}
}

func TestSharedValueFirstWriterWins(t *testing.T) {
	u := testSchema(t)
	var wg sync.WaitGroup
	vals := make([]string, 4)
	created := make([]bool, 4)
	for i := range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), u, Options{}) // replicas starting together
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			v, c, err := db.SharedValue(context.Background(), "credentials", func() ([]byte, error) {
				return fmt.Appendf(nil, "key-of-%d", i), nil
			})
			if err != nil {
				t.Error(err)
			}
			vals[i], created[i] = string(v), c
		})
	}
	wg.Wait()
	n := 0
	for i := range vals {
		if vals[i] != vals[0] {
			t.Fatalf("replicas got different values: %q", vals)
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d replicas report creating the value", n)
	}
}

func enqueue(t *testing.T, db *DB, n int, at time.Time) {
	t.Helper()
	ds := make([]sns.Delivery, n)
	for i := range ds {
		ds[i] = sns.Delivery{MessageID: fmt.Sprintf("m%d", i), SubscriptionARN: "arn:sub", Protocol: "email", NextAttempt: at, Created: at}
	}
	if _, err := db.Enqueue(context.Background(), "", "m", ds); err != nil {
		t.Fatal(err)
	}
}

func ids(ds []sns.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func TestOutboxClaimsAndTakeover(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	now := time.Now()
	enqueue(t, db, 10, now.Add(-time.Second))
	a := ClaimingOutbox{DB: db, Holder: "a", ClaimFor: time.Minute}
	b := ClaimingOutbox{DB: db, Holder: "b", ClaimFor: time.Minute}
	var ga, gb []sns.Delivery
	var wg sync.WaitGroup
	wg.Go(func() { ga, _ = a.DueDeliveries(ctx, now, 5) })
	wg.Go(func() { gb, _ = b.DueDeliveries(ctx, now, 5) })
	wg.Wait()
	all := append(ids(ga), ids(gb)...)
	slices.Sort(all)
	if len(all) != 10 || len(slices.Compact(slices.Clone(all))) != 10 {
		t.Fatalf("claims overlap or miss: a %v b %v", ids(ga), ids(gb))
	}
	if more, _ := b.DueDeliveries(ctx, now, 10); len(more) != 0 {
		t.Fatalf("claimed deliveries handed out again: %v", ids(more))
	}
	// b delivers one; a dies holding its claims.
	if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: gb[0].ID, N: 1, At: now, Outcome: "delivered"}, sns.DeliveryDelivered, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `UPDATE sns_deliveries SET claimed_until = 1 WHERE claimed_by = 'a'`); err != nil {
		t.Fatal(err) // a's claim timed out
	}
	c := ClaimingOutbox{DB: db, Holder: "c", ClaimFor: time.Minute}
	gc, err := c.DueDeliveries(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(gc), ids(ga)) {
		t.Fatalf("c took over %v, want a's %v", ids(gc), ids(ga))
	}
	if slices.Contains(ids(gc), gb[0].ID) {
		t.Fatal("a delivered message was claimed again")
	}
}

func TestActionClaimsKeepFIFO(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	now := time.Now()
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	var acts []alarm.Action
	for i, name := range []string{"x", "x", "y"} {
		acts = append(acts, alarm.Action{Scope: sc, AlarmName: name, AlarmType: alarm.TypeMetric, AlarmARN: "arn:" + name,
			ActionARN: "arn:topic", OldState: alarm.StateOK, NewState: alarm.StateAlarm, Subject: fmt.Sprint(i), Message: "{}",
			StateUpdated: now, Created: now})
	}
	if err := db.Apply(ctx, alarm.Change{Actions: acts}); err != nil {
		t.Fatal(err)
	}
	a := ClaimingActionQueue{DB: db, Holder: "a", ClaimFor: time.Minute}
	b := ClaimingActionQueue{DB: db, Holder: "b", ClaimFor: time.Minute}
	got, err := a.PendingActions(ctx, now, 10)
	if err != nil || len(got) != 2 || got[0].AlarmName != "x" || got[1].AlarmName != "y" {
		t.Fatalf("a claimed %+v %v: want the heads of x and y", got, err)
	}
	if more, _ := b.PendingActions(ctx, now, 10); len(more) != 0 {
		t.Fatalf("b claimed %+v while a holds the heads", more)
	}
	if err := db.MarkActionDone(ctx, got[0].ID, alarm.ActionOutcome{At: now}); err != nil {
		t.Fatal(err)
	}
	next, _ := b.PendingActions(ctx, now, 10)
	if len(next) != 1 || next[0].AlarmName != "x" || next[0].ID <= got[0].ID {
		t.Fatalf("after x's head: b claimed %+v", next)
	}
}

// Replicas starting at once migrate one database without error.
func TestConcurrentOpen(t *testing.T) {
	u := testSchema(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			db, err := Open(context.Background(), u, Options{})
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if err := db.Ready(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// A fence check that fails for another reason than a newer grant (here the leases table is gone;
// in production a lost connection) is reported as that failure, not as ErrFenced: an operator
// reading "fenced off" would look for a second leader instead of a database problem.
func TestFenceCheckFailureIsNotFenced(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	g, ok, err := db.TryLease(ctx, "alarms", "a", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := db.pool.Exec(ctx, `DROP TABLE leases`); err != nil {
		t.Fatal(err)
	}
	err = db.Apply(ctx, alarm.Change{Put: []*alarm.Record{{Scope: alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}, Name: "x", Type: alarm.TypeMetric}},
		Fence: &alarm.Fence{Lease: "alarms", Token: g.Token}})
	if err == nil || errors.Is(err, alarm.ErrFenced) {
		t.Fatalf("Apply with the leases table gone: %v; want the database's error, not ErrFenced", err)
	}
}

// A replica whose action claim expired and which reschedules the action while the replica that
// took it over is publishing it must not end that claim: a third replica would publish it again.
func TestLateActionRetryKeepsTheSuccessorsClaim(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	now := time.Now()
	sc := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if err := db.Apply(ctx, alarm.Change{Actions: []alarm.Action{{Scope: sc, AlarmName: "x", AlarmType: alarm.TypeMetric, AlarmARN: "arn:x",
		ActionARN: "arn:topic", OldState: alarm.StateOK, NewState: alarm.StateAlarm, Message: "{}", StateUpdated: now, Created: now}}}); err != nil {
		t.Fatal(err)
	}
	a := ClaimingActionQueue{DB: db, Holder: "a", ClaimFor: time.Millisecond}
	b := ClaimingActionQueue{DB: db, Holder: "b", ClaimFor: time.Minute}
	c := ClaimingActionQueue{DB: db, Holder: "c", ClaimFor: time.Minute}
	if got, err := a.PendingActions(ctx, now, 10); err != nil || len(got) != 1 {
		t.Fatalf("a claims: %v %v", got, err)
	}
	var got []alarm.Action
	for len(got) == 0 {
		var err error
		if got, err = b.PendingActions(ctx, time.Now(), 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RetryAction(ctx, got[0].ID, alarm.ActionRetry{Attempts: 1, NextAttempt: time.Now(), Err: "timeout"}); err != nil {
		t.Fatal(err)
	}
	if more, err := c.PendingActions(ctx, time.Now().Add(time.Second), 10); err != nil || len(more) != 0 {
		t.Fatalf("c claims the action b is publishing: %+v %v", more, err)
	}
}
