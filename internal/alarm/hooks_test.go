package alarm_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// TestOnEvaluatedAndStateCounts checks the hooks of the server's metrics: OnEvaluated sees the
// early evaluation a datapoint triggers and the regular one of the next minute, and StateCounts
// counts the alarms by state as they move.
func TestOnEvaluatedAndStateCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		var mu sync.Mutex
		evals := map[bool]int{}
		r.svc.OnEvaluated = func(early bool, took time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil || took != 0 { // the bubble's clock stands still while nothing sleeps
				t.Errorf("evaluation: took %v, err %v", took, err)
			}
			evals[early]++
		}
		counts := func() map[alarm.State]int { return r.svc.StateCounts() }
		if got := counts(); len(got) != 0 {
			t.Fatalf("StateCounts without alarms = %v", got)
		}
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		for _, name := range []string{"root", "other"} {
			if err := r.svc.PutMetricAlarm(context.Background(), sc, seedAlarm(name, name+"Metric", alarm.TreatNotBreaching), nil); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := counts(), map[alarm.State]int{alarm.StateInsufficientData: 2}; !maps.Equal(got, want) {
			t.Errorf("StateCounts after create = %v, want %v", got, want)
		}
		r.run()
		mu.Lock()
		before := maps.Clone(evals)
		mu.Unlock()
		advanceTo(base.Add(20 * time.Second))
		r.sample("rootMetric", 1)
		mu.Lock()
		if evals[true] != before[true]+1 {
			t.Errorf("early evaluations %d -> %d, want one more", before[true], evals[true])
		}
		mu.Unlock()
		advanceTo(base.Add(time.Minute + time.Second))
		mu.Lock()
		if evals[false] != before[false]+2 {
			t.Errorf("regular evaluations %d -> %d, want two more (one round, two alarms)", before[false], evals[false])
		}
		mu.Unlock()
		if got, want := counts(), map[alarm.State]int{alarm.StateAlarm: 1, alarm.StateOK: 1}; !maps.Equal(got, want) {
			t.Errorf("StateCounts = %v, want %v", got, want)
		}
		r.cancel()
	})
}
