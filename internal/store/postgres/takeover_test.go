package postgres

import (
	"context"
	"testing"
	"time"
)

// The lease of a leader that stops renewing (killed: it never releases) passes to the replica
// that keeps asking within TTL plus one renewal interval, with the next token. The TTL is scaled
// down to 1.5 s so the test is short; DefaultLeaseTTL (10 s) scales the same way, to at most
// about 13.3 s.
func TestLeaderTakeoverAfterKill(t *testing.T) {
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
	const ttl = 1500 * time.Millisecond
	a := &Leader{DB: dbA, Name: "alarms", Holder: "a", TTL: ttl}
	a.Step(ctx)
	ga, ok := a.Held()
	if !ok {
		t.Fatal("a did not get a free lease")
	}
	killed := time.Now() // a's last renewal: a is killed now and never steps again
	gained := make(chan Grant, 1)
	b := &Leader{DB: dbB, Name: "alarms", Holder: "b", TTL: ttl, OnChange: func(held bool, g Grant) {
		if held {
			gained <- g
		}
	}}
	bctx, stopB := context.WithCancel(ctx)
	bDone := make(chan struct{})
	go func() { b.Run(bctx); close(bDone) }()
	defer func() { stopB(); <-bDone }()
	select {
	case gb := <-gained:
		took := time.Since(killed)
		t.Logf("takeover %v after the last renewal (TTL %v, renewals every %v)", took, ttl, ttl/3)
		if gb.Token != ga.Token+1 {
			t.Fatalf("b's token %d after a's %d", gb.Token, ga.Token)
		}
		if took < ttl-100*time.Millisecond || took > ttl+ttl/3+time.Second {
			t.Fatalf("takeover after %v, want within [TTL, TTL + TTL/3 + slack]", took)
		}
	case <-ctx.Done():
		t.Fatal("b never took over")
	}
	if _, ok := a.Held(); ok {
		t.Fatal("a, killed, still believes it holds the lease")
	}
}
