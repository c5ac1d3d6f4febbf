package notify

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// memOutbox is an in-memory Outbox.
type memOutbox struct {
	mu       sync.Mutex
	ds       map[int64]*sns.Delivery
	attempts []sns.Attempt
}

func newOutbox(ds ...sns.Delivery) *memOutbox {
	o := &memOutbox{ds: map[int64]*sns.Delivery{}}
	for i := range ds {
		d := ds[i]
		d.ID = int64(i + 1)
		d.Status = sns.DeliveryPending
		o.ds[d.ID] = &d
	}
	return o
}

func (o *memOutbox) DueDeliveries(_ context.Context, now time.Time, limit int) ([]sns.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sns.Delivery
	for _, d := range o.ds {
		if d.Status == sns.DeliveryPending && !d.NextAttempt.After(now) {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (o *memOutbox) NextDeliveryDue(context.Context) (time.Time, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var next time.Time
	ok := false
	for _, d := range o.ds {
		if d.Status == sns.DeliveryPending && (!ok || d.NextAttempt.Before(next)) {
			next, ok = d.NextAttempt, true
		}
	}
	return next, ok, nil
}

func (o *memOutbox) RecordAttempt(_ context.Context, a sns.Attempt, status string, next time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := o.ds[a.DeliveryID]
	d.Status, d.NextAttempt, d.Attempts = status, next, a.N
	o.attempts = append(o.attempts, a)
	return nil
}

func (o *memOutbox) get(id int64) sns.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.ds[id]
}

func (o *memOutbox) attemptsOf(id int64) []sns.Attempt {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []sns.Attempt
	for _, a := range o.attempts {
		if a.DeliveryID == id {
			out = append(out, a)
		}
	}
	return out
}

// flakySender fails while down() is true and records successful sends per message id.
type flakySender struct {
	mu   sync.Mutex
	down func() bool
	sent map[string]int
}

func (s *flakySender) Send(_ context.Context, d sns.Delivery) (string, error) {
	if s.down() {
		return "", errors.New("dial tcp: connection refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[d.MessageID]++
	return "250 ok", nil
}

// TestMailServerDownTenMinutes: mail published while the SMTP server is down for ten minutes is
// delayed, not lost, and each message is sent once; the attempts follow SNS's SMTP policy.
func TestMailServerDownTenMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var ds []sns.Delivery
		for _, id := range []string{"m1", "m2", "m3"} {
			ds = append(ds, sns.Delivery{MessageID: id, Protocol: "email", NextAttempt: start, Policy: sns.EmailPolicy})
		}
		ob := newOutbox(ds...)
		snd := &flakySender{down: func() bool { return time.Since(start) < 10*time.Minute }}
		w := &Worker{Outbox: ob, Senders: map[string]Sender{"email": snd}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		time.Sleep(30 * time.Minute)
		cancel()
		<-done
		for id := int64(1); id <= 3; id++ {
			d := ob.get(id)
			if d.Status != sns.DeliveryDelivered || snd.sent[d.MessageID] != 1 {
				t.Fatalf("%s: status %s, sent %d times", d.MessageID, d.Status, snd.sent[d.MessageID])
			}
			as := ob.attemptsOf(id)
			// Retry delays: 10 s, 10 s, then exponential from 10 s towards 600 s.
			var at []time.Duration
			for _, a := range as {
				at = append(at, a.At.Sub(start))
			}
			if at[0] != 0 || at[1] != 10*time.Second || at[2] != 20*time.Second || at[3] != 30*time.Second {
				t.Fatalf("%s attempts at %v", d.MessageID, at)
			}
			last := as[len(as)-1]
			if last.Outcome != OutcomeDelivered || at[len(at)-1] < 10*time.Minute || at[len(at)-1] > 20*time.Minute {
				t.Fatalf("%s delivered at %v (%s)", d.MessageID, at[len(at)-1], last.Outcome)
			}
		}
	})
}

// TestHTTPRetryPolicyRunsOut: SNS's default HTTP policy makes 4 attempts 20 s apart, then the
// message is marked failed and never sent again.
func TestHTTPRetryPolicyRunsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ob := newOutbox(sns.Delivery{MessageID: "h1", Protocol: "https", NextAttempt: start, Policy: sns.HTTPDefaultPolicy})
		snd := &flakySender{down: func() bool { return true }}
		w := &Worker{Outbox: ob, Senders: map[string]Sender{"https": snd}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		time.Sleep(10 * time.Minute)
		cancel()
		<-done
		as := ob.attemptsOf(1)
		if len(as) != 4 {
			t.Fatalf("%d attempts, want 4", len(as))
		}
		for i, a := range as {
			if got := a.At.Sub(start); got != time.Duration(i)*20*time.Second {
				t.Errorf("attempt %d at %v", i+1, got)
			}
		}
		if as[3].Outcome != OutcomeFailed || ob.get(1).Status != sns.DeliveryFailed {
			t.Fatalf("last outcome %s, status %s", as[3].Outcome, ob.get(1).Status)
		}
	})
}

// TestNotifyDeliversAtOnce: a Notify after enqueueing starts delivery without waiting for the
// poll interval.
func TestNotifyDeliversAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox()
		snd := &flakySender{down: func() bool { return false }}
		w := &Worker{Outbox: ob, Senders: map[string]Sender{"email": snd}, Poll: time.Hour}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go w.Run(ctx)
		synctest.Wait()
		ob.mu.Lock()
		ob.ds[1] = &sns.Delivery{ID: 1, MessageID: "n1", Protocol: "email", NextAttempt: time.Now(), Status: sns.DeliveryPending, Policy: sns.EmailPolicy}
		ob.mu.Unlock()
		w.Notify()
		synctest.Wait()
		if ob.get(1).Status != sns.DeliveryDelivered {
			t.Fatal("not delivered after Notify")
		}
	})
}
