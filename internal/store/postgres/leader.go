package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// Lease defaults: a leader renews every LeaseTTL/3 and steps down at once when a renewal fails, so
// a dead leader's lease is taken over within LeaseTTL plus one renewal interval of the survivor
// (about 13 s), under issue 16's 15 s target.
const (
	DefaultLeaseTTL = 10 * time.Second
)

// leaser is what Leader needs of the database: TryLease and ReleaseLease (DB implements it; unit
// tests use a fake).
type leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (Grant, bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Leader keeps trying to hold one lease for this replica and says, at any moment, whether it
// holds it and under which token (alarm.Leader). A grant counts as held from the moment the
// request was sent until TTL minus Margin later, by the replica's own monotonic clock: the
// database started the lease's TTL after that moment, so the replica never believes it holds a
// lease the database already considers expired, whatever the network delay. A pause longer than
// that (a stopped process) is what the fencing token covers.
type Leader struct {
	DB     leaser
	Name   string
	Holder string
	// TTL is the lease's time to live; zero means DefaultLeaseTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now. Tests inject a fake one (or run in a synctest bubble).
	Now func() time.Time
	// OnChange, when non-nil, is told every time this replica gains or loses the lease.
	OnChange func(held bool, g Grant)

	mu    sync.Mutex
	grant Grant
	until time.Time // zero while not held
}

var _ alarm.Leader = (*Leader)(nil)

func (l *Leader) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultLeaseTTL
}

func (l *Leader) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Fence implements alarm.Leader.
func (l *Leader) Fence() (alarm.Fence, bool) {
	g, ok := l.Held()
	return alarm.Fence{Lease: l.Name, Token: g.Token}, ok
}

// Held returns the current grant, and false while this replica does not hold the lease.
func (l *Leader) Held() (Grant, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until.IsZero() || !l.now().Before(l.until) {
		return Grant{}, false
	}
	return l.grant, true
}

// Step asks for (or renews) the lease once and records the outcome. The request is given up
// after a renewal interval (TTL/3): one stuck on a connection that died silently, or waiting for a
// pool connection, would otherwise stop every later renewal and request of this replica.
func (l *Leader) Step(ctx context.Context) {
	sent := l.now()
	rctx, cancel := context.WithTimeout(ctx, l.ttl()/3)
	g, ok, err := l.DB.TryLease(rctx, l.Name, l.Holder, l.ttl())
	cancel()
	l.mu.Lock()
	wasHeld := !l.until.IsZero() && sent.Before(l.until)
	if err != nil || !ok {
		l.until = time.Time{}
	} else {
		l.grant, l.until = g, sent.Add(l.ttl()-l.ttl()/5)
	}
	nowHeld := !l.until.IsZero()
	grant := l.grant
	l.mu.Unlock()
	if l.OnChange != nil && wasHeld != nowHeld {
		l.OnChange(nowHeld, grant)
	}
}

// Run renews or asks for the lease every TTL/3 until ctx ends, then releases it so a successor
// need not wait for it to expire.
func (l *Leader) Run(ctx context.Context) {
	every := l.ttl() / 3
	for {
		l.Step(ctx)
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			l.mu.Lock()
			held := !l.until.IsZero()
			l.until = time.Time{}
			l.mu.Unlock()
			if held {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				l.DB.ReleaseLease(rctx, l.Name, l.Holder)
				cancel()
			}
			return
		case <-t.C:
		}
	}
}
