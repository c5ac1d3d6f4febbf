package alarm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
)

var errLocked = errors.New("database is locked")

// scripted is a Publisher that returns errs in order (nil once they run out) and records every
// call and every successful publish.
type scripted struct {
	mu        sync.Mutex
	errs      []error
	always    error // returned after errs run out, when set
	calls     []time.Time
	published []int64
}

func (p *scripted) PublishAction(_ context.Context, a alarm.Action) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, time.Now())
	var err error
	if len(p.errs) > 0 {
		err, p.errs = p.errs[0], p.errs[1:]
	} else {
		err = p.always
	}
	if err == nil {
		p.published = append(p.published, a.ID)
	}
	return err
}

func (p *scripted) counts() (calls, published int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls), len(p.published)
}

// outboxWithAction returns a store holding one pending action to topic.
func outboxWithAction(t *testing.T) *alarmtest.Memory {
	t.Helper()
	st := alarmtest.NewMemory()
	now := time.Now()
	if err := st.Apply(context.Background(), alarm.Change{Actions: []alarm.Action{{Scope: sc, AlarmName: "root", AlarmType: alarm.TypeMetric,
		AlarmARN: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:root", ActionARN: topic, OldState: alarm.StateOK, NewState: alarm.StateAlarm,
		Subject: "ALARM", Message: `{"default":"{}"}`, StateUpdated: now, Created: now}}}); err != nil {
		t.Fatal(err)
	}
	return st
}

// startDispatcher runs d until the returned stop is called (or the test ends); errors reported
// through OnError are collected in *errs.
func startDispatcher(t *testing.T, d *alarm.Dispatcher, errs *[]error) (stop func()) {
	t.Helper()
	var mu sync.Mutex
	d.OnError = func(err error) { mu.Lock(); *errs = append(*errs, err); mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	synctest.Wait()
	return stop
}

func actionHistory(t *testing.T, st alarm.Store) []string {
	t.Helper()
	items, _, err := st.History(context.Background(), sc, alarm.HistoryQuery{AlarmTypes: []string{alarm.TypeMetric},
		ItemType: alarm.HistoryAction, Ascending: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.HistorySummary)
	}
	return out
}

// A transient publish error (a locked database) keeps the action pending, with its attempt
// count, next attempt time and error, and retries it with a growing, jittered delay until it is
// published: exactly once, with one "Successfully executed" item. It used to fail for good on the
// first error (issue 11, item 5).
func TestDispatcherRetriesTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := outboxWithAction(t)
		pub := &scripted{errs: []error{errLocked, errLocked, errLocked}}
		var errs []error
		start := time.Now()
		startDispatcher(t, alarm.NewDispatcher(st, pub, nil), &errs)

		a := st.Actions()[0]
		if a.Status != alarm.ActionPending || a.Attempts != 1 || a.Error != "database is locked" ||
			a.NextAttempt.Before(start.Add(alarm.RetryMin/2)) || a.NextAttempt.After(start.Add(alarm.RetryMin)) {
			t.Fatalf("after the first failed attempt: %+v", a)
		}
		if h := actionHistory(t, st); len(h) != 0 {
			t.Fatalf("history after a transient error: %q", h)
		}

		time.Sleep(time.Minute)
		synctest.Wait()
		calls, published := pub.counts()
		if calls != 4 || published != 1 {
			t.Fatalf("%d attempts, %d publishes; want 4 and 1", calls, published)
		}
		if a := st.Actions()[0]; a.Status != alarm.ActionSucceeded {
			t.Errorf("action after the retries: %+v", a)
		}
		if h := actionHistory(t, st); len(h) != 1 || h[0] != "Successfully executed action "+topic {
			t.Errorf("history %q", h)
		}
		// Each wait is the jittered backoff (half to all of RetryDelay) plus at most one poll.
		for i := 1; i < len(pub.calls); i++ {
			gap, d := pub.calls[i].Sub(pub.calls[i-1]), alarm.RetryDelay(i)
			if gap < d/2 || gap > d+time.Second {
				t.Errorf("wait before attempt %d: %v, want between %v and %v", i+1, gap, d/2, d+time.Second)
			}
		}
		if len(errs) != 3 || !errors.Is(errs[0], errLocked) {
			t.Errorf("reported errors %v", errs)
		}

		time.Sleep(time.Hour)
		synctest.Wait()
		if calls, published := pub.counts(); calls != 4 || published != 1 {
			t.Errorf("later: %d attempts, %d publishes", calls, published)
		}
	})
}

// A permanent error (the topic does not exist) fails the action at once with CloudWatch's
// history item, and it is never retried.
func TestDispatcherPermanentErrorFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := outboxWithAction(t)
		pub := &scripted{errs: []error{&alarm.PermanentError{Reason: "Topic does not exist", Err: errors.New("NotFound: Topic does not exist")}}}
		var errs []error
		startDispatcher(t, alarm.NewDispatcher(st, pub, nil), &errs)
		if a := st.Actions()[0]; a.Status != alarm.ActionFailed || a.Error != "Topic does not exist" {
			t.Errorf("action %+v", a)
		}
		if h := actionHistory(t, st); len(h) != 1 || h[0] != `Failed to execute action `+topic+`. Received error: "Topic does not exist"` {
			t.Errorf("history %q", h)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if calls, _ := pub.counts(); calls != 1 {
			t.Errorf("%d attempts, want 1", calls)
		}
		if len(errs) != 0 {
			t.Errorf("reported errors %v", errs)
		}
	})
}

