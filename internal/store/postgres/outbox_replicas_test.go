package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// countingSender counts the sends of each delivery and reports when every one of want was sent;
// block, when set, makes a send wait for its context instead (a replica that dies mid-send).
type countingSender struct {
	mu    sync.Mutex
	sent  map[int64]int
	by    map[int64]string
	want  int
	done  chan struct{}
	block bool
	hold  chan int64 // receives the id of each blocked send
}

func (s *countingSender) Send(ctx context.Context, d sns.Delivery) (string, error) {
	if s.block {
		s.hold <- d.ID
		<-ctx.Done()
		return "", ctx.Err()
	}
	return s.sendAs(d, "")
}

// Two replicas drain one outbox through ClaimingOutbox: every message is sent exactly once, and
// both take part.
func TestTwoReplicasDeliverEachMessageOnce(t *testing.T) {
	u := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 200
	shared := &countingSender{sent: map[int64]int{}, by: map[int64]string{}, want: n, done: make(chan struct{})}
	done := shared.done
	var workers sync.WaitGroup
	for _, name := range []string{"a", "b"} {
		db, err := Open(ctx, u, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if name == "a" {
			enqueue(t, db, n, time.Now().Add(-time.Second))
		}
		sender := &namedSender{countingSender: shared, name: name}
		w := &notify.Worker{Outbox: ClaimingOutbox{DB: db, Holder: name, ClaimFor: 30 * time.Second},
			Senders: map[string]notify.Sender{"email": sender}, Poll: 50 * time.Millisecond, Concurrency: 4,
			OnError: func(err error) { t.Error(err) }}
		workers.Go(func() { w.Run(ctx) })
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("not every message was delivered")
	}
	cancel()
	workers.Wait()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	per := map[string]int{}
	for id, c := range shared.sent {
		if c != 1 {
			t.Errorf("delivery %d sent %d times", id, c)
		}
		per[shared.by[id]]++
	}
	if len(shared.sent) != n || per["a"] == 0 || per["b"] == 0 {
		t.Fatalf("sent %d of %d, per replica %v", len(shared.sent), n, per)
	}
}

// namedSender is a countingSender's view for one replica.
type namedSender struct {
	*countingSender
	name string
}

func (s *namedSender) Send(ctx context.Context, d sns.Delivery) (string, error) {
	return s.sendAs(d, s.name)
}

// sendAs records a successful send of d by replica name.
func (s *countingSender) sendAs(d sns.Delivery, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[d.ID]++
	s.by[d.ID] = name
	if len(s.sent) == s.want && s.done != nil {
		close(s.done)
		s.done = nil
	}
	return "250 OK", nil
}

// A replica killed while it holds claims (its sends interrupted, nothing recorded) delays those
// messages until the claims expire; then the other replica delivers them, each once.
func TestClaimOfADeadReplicaIsTakenOver(t *testing.T) {
	u := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 5
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
	enqueue(t, dbA, n, time.Now().Add(-time.Second))
	// Replica a claims everything for 1 s and hangs in its sends.
	dead := &countingSender{block: true, hold: make(chan int64, n)}
	actx, kill := context.WithCancel(ctx)
	wa := &notify.Worker{Outbox: ClaimingOutbox{DB: dbA, Holder: "a", ClaimFor: time.Second},
		Senders: map[string]notify.Sender{"email": dead}, Poll: time.Hour, Concurrency: n}
	aDone := make(chan struct{})
	go func() { wa.Run(actx); close(aDone) }()
	for range n {
		<-dead.hold
	}
	claimedAt := time.Now()
	kill() // a dies holding n claims
	<-aDone
	live := &countingSender{sent: map[int64]int{}, by: map[int64]string{}, want: n, done: make(chan struct{})}
	done := live.done
	wb := &notify.Worker{Outbox: ClaimingOutbox{DB: dbB, Holder: "b", ClaimFor: time.Minute},
		Senders: map[string]notify.Sender{"email": live}, Poll: 50 * time.Millisecond, Concurrency: 4,
		OnError: func(err error) { t.Error(err) }}
	bctx, stopB := context.WithCancel(ctx)
	bDone := make(chan struct{})
	go func() { wb.Run(bctx); close(bDone) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("b never took over a's claims")
	}
	took := time.Since(claimedAt)
	stopB()
	<-bDone
	if took < 900*time.Millisecond {
		t.Fatalf("b delivered after %v, before a's 1 s claims expired", took)
	}
	t.Logf("takeover of a dead replica's claims after %v (claims of 1 s)", took)
	for id, c := range live.sent {
		if c != 1 {
			t.Errorf("delivery %d sent %d times", id, c)
		}
	}
	ds, err := dbB.Deliveries(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Status != sns.DeliveryDelivered {
			t.Errorf("delivery %d: %s", d.ID, d.Status)
		}
	}
}

// A delivery claimed by a replica is next due when its claim ends, not at its past next attempt:
// otherwise every other replica's worker, finding nothing to claim and the earliest delivery
// already due, would query again at once, in a loop, for as long as the claim lasts.
func TestClaimedDeliveryIsNextDueWhenItsClaimEnds(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	due := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	enqueue(t, db, 1, due)
	a := ClaimingOutbox{DB: db, Holder: "a", ClaimFor: time.Hour}
	b := ClaimingOutbox{DB: db, Holder: "b", ClaimFor: time.Hour}
	next, ok, err := b.NextDeliveryDue(ctx)
	if err != nil || !ok || !next.Equal(due) {
		t.Fatalf("before the claim: next %v %v %v, want %v", next, ok, err, due)
	}
	if ds, err := a.DueDeliveries(ctx, time.Now(), 10); err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	next, ok, err = b.NextDeliveryDue(ctx)
	if err != nil || !ok || next.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("while claimed for an hour: next %v %v %v, want the claim's end", next, ok, err)
	}
}

