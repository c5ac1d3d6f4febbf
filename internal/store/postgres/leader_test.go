package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeLeaser grants the lease to whoever asks while free, and can be made to fail or hang.
type fakeLeaser struct {
	mu     sync.Mutex
	holder string
	token  int64
	fail   error
	hang   chan struct{} // non-nil: TryLease blocks until it is closed
}

func (f *fakeLeaser) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (Grant, bool, error) {
	f.mu.Lock()
	hang, fail := f.hang, f.fail
	f.mu.Unlock()
	if hang != nil {
		<-hang
	}
	if fail != nil {
		return Grant{}, false, fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holder != "" && f.holder != holder {
		return Grant{}, false, nil
	}
	if f.holder != holder {
		f.token++
	}
	f.holder = holder
	return Grant{Token: f.token}, true, nil
}

func (f *fakeLeaser) ReleaseLease(ctx context.Context, name, holder string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holder == holder {
		f.holder = ""
	}
	return nil
}

func TestLeaderHoldsRenewsAndReleases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeLeaser{}
		a := &Leader{DB: f, Name: "alarms", Holder: "a", TTL: 9 * time.Second}
		b := &Leader{DB: f, Name: "alarms", Holder: "b", TTL: 9 * time.Second}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		synctest.Wait()
		fa, ok := a.Fence()
		if !ok || fa.Token != 1 || fa.Lease != "alarms" {
			t.Fatalf("a: %+v %v", fa, ok)
		}
		// Renewals keep it held far past one TTL.
		time.Sleep(time.Minute)
		if _, ok := a.Fence(); !ok {
			t.Fatal("a lost the lease it renews")
		}
		b.Step(ctx)
		if _, ok := b.Fence(); ok {
			t.Fatal("b holds a lease a holds")
		}
		cancel()
		<-done
		if _, ok := a.Fence(); ok {
			t.Fatal("a still holds after stopping")
		}
		b.Step(context.Background())
		if fb, ok := b.Fence(); !ok || fb.Token != 2 {
			t.Fatalf("b after a released: %+v %v", fb, ok)
		}
	})
}

// A renewal that fails drops the lease at once; one that hangs (a partitioned replica) lets the
// grant run out by the replica's own clock before the database's TTL does.
func TestLeaderStepsDownWithoutRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeLeaser{}
		var changes []bool
		l := &Leader{DB: f, Name: "alarms", Holder: "a", TTL: 10 * time.Second, OnChange: func(held bool, _ Grant) { changes = append(changes, held) }}
		l.Step(t.Context())
		if _, ok := l.Held(); !ok {
			t.Fatal("not held after a grant")
		}
		f.fail = errors.New("connection refused")
		l.Step(t.Context())
		if _, ok := l.Held(); ok {
			t.Fatal("held after a failed renewal")
		}
		f.fail = nil
		l.Step(t.Context())
		f.mu.Lock()
		f.hang = make(chan struct{})
		f.mu.Unlock()
		go l.Step(t.Context())
		time.Sleep(7 * time.Second)
		if _, ok := l.Held(); !ok {
			t.Fatal("lost before the grant ran out")
		}
		time.Sleep(2 * time.Second) // 9 s: past TTL minus the margin, before the database's 10 s
		if _, ok := l.Held(); ok {
			t.Fatal("still held 9 s into a 10 s grant that was not renewed")
		}
		close(f.hang)
		synctest.Wait()
		if len(changes) < 3 || !changes[0] || changes[1] || !changes[2] {
			t.Fatalf("changes %v", changes)
		}
	})
}

// blockingLeaser's TryLease answers only when its context ends: a request stuck on a connection
// that died silently, or waiting for a pool connection that never frees.
type blockingLeaser struct{ calls chan struct{} }

func (b blockingLeaser) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (Grant, bool, error) {
	b.calls <- struct{}{}
	<-ctx.Done()
	return Grant{}, false, ctx.Err()
}

func (blockingLeaser) ReleaseLease(context.Context, string, string) error { return nil }

// A lease request that hangs is given up after a renewal interval, so the replica keeps asking
// (and gets the lease again once the database answers) instead of never asking again.
func TestLeaderGivesUpAHangingRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := blockingLeaser{calls: make(chan struct{}, 16)}
		l := &Leader{DB: b, Name: "alarms", Holder: "a", TTL: 9 * time.Second}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { l.Run(ctx); close(done) }()
		time.Sleep(time.Minute) // fake time in the bubble
		synctest.Wait()
		if n := len(b.calls); n < 5 {
			t.Errorf("%d lease requests in a minute; a hanging one must not stop the renewals", n)
		}
		cancel()
		<-done
	})
}
