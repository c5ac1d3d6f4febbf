package alarm_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
)

// sharedMemory is one store two services (two replicas) use, with LoadAlarm.
type sharedMemory struct{ *alarmtest.Memory }

func (m sharedMemory) LoadAlarm(ctx context.Context, k alarm.AlarmKey) (*alarm.Record, error) {
	recs, err := m.LoadAlarms(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Scope == k.Scope && r.Name == k.Name {
			return r, nil
		}
	}
	return nil, nil
}

// Replica A follows what replica B does to an alarm: creation, a state change, a deletion; and its
// scheduler evaluates the alarm B created once A has refreshed it.
func TestRefreshFollowsAnotherReplica(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st := sharedMemory{alarmtest.NewMemory()}
		mst := metricstest.NewMemory()
		msvc := metrics.NewService(mst, nil)
		a, err := alarm.NewService(ctx, st, msvc, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := alarm.NewService(ctx, st, msvc, nil)
		if err != nil {
			t.Fatal(err)
		}
		k := alarm.AlarmKey{Scope: sc, Name: "root"}
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		if err := b.PutMetricAlarm(ctx, sc, seedAlarm("root", "rootMetric", alarm.TreatNotBreaching), nil); err != nil {
			t.Fatal(err)
		}
		if a.Get(sc, "root") != nil {
			t.Fatal("a saw b's alarm before any refresh: the test proves nothing")
		}
		if err := a.Refresh(ctx, k); err != nil {
			t.Fatal(err)
		}
		if r := a.Get(sc, "root"); r == nil || r.State != alarm.StateInsufficientData {
			t.Fatalf("a after refresh: %+v", r)
		}
		if err := mst.AddSamples(ctx, []metrics.Sample{{AccountID: sc.AccountID, Region: sc.Region, Namespace: "CloudTrailMetrics",
			MetricName: "rootMetric", Timestamp: time.Now(), Value: 1}}); err != nil {
			t.Fatal(err)
		}
		if n := a.Round(ctx, base.Add(time.Minute), false); n != 1 {
			t.Fatalf("a's round made %d transitions, want 1 (the alarm b created)", n)
		}
		if r := a.Get(sc, "root"); r.State != alarm.StateAlarm {
			t.Fatalf("a: %s", r.State)
		}
		// b still shows the state it knew, until it refreshes.
		if err := b.Refresh(ctx, k); err != nil {
			t.Fatal(err)
		}
		if r := b.Get(sc, "root"); r.State != alarm.StateAlarm {
			t.Fatalf("b after refresh: %s", r.State)
		}
		if err := b.SetAlarmState(ctx, sc, "root", alarm.SetStateRequest{StateValue: "OK", StateReason: "test"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Refresh(ctx, k); err != nil {
			t.Fatal(err)
		}
		if r := a.Get(sc, "root"); r.State != alarm.StateOK || r.Reason != "test" {
			t.Fatalf("a after b's SetAlarmState: %s %q", r.State, r.Reason)
		}
		if err := b.DeleteAlarms(ctx, sc, []string{"root"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Refresh(ctx, k); err != nil {
			t.Fatal(err)
		}
		if a.Get(sc, "root") != nil {
			t.Fatal("a still has the alarm b deleted")
		}
		if n := a.Round(ctx, base.Add(2*time.Minute), false); n != 0 {
			t.Fatalf("a evaluated a deleted alarm: %d transitions", n)
		}
		// Refreshing an alarm that exists nowhere leaves nothing behind.
		if err := a.Refresh(ctx, alarm.AlarmKey{Scope: sc, Name: "never"}); err != nil || a.Get(sc, "never") != nil {
			t.Fatalf("refresh of a missing alarm: %v", err)
		}
	})
}

// A store that cannot load one alarm (SQLite, a single process) makes Refresh an error, not a
// silent no-op.
func TestRefreshNeedsALoader(t *testing.T) {
	a, err := alarm.NewService(context.Background(), alarmtest.NewMemory(), metrics.NewService(metricstest.NewMemory(), nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(context.Background(), alarm.AlarmKey{Scope: sc, Name: "x"}); err == nil {
		t.Fatal("no error")
	}
}

// RefreshAll brings a replica's view up to date with every change it was not told of (a LISTEN
// connection that was down): an alarm another replica created appears, one it deleted goes.
func TestRefreshAllCatchesUp(t *testing.T) {
	ctx := context.Background()
	st := sharedMemory{alarmtest.NewMemory()}
	msvc := metrics.NewService(metricstest.NewMemory(), nil)
	a, err := alarm.NewService(ctx, st, msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := alarm.NewService(ctx, st, msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutMetricAlarm(ctx, sc, seedAlarm("gone", "m", alarm.TreatNotBreaching), nil); err != nil {
		t.Fatal(err)
	}
	if err := a.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.PutMetricAlarm(ctx, sc, seedAlarm("root", "rootMetric", alarm.TreatNotBreaching), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteAlarms(ctx, sc, []string{"gone"}); err != nil {
		t.Fatal(err)
	}
	if a.Get(sc, "root") != nil || a.Get(sc, "gone") == nil {
		t.Fatal("a followed b without a refresh: the test proves nothing")
	}
	if err := a.RefreshAll(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Get(sc, "root") == nil {
		t.Error("a missed the alarm b created")
	}
	if a.Get(sc, "gone") != nil {
		t.Error("a kept the alarm b deleted")
	}
	plain, err := alarm.NewService(ctx, alarmtest.NewMemory(), msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.RefreshAll(ctx); err == nil {
		t.Error("RefreshAll over a store without LoadAlarm: no error")
	}
}