// A replica whose claim expired mid-send (a paused process, a slow mail server) and which records
// a retry after the replica that took the delivery over recorded it delivered must not make the
// delivery pending again: it would be sent a second time.
func TestLateAttemptDoesNotReopenADelivery(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	enqueue(t, db, 1, time.Now().Add(-time.Second))
	a := ClaimingOutbox{DB: db, Holder: "a", ClaimFor: time.Millisecond}
	b := ClaimingOutbox{DB: db, Holder: "b", ClaimFor: time.Minute}
	da, err := a.DueDeliveries(ctx, time.Now(), 10)
	if err != nil || len(da) != 1 {
		t.Fatalf("a claims: %v %v", da, err)
	}
	var db2 []sns.Delivery
	for len(db2) == 0 { // a's claim lasts a millisecond of the database's clock
		if db2, err = b.DueDeliveries(ctx, time.Now(), 10); err != nil {
			t.Fatal(err)
		}
	}
	id := db2[0].ID
	if err := b.RecordAttempt(ctx, sns.Attempt{DeliveryID: id, N: 1, At: time.Now(), Outcome: "delivered"}, sns.DeliveryDelivered, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordAttempt(ctx, sns.Attempt{DeliveryID: id, N: 1, At: time.Now(), Outcome: "retry", Detail: "timeout"}, sns.DeliveryPending, time.Now()); err != nil {
		t.Fatal(err)
	}
	if again, err := b.DueDeliveries(ctx, time.Now().Add(time.Hour), 10); err != nil || len(again) != 0 {
		t.Fatalf("the delivered message is due again: %v %v", ids(again), err)
	}
}

// A replica whose claim expired and which records a retry while the replica that took the
// delivery over is still sending it must not end that replica's claim: a third replica would
// claim the delivery at once and send it a second time.
func TestLateAttemptKeepsTheSuccessorsClaim(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	enqueue(t, db, 1, time.Now().Add(-time.Second))
	a := ClaimingOutbox{DB: db, Holder: "a", ClaimFor: time.Millisecond}
	b := ClaimingOutbox{DB: db, Holder: "b", ClaimFor: time.Minute}
	c := ClaimingOutbox{DB: db, Holder: "c", ClaimFor: time.Minute}
	if da, err := a.DueDeliveries(ctx, time.Now(), 10); err != nil || len(da) != 1 {
		t.Fatalf("a claims: %v %v", da, err)
	}
	var got []sns.Delivery
	for len(got) == 0 {
		var err error
		if got, err = b.DueDeliveries(ctx, time.Now(), 10); err != nil {
			t.Fatal(err)
		}
	}
	id := got[0].ID
	if err := a.RecordAttempt(ctx, sns.Attempt{DeliveryID: id, N: 1, At: time.Now(), Outcome: "retry", Detail: "timeout"}, sns.DeliveryPending, time.Now()); err != nil {
		t.Fatal(err)
	}
	if dc, err := c.DueDeliveries(ctx, time.Now().Add(time.Second), 10); err != nil || len(dc) != 0 {
		t.Fatalf("c claims the delivery b is sending: %v %v", ids(dc), err)
	}
	if err := b.RecordAttempt(ctx, sns.Attempt{DeliveryID: id, N: 1, At: time.Now(), Outcome: "delivered"}, sns.DeliveryDelivered, time.Now()); err != nil {
		t.Fatal(err)
	}
	ds, err := db.Deliveries(ctx, 0, 10)
	if err != nil || len(ds) != 1 || ds[0].Status != sns.DeliveryDelivered {
		t.Fatalf("after b's attempt: %+v %v", ds, err)
	}
}
