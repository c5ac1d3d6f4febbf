package alarm_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// TestCompositeCreationNotifications pins which notifications creating a composite alarm sends
// (see the creation decision in doc.go): none when it is created OK (AWS's recorded answers show
// none), the ALARM actions when it is created in ALARM, and the OK actions on its first real
// transition to OK afterwards.
func TestCompositeCreationNotifications(t *testing.T) {
	tests := []struct {
		name       string
		childState string // "" leaves the child in INSUFFICIENT_DATA
		rule       string
		wantState  alarm.State
		wantAtMake string // new states of the actions queued by the creation
	}{
		{"created OK: silent", "", `ALARM(child)`, alarm.StateOK, ""},
		{"created OK with the child OK: silent", "OK", `ALARM(child)`, alarm.StateOK, ""},
		{"created in ALARM: ALARM actions", "ALARM", `ALARM(child)`, alarm.StateAlarm, "ALARM"},
		{"created in ALARM by TRUE", "", `TRUE`, alarm.StateAlarm, "ALARM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil, nil)
				ctx := context.Background()
				if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("child", "M", alarm.TreatIgnore), nil); err != nil {
					t.Fatal(err)
				}
				if tt.childState != "" {
					if err := r.svc.SetAlarmState(ctx, sc, "child", alarm.SetStateRequest{StateValue: tt.childState, StateReason: "x"}); err != nil {
						t.Fatal(err)
					}
				}
				before := len(r.store.Actions())
				err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "parent", AlarmRule: tt.rule, ActionsEnabled: true,
					AlarmActions: []string{topic}, OKActions: []string{topic}, InsufficientDataActions: []string{topic}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := r.state("parent"); got != tt.wantState {
					t.Fatalf("state %v, want %v", got, tt.wantState)
				}
				var got []string
				for _, a := range r.store.Actions()[before:] {
					got = append(got, a.NewState.String())
				}
				if strings.Join(got, ",") != tt.wantAtMake {
					t.Errorf("actions at creation %v, want %q", got, tt.wantAtMake)
				}
				if h := r.history("parent", alarm.HistoryStateUpdate); len(h) != 1 {
					t.Errorf("history %v, want the creation's transition", h)
				}
			})
		})
	}
	// After a silent creation, the first transitions to ALARM and back to OK notify.
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("child", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.PutCompositeAlarm(ctx, sc, alarm.CompositeAlarm{AlarmName: "parent", AlarmRule: `ALARM(child)`, ActionsEnabled: true,
			AlarmActions: []string{topic}, OKActions: []string{topic}}, nil); err != nil {
			t.Fatal(err)
		}
		for _, st := range []string{"ALARM", "OK"} {
			if err := r.svc.SetAlarmState(ctx, sc, "child", alarm.SetStateRequest{StateValue: st, StateReason: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, a := range r.store.Actions() {
			if a.AlarmName == "parent" {
				got = append(got, a.NewState.String())
			}
		}
		if strings.Join(got, ",") != "ALARM,OK" {
			t.Errorf("parent actions %v, want ALARM,OK", got)
		}
	})
}