// The retry state is in the store: a restarted server (a new service and dispatcher over the same
// store) resumes a pending action where the backoff left it and publishes it once.
func TestDispatcherResumesPendingActionAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("root", "RootAccountUsage", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		down := &scripted{always: errLocked}
		var errs []error
		d1 := alarm.NewDispatcher(r.store, down, nil)
		r.svc.OnActions = d1.Notify
		stop := startDispatcher(t, d1, &errs)
		if err := r.svc.SetAlarmState(ctx, sc, "root", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "root login"}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		stop()
		before := r.store.Actions()[0]
		if before.Status != alarm.ActionPending || before.Attempts < 2 {
			t.Fatalf("before the restart: status %s after %d attempts (%s)", before.Status, before.Attempts, before.Error)
		}

		// Restart: everything in memory is new; only the store remains.
		svc, err := alarm.NewService(ctx, r.store, r.metrics, nil)
		if err != nil {
			t.Fatal(err)
		}
		up := &scripted{}
		d2 := alarm.NewDispatcher(r.store, up, nil)
		svc.OnActions = d2.Notify
		startDispatcher(t, d2, &errs)
		if time.Now().Before(before.NextAttempt) {
			if calls, _ := up.counts(); calls != 0 {
				t.Errorf("published before the stored next attempt time %v", before.NextAttempt)
			}
		}
		time.Sleep(alarm.RetryMax)
		synctest.Wait()
		if calls, published := up.counts(); calls != 1 || published != 1 || up.published[0] != before.ID {
			t.Errorf("after the restart: %d attempts, published %v; want action %d once", calls, up.published, before.ID)
		}
		if h := actionHistory(t, r.store); len(h) != 1 || h[0] != "Successfully executed action "+topic {
			t.Errorf("history %q", h)
		}
	})
}

// Without SNS nothing is sent, so nothing is reported as executed: NoPublisher keeps the action
// pending (it used to be RecordOnly, which wrote "Successfully executed action"), and a server
// with a publisher delivers it later (issue 11, item 12).
func TestNoPublisherKeepsActionsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := outboxWithAction(t)
		var errs []error
		stop := startDispatcher(t, alarm.NewDispatcher(st, alarm.NoPublisher{}, nil), &errs)
		time.Sleep(time.Hour)
		synctest.Wait()
		stop()
		a := st.Actions()[0]
		if a.Status != alarm.ActionPending || a.Attempts < 2 || a.Error != alarm.ErrNoPublisher.Error() {
			t.Fatalf("action without SNS: %+v", a)
		}
		if h := actionHistory(t, st); len(h) != 0 {
			t.Fatalf("history without SNS: %q", h)
		}
		// Hourly at most RetryMax apart: an hour is at least 12 attempts once the backoff is capped.
		if len(errs) < 12 || !errors.Is(errs[0], alarm.ErrNoPublisher) {
			t.Errorf("%d reported errors: %v", len(errs), errs)
		}
		pub := &scripted{}
		startDispatcher(t, alarm.NewDispatcher(st, pub, nil), &errs)
		time.Sleep(alarm.RetryMax)
		synctest.Wait()
		if _, published := pub.counts(); published != 1 {
			t.Errorf("published %d times once SNS is wired", published)
		}
		if h := actionHistory(t, st); len(h) != 1 || h[0] != "Successfully executed action "+topic {
			t.Errorf("history %q", h)
		}
	})
}

func TestRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second},
		{10, 5 * time.Minute}, {11, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		if got := alarm.RetryDelay(tc.attempts); got != tc.want {
			t.Errorf("RetryDelay(%d) = %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

// One alarm's notifications to one topic arrive in the order of its transitions even when one
// fails transiently: an ALARM action that failed once blocks the alarm's newer OK action to the
// same topic until it is published, so the subscriber's last message is not ALARM while the alarm
// is OK. Another alarm's action, or the same alarm's action to another topic, is not held back.
// The OK action used to be published first (issue 11 review).
func TestDispatcherKeepsOneAlarmsActionsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := alarmtest.NewMemory()
		mk := func(name, arn string, oldS, newS alarm.State) alarm.Action {
			now := time.Now()
			return alarm.Action{Scope: sc, AlarmName: name, AlarmType: alarm.TypeMetric,
				AlarmARN: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:" + name, ActionARN: arn, OldState: oldS, NewState: newS,
				Subject: string(newS), Message: `{"default":"{}"}`, StateUpdated: now, Created: now}
		}
		// Action 1: root's ALARM to topic, which fails once.
		if err := st.Apply(context.Background(), alarm.Change{Actions: []alarm.Action{mk("root", topic, alarm.StateOK, alarm.StateAlarm)}}); err != nil {
			t.Fatal(err)
		}
		pub := &scripted{errs: []error{errLocked}}
		d := alarm.NewDispatcher(st, pub, nil)
		d.Jitter = func(d time.Duration) time.Duration { return d }
		var errs []error
		startDispatcher(t, d, &errs)
		// Action 2: root back to OK (same topic); 3: root's OK to another topic; 4: another alarm.
		if err := st.Apply(context.Background(), alarm.Change{Actions: []alarm.Action{
			mk("root", topic, alarm.StateAlarm, alarm.StateOK),
			mk("root", topic+"-2", alarm.StateAlarm, alarm.StateOK),
			mk("other", topic, alarm.StateOK, alarm.StateAlarm),
		}}); err != nil {
			t.Fatal(err)
		}
		d.Notify()
		synctest.Wait()
		pub.mu.Lock()
		if got := pub.published; len(got) != 2 || got[0] != 3 || got[1] != 4 {
			t.Errorf("published while action 1 waits for its retry: %v, want [3 4]", got)
		}
		pub.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		pub.mu.Lock()
		defer pub.mu.Unlock()
		if got := pub.published; len(got) != 4 || got[2] != 1 || got[3] != 2 {
			t.Errorf("published action ids in order %v; want [3 4 1 2] (root's ALARM before its OK)", got)
		}
	})
}
