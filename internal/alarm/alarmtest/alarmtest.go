// Package alarmtest is the conformance suite every alarm.Store backend runs, plus Memory, an
// in-memory Store for tests of code built on the alarm service.
package alarmtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

var (
	scopeA = alarm.Scope{AccountID: "111111111111", Region: "us-east-1"}
	scopeB = alarm.Scope{AccountID: "222222222222", Region: "eu-west-1"}
	t0     = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

func ptr[T any](v T) *T { return &v }

func record(scope alarm.Scope, name string) *alarm.Record {
	return &alarm.Record{
		Scope: scope, Name: name, Type: alarm.TypeMetric,
		Metric: &alarm.MetricAlarm{
			AlarmName: name, ActionsEnabled: true, AlarmActions: []string{"arn:aws:sns:us-east-1:111111111111:t"},
			MetricName: "RootAccountUsage", Namespace: "CloudTrailMetrics", Statistic: alarm.StatSum,
			Dimensions: []metrics.Dimension{{Name: "k", Value: "v"}}, Period: ptr(int32(300)),
			EvaluationPeriods: ptr(int32(1)), DatapointsToAlarm: ptr(int32(1)), Threshold: ptr(1.0),
			ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching,
		},
		Tags:          []alarm.Tag{{Key: "team", Value: "sec"}},
		ConfigUpdated: t0, State: alarm.StateInsufficientData, Reason: alarm.InitialReason,
		StateUpdated: t0, StateTransitioned: t0,
	}
}

func item(name, typ, kind string, at time.Time) alarm.HistoryItem {
	return alarm.HistoryItem{AlarmName: name, AlarmType: typ, Timestamp: at, HistoryItemType: kind,
		HistorySummary: kind + " of " + name, HistoryData: `{"version":"1.0"}`}
}

// Run runs the conformance suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) alarm.Store) {
	ctx := context.Background()

	t.Run("RecordsRoundTrip", func(t *testing.T) {
		st := open(t)
		a, b := record(scopeA, "a"), record(scopeB, "a")
		b.State, b.Reason, b.ReasonData = alarm.StateAlarm, "Threshold Crossed: x", `{"version":"1.0"}`
		b.DecidedThrough = t0.Add(5 * time.Minute)
		comp := &alarm.Record{Scope: scopeA, Name: "c", Type: alarm.TypeComposite,
			Composite: &alarm.CompositeAlarm{AlarmName: "c", AlarmRule: `ALARM("a")`, ActionsSuppressor: "a",
				ActionsSuppressorWaitPeriod: ptr(int32(60)), ActionsSuppressorExtensionPeriod: ptr(int32(0))},
			ConfigUpdated: t0, State: alarm.StateOK, ActionsWaiting: true, WaitingFrom: alarm.StateAlarm, SuppressedBy: alarm.SuppressedByAlarm}
		if err := st.Apply(ctx, alarm.Change{Put: []*alarm.Record{a, b, comp}}); err != nil {
			t.Fatal(err)
		}
		got := load(t, st)
		if len(got) != 3 {
			t.Fatalf("loaded %d records, want 3", len(got))
		}
		for _, want := range []*alarm.Record{a, b, comp} {
			g := got[alarm.AlarmKey{Scope: want.Scope, Name: want.Name}]
			if g == nil {
				t.Fatalf("record %v/%s missing", want.Scope, want.Name)
			}
			if !sameRecord(g, want) {
				t.Errorf("record %s: got %+v, want %+v", want.Name, g, want)
			}
		}
		// Replace and delete.
		a2 := record(scopeA, "a")
		a2.State = alarm.StateOK
		if err := st.Apply(ctx, alarm.Change{Put: []*alarm.Record{a2}, Delete: []alarm.AlarmKey{{Scope: scopeB, Name: "a"}}}); err != nil {
			t.Fatal(err)
		}
		got = load(t, st)
		if len(got) != 2 || got[alarm.AlarmKey{Scope: scopeA, Name: "a"}].State != alarm.StateOK {
			t.Fatalf("after replace and delete: %v", got)
		}
	})

	t.Run("History", func(t *testing.T) {
		st := open(t)
		var hs []alarm.HistoryRecord
		for i := range 7 {
			hs = append(hs, alarm.HistoryRecord{Scope: scopeA, Item: item("a", alarm.TypeMetric, alarm.HistoryStateUpdate, t0.Add(time.Duration(i)*time.Second))})
		}
		hs = append(hs,
			alarm.HistoryRecord{Scope: scopeA, Item: item("b", alarm.TypeMetric, alarm.HistoryConfigurationUpdate, t0.Add(3*time.Second))},
			alarm.HistoryRecord{Scope: scopeA, Item: item("c", alarm.TypeComposite, alarm.HistoryStateUpdate, t0.Add(4*time.Second))},
			alarm.HistoryRecord{Scope: scopeB, Item: item("a", alarm.TypeMetric, alarm.HistoryStateUpdate, t0)},
		)
		if err := st.Apply(ctx, alarm.Change{History: hs}); err != nil {
			t.Fatal(err)
		}
		all := func(q alarm.HistoryQuery) []alarm.HistoryItem {
			var out []alarm.HistoryItem
			for pages := 0; ; pages++ {
				items, next, err := st.History(ctx, scopeA, q)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, items...)
				if next == "" || pages > 100 {
					return out
				}
				q.After = next
			}
		}
		metricOnly := []string{alarm.TypeMetric}
		got := all(alarm.HistoryQuery{AlarmTypes: metricOnly, Limit: 3})
		if len(got) != 8 {
			t.Fatalf("paged metric history: %d items, want 8", len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i].Timestamp.After(got[i-1].Timestamp) {
				t.Errorf("descending order broken at %d", i)
			}
		}
		asc := all(alarm.HistoryQuery{AlarmTypes: metricOnly, Ascending: true, Limit: 2})
		if len(asc) != 8 || !asc[0].Timestamp.Equal(t0) || !asc[7].Timestamp.Equal(t0.Add(6*time.Second)) {
			t.Errorf("ascending: %v", asc)
		}
		if got := all(alarm.HistoryQuery{AlarmTypes: []string{alarm.TypeMetric, alarm.TypeComposite}, Limit: 100}); len(got) != 9 {
			t.Errorf("both types: %d items, want 9", len(got))
		}
		if got := all(alarm.HistoryQuery{AlarmName: "a", AlarmTypes: metricOnly, Start: t0.Add(2 * time.Second), End: t0.Add(5 * time.Second), Limit: 100}); len(got) != 3 {
			t.Errorf("name and time range: %d items, want 3", len(got))
		}
		if got := all(alarm.HistoryQuery{AlarmTypes: metricOnly, ItemType: alarm.HistoryConfigurationUpdate, Limit: 100}); len(got) != 1 || got[0].AlarmName != "b" {
			t.Errorf("item type: %v", got)
		}
		if _, _, err := st.History(ctx, scopeA, alarm.HistoryQuery{AlarmTypes: metricOnly, After: "garbage", Limit: 10}); !errors.Is(err, alarm.ErrInvalidCursor) {
			t.Errorf("bad cursor: %v", err)
		}
		items, _, err := st.History(ctx, scopeB, alarm.HistoryQuery{AlarmTypes: metricOnly, Limit: 10})
		if err != nil || len(items) != 1 {
			t.Errorf("scope B: %v %v", items, err)
		}
		if it := items[0]; it.HistorySummary != "StateUpdate of a" || it.HistoryData != `{"version":"1.0"}` || !it.Timestamp.Equal(t0) {
			t.Errorf("item fields: %+v", it)
		}
	})

	t.Run("ExpireHistory", func(t *testing.T) {
		st := open(t)
		var hs []alarm.HistoryRecord
		for i, age := range []time.Duration{20 * 24 * time.Hour, 15 * 24 * time.Hour, 14 * 24 * time.Hour, 13 * 24 * time.Hour, 0} {
			sc := scopeA
			if i%2 == 1 {
				sc = scopeB // expiry crosses scopes
			}
			hs = append(hs, alarm.HistoryRecord{Scope: sc, Item: item(fmt.Sprint("a", i), alarm.TypeMetric, alarm.HistoryStateUpdate, t0.Add(-age))})
		}
		if err := st.Apply(ctx, alarm.Change{History: hs}); err != nil {
			t.Fatal(err)
		}
		// Items strictly before the cutoff go; the one at the cutoff stays.
		n, err := st.ExpireHistory(ctx, t0.Add(-14*24*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("ExpireHistory = %d, %v; want 2", n, err)
		}
		var left []string
		for _, sc := range []alarm.Scope{scopeA, scopeB} {
			items, _, err := st.History(ctx, sc, alarm.HistoryQuery{AlarmTypes: []string{alarm.TypeMetric}, Ascending: true, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				left = append(left, it.AlarmName)
			}
		}
		slices.Sort(left)
		if want := []string{"a2", "a3", "a4"}; !slices.Equal(left, want) {
			t.Errorf("left %v, want %v", left, want)
		}
		if n, err := st.ExpireHistory(ctx, t0.Add(-14*24*time.Hour)); err != nil || n != 0 {
			t.Errorf("second ExpireHistory = %d, %v; want 0", n, err)
		}
	})

	t.Run("Outbox", func(t *testing.T) {
		st := open(t)
		r := record(scopeA, "a")
		r.State = alarm.StateAlarm
		mk := func(arn string) alarm.Action {
			return alarm.Action{Scope: scopeA, AlarmName: "a", AlarmType: alarm.TypeMetric, AlarmARN: r.ARN(), ActionARN: arn,
				OldState: alarm.StateOK, NewState: alarm.StateAlarm, Reason: "why", Subject: `ALARM: "a" in US East (N. Virginia)`,
				Message: `{"default":"{}"}`, StateUpdated: t0.Add(time.Minute), Created: t0.Add(time.Minute), Status: alarm.ActionPending}
		}
		err := st.Apply(ctx, alarm.Change{Put: []*alarm.Record{r},
			History: []alarm.HistoryRecord{{Scope: scopeA, Item: item("a", alarm.TypeMetric, alarm.HistoryStateUpdate, t0.Add(time.Minute))}},
			Actions: []alarm.Action{mk("arn:1"), mk("arn:2")}})
		if err != nil {
			t.Fatal(err)
		}
		pend, err := st.PendingActions(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(pend) != 2 {
			t.Fatalf("pending: %v %v", pend, err)
		}
		if pend[0].ActionARN != "arn:1" || pend[1].ActionARN != "arn:2" || pend[0].ID >= pend[1].ID {
			t.Errorf("pending order: %+v", pend)
		}
		p := pend[0]
		want := mk("arn:1")
		want.ID = p.ID
		if p != want {
			t.Errorf("pending action:\n got %+v\nwant %+v", p, want)
		}
		if one, _ := st.PendingActions(ctx, t0.Add(time.Minute), 1); len(one) != 1 {
			t.Errorf("limit 1: %d", len(one))
		}
		done := t0.Add(time.Minute + time.Second)
		if err := st.MarkActionDone(ctx, pend[0].ID, alarm.ActionOutcome{At: done}); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkActionDone(ctx, pend[1].ID, alarm.ActionOutcome{At: done, Err: "NotFound"}); err != nil {
			t.Fatal(err)
		}
		// Marking again is a no-op: history is written exactly once.
		if err := st.MarkActionDone(ctx, pend[0].ID, alarm.ActionOutcome{At: done}); err != nil {
			t.Fatal(err)
		}
		if left, _ := st.PendingActions(ctx, t0.Add(time.Minute), 10); len(left) != 0 {
			t.Errorf("still pending: %v", left)
		}
		items, _, err := st.History(ctx, scopeA, alarm.HistoryQuery{AlarmTypes: []string{alarm.TypeMetric}, ItemType: alarm.HistoryAction, Ascending: true, Limit: 10})
		if err != nil || len(items) != 2 {
			t.Fatalf("action history: %v %v", items, err)
		}
		if items[0].HistorySummary != "Successfully executed action arn:1" || !items[0].Timestamp.Equal(done) ||
			items[1].HistorySummary != `Failed to execute action arn:2. Received error: "NotFound"` {
			t.Errorf("action items: %+v", items)
		}
	})

	// A transient failure keeps the action pending with its attempt count, next attempt time and
	// error, hides it until that time, and writes no history; once done, retries leave it alone.
	t.Run("OutboxRetry", func(t *testing.T) {
		st := open(t)
		mk := func(arn string) alarm.Action {
			return alarm.Action{Scope: scopeA, AlarmName: "a", AlarmType: alarm.TypeMetric, AlarmARN: "arn:alarm", ActionARN: arn,
				OldState: alarm.StateOK, NewState: alarm.StateAlarm, Reason: "why", Subject: "s", Message: `{"default":"{}"}`,
				StateUpdated: t0, Created: t0}
		}
		if err := st.Apply(ctx, alarm.Change{Actions: []alarm.Action{mk("arn:1"), mk("arn:2")}}); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		pend, err := st.PendingActions(ctx, now, 10)
		if err != nil || len(pend) != 2 || pend[0].Attempts != 0 || !pend[0].NextAttempt.IsZero() || pend[0].Error != "" {
			t.Fatalf("new actions: %+v %v", pend, err)
		}
		id1, id2 := pend[0].ID, pend[1].ID
		next := now.Add(2 * time.Second)
		if err := st.RetryAction(ctx, id1, alarm.ActionRetry{Attempts: 1, NextAttempt: next, Err: "database is locked"}); err != nil {
			t.Fatal(err)
		}
		ids := func(at time.Time) []int64 {
			t.Helper()
			acts, err := st.PendingActions(ctx, at, 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, a := range acts {
				out = append(out, a.ID)
			}
			return out
		}
		if got := ids(now); !slices.Equal(got, []int64{id2}) {
			t.Errorf("due before the retry time: %v, want [%d]", got, id2)
		}
		if got := ids(next.Add(-time.Millisecond)); !slices.Equal(got, []int64{id2}) {
			t.Errorf("due a millisecond before the retry time: %v", got)
		}
		due, err := st.PendingActions(ctx, next, 10)
		if err != nil || len(due) != 2 || due[0].ID != id1 || due[1].ID != id2 {
			t.Fatalf("due at the retry time: %+v %v", due, err)
		}
		if a := due[0]; a.Status != alarm.ActionPending || a.Attempts != 1 || !a.NextAttempt.Equal(next) || a.Error != "database is locked" ||
			a.ActionARN != "arn:1" || a.Message != `{"default":"{}"}` {
			t.Errorf("retried action: %+v", a)
		}
		if err := st.RetryAction(ctx, id1, alarm.ActionRetry{Attempts: 2, NextAttempt: next.Add(4 * time.Second), Err: "again"}); err != nil {
			t.Fatal(err)
		}
		if due, _ := st.PendingActions(ctx, next.Add(4*time.Second), 1); len(due) != 1 || due[0].Attempts != 2 || due[0].Error != "again" {
			t.Errorf("second retry: %+v", due)
		}
		if err := st.MarkActionDone(ctx, id1, alarm.ActionOutcome{At: next.Add(4 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := st.RetryAction(ctx, id1, alarm.ActionRetry{Attempts: 3, NextAttempt: t0, Err: "late"}); err != nil {
			t.Fatal(err)
		}
		if got := ids(t0.Add(time.Hour)); !slices.Equal(got, []int64{id2}) {
			t.Errorf("pending after done and a late retry: %v", got)
		}
		items, _, err := st.History(ctx, scopeA, alarm.HistoryQuery{AlarmTypes: []string{alarm.TypeMetric}, ItemType: alarm.HistoryAction, Limit: 10})
		if err != nil || len(items) != 1 || items[0].HistorySummary != "Successfully executed action arn:1" {
			t.Errorf("action history: %+v %v", items, err)
		}
	})

	// Per alarm (scope and name) and action ARN the outbox is first in, first out: an action is
	// not returned while an older action of the same alarm to the same ARN is pending, due or
	// not, so a retried ALARM notification is never overtaken by the alarm's newer OK one.
	// Other alarms, the same name in another scope, and other ARNs are not held back, and the
	// limit counts only the actions returned.
	t.Run("OutboxOrder", func(t *testing.T) {
		st := open(t)
		mk := func(sc alarm.Scope, name, arn string, newState alarm.State) alarm.Action {
			return alarm.Action{Scope: sc, AlarmName: name, AlarmType: alarm.TypeMetric, AlarmARN: "arn:alarm:" + name, ActionARN: arn,
				OldState: alarm.StateOK, NewState: newState, Reason: "why", Subject: "s", Message: `{"default":"{}"}`,
				StateUpdated: t0, Created: t0}
		}
		if err := st.Apply(ctx, alarm.Change{Actions: []alarm.Action{
			mk(scopeA, "a", "arn:1", alarm.StateAlarm), // 1: the head of (A, a, arn:1)
			mk(scopeA, "a", "arn:2", alarm.StateAlarm), // 2: another ARN
			mk(scopeA, "b", "arn:1", alarm.StateAlarm), // 3: another alarm
			mk(scopeB, "a", "arn:1", alarm.StateAlarm), // 4: the same name in another scope
			mk(scopeA, "a", "arn:1", alarm.StateOK),    // 5: behind 1
			mk(scopeA, "a", "arn:1", alarm.StateAlarm), // 6: behind 5
		}}); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Minute)
		all, err := st.PendingActions(ctx, now, 10)
		if err != nil || len(all) != 4 {
			var got []string
			for _, a := range all {
				got = append(got, fmt.Sprintf("%d %s/%s %s %s", a.ID, a.Scope.AccountID, a.AlarmName, a.ActionARN, a.NewState))
			}
			t.Fatalf("pending: %q %v; want 1 to 4 (5 and 6 queued behind 1)", got, err)
		}
		id := map[int]int64{}
		for i, a := range all {
			id[i+1] = a.ID
		}
		ids := func(at time.Time, limit int) []int64 {
			t.Helper()
			acts, err := st.PendingActions(ctx, at, limit)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, a := range acts {
				out = append(out, a.ID)
			}
			return out
		}
		if got := ids(now, 10); !slices.Equal(got, []int64{id[1], id[2], id[3], id[4]}) {
			t.Fatalf("pending with 5 and 6 queued behind 1: %v", got)
		}
		next := now.Add(time.Minute)
		if err := st.RetryAction(ctx, id[1], alarm.ActionRetry{Attempts: 1, NextAttempt: next, Err: "database is locked"}); err != nil {
			t.Fatal(err)
		}
		if got := ids(now, 10); !slices.Equal(got, []int64{id[2], id[3], id[4]}) {
			t.Errorf("while 1 waits for its retry: %v, want [%d %d %d] (5 and 6 held back)", got, id[2], id[3], id[4])
		}
		if got := ids(now, 1); !slices.Equal(got, []int64{id[2]}) {
			t.Errorf("limit 1 while 1 waits: %v, want [%d]", got, id[2])
		}
		if got := ids(next, 10); !slices.Equal(got, []int64{id[1], id[2], id[3], id[4]}) {
			t.Errorf("at 1's retry time: %v", got)
		}
		for _, i := range []int{2, 3, 4} {
			if err := st.MarkActionDone(ctx, id[i], alarm.ActionOutcome{At: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.MarkActionDone(ctx, id[1], alarm.ActionOutcome{At: next}); err != nil {
			t.Fatal(err)
		}
		five := ids(next, 10)
		if len(five) != 1 {
			t.Fatalf("after 1 is done: %v, want 5 alone", five)
		}
		if acts, _ := st.PendingActions(ctx, next, 10); len(acts) != 1 || acts[0].NewState != alarm.StateOK {
			t.Errorf("after 1 is done: %+v, want the OK action", acts)
		}
		// A failed action no longer blocks: 6 follows 5.
		if err := st.MarkActionDone(ctx, five[0], alarm.ActionOutcome{At: next, Err: "NotFound"}); err != nil {
			t.Fatal(err)
		}
		if acts, _ := st.PendingActions(ctx, next, 10); len(acts) != 1 || acts[0].ID <= five[0] || acts[0].NewState != alarm.StateAlarm {
			t.Errorf("after 5 failed: %+v, want action 6", acts)
		}
	})
}

func load(t *testing.T, st alarm.Store) map[alarm.AlarmKey]*alarm.Record {
	t.Helper()
	recs, err := st.LoadAlarms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[alarm.AlarmKey]*alarm.Record{}
	for _, r := range recs {
		out[alarm.AlarmKey{Scope: r.Scope, Name: r.Name}] = r
	}
	return out
}

// sameRecord compares the fields a store must keep (times by instant).
func sameRecord(a, b *alarm.Record) bool {
	if a.Scope != b.Scope || a.Name != b.Name || a.Type != b.Type || a.State != b.State || a.Reason != b.Reason ||
		a.ReasonData != b.ReasonData || !a.ConfigUpdated.Equal(b.ConfigUpdated) || !a.StateUpdated.Equal(b.StateUpdated) ||
		!a.StateTransitioned.Equal(b.StateTransitioned) || !a.DecidedThrough.Equal(b.DecidedThrough) ||
		a.ActionsWaiting != b.ActionsWaiting || a.WaitingFrom != b.WaitingFrom || a.SuppressedBy != b.SuppressedBy || len(a.Tags) != len(b.Tags) {
		return false
	}
	if (a.Metric == nil) != (b.Metric == nil) || (a.Composite == nil) != (b.Composite == nil) {
		return false
	}
	if a.Metric != nil {
		x, y := a.Metric, b.Metric
		if x.AlarmName != y.AlarmName || *x.Period != *y.Period || *x.EvaluationPeriods != *y.EvaluationPeriods ||
			(x.DatapointsToAlarm == nil) != (y.DatapointsToAlarm == nil) || *x.Threshold != *y.Threshold ||
			x.ComparisonOperator != y.ComparisonOperator || x.TreatMissingData != y.TreatMissingData ||
			len(x.Dimensions) != len(y.Dimensions) || len(x.AlarmActions) != len(y.AlarmActions) || x.ActionsEnabled != y.ActionsEnabled {
			return false
		}
	}
	if a.Composite != nil {
		x, y := a.Composite, b.Composite
		if x.AlarmRule != y.AlarmRule || x.ActionsSuppressor != y.ActionsSuppressor || *x.ActionsSuppressorWaitPeriod != *y.ActionsSuppressorWaitPeriod {
			return false
		}
	}
	return true
}
