package alarm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
)

// switchLeader is an alarm.Leader a test turns on and off.
type switchLeader struct {
	mu    sync.Mutex
	held  bool
	token int64
}

func (l *switchLeader) Fence() (alarm.Fence, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return alarm.Fence{Lease: "alarms", Token: l.token}, l.held
}

func (l *switchLeader) set(held bool, token int64) {
	l.mu.Lock()
	l.held, l.token = held, token
	l.mu.Unlock()
}

// fencingStore records the fences of the changes written and refuses those below a minimum
// token, as the PostgreSQL store does once another replica holds the lease.
type fencingStore struct {
	*alarmtest.Memory
	mu       sync.Mutex
	fences   []*alarm.Fence
	minToken int64
}

func (f *fencingStore) Apply(ctx context.Context, c alarm.Change) error {
	f.mu.Lock()
	f.fences = append(f.fences, c.Fence)
	min := f.minToken
	f.mu.Unlock()
	if c.Fence != nil && c.Fence.Token < min {
		return fmt.Errorf("store: %w", alarm.ErrFenced)
	}
	return f.Memory.Apply(ctx, c)
}

// The scheduler evaluates only while it holds the lease, every transition it writes carries the
// lease's fence, and a fenced-off transition leaves the alarm's state as it was.
func TestSchedulerEvaluatesUnderTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &fencingStore{Memory: alarmtest.NewMemory()}
		r := newRig(t, nil, nil)
		svc, err := alarm.NewService(context.Background(), st, r.metrics, nil)
		if err != nil {
			t.Fatal(err)
		}
		var errs []error
		svc.OnError = func(err error) { errs = append(errs, err) }
		lead := &switchLeader{}
		svc.Leader = lead
		r.svc = svc
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		if err := svc.PutMetricAlarm(context.Background(), sc, seedAlarm("root", "rootMetric", alarm.TreatNotBreaching), nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { svc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		synctest.Wait()
		advanceTo(base.Add(2 * time.Minute))
		r.sample("rootMetric", 1)
		if got := r.state("root"); got != alarm.StateInsufficientData {
			t.Fatalf("a replica without the lease moved the alarm to %s", got)
		}
		// Granted with token 7, but another replica has since been granted token 8.
		lead.set(true, 7)
		st.mu.Lock()
		st.minToken = 8
		st.mu.Unlock()
		advanceTo(base.Add(3*time.Minute + time.Second))
		if got := r.state("root"); got != alarm.StateInsufficientData {
			t.Fatalf("a fenced-off transition changed the state to %s", got)
		}
		if len(errs) == 0 || !errors.Is(errs[len(errs)-1], alarm.ErrFenced) {
			t.Fatalf("errors %v, want ErrFenced", errs)
		}
		lead.set(true, 8)
		r.sample("rootMetric", 1)
		if got := r.state("root"); got != alarm.StateAlarm {
			t.Fatalf("state under the current lease: %s", got)
		}
		st.mu.Lock()
		last := st.fences[len(st.fences)-1]
		st.mu.Unlock()
		if last == nil || *last != (alarm.Fence{Lease: "alarms", Token: 8}) {
			t.Fatalf("the transition carried fence %+v", last)
		}
	})
}
