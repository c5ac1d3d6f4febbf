package alarm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// subMinuteAlarm is a 10-, 20- or 30-second alarm on the minute-resolution metric M.
func subMinuteAlarm(name string, period int32, stat, treat string) alarm.MetricAlarm {
	a := seedAlarm(name, "M", treat)
	a.Period, a.Statistic = p32(period), stat
	return a
}

// TestSubMinuteAlarmEverySecond puts one datapoint at every second of a minute and checks that a
// sub-minute alarm on the minute data evaluates it (see rangePeriods for the decision it pins):
// ALARM from the first period end after the datapoint, for the rest of the minute, then
// missing data once the next minute's range no longer reaches it. Sum goes through the early
// evaluation, Average (not monotone) through the regular rounds.
func TestSubMinuteAlarmEverySecond(t *testing.T) {
	for _, period := range []int32{10, 20, 30} {
		for _, stat := range []string{alarm.StatSum, alarm.StatAverage} {
			for sec := range 60 {
				t.Run(fmt.Sprintf("period %d %s at :%02d", period, stat, sec), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						r := newRig(t, nil, nil)
						base := time.Now().Truncate(time.Hour).Add(time.Hour)
						advanceTo(base.Add(5 * time.Second))
						if err := r.svc.PutMetricAlarm(context.Background(), sc, subMinuteAlarm("hr", period, stat, alarm.TreatMissing), nil); err != nil {
							t.Fatal(err)
						}
						r.run()
						minute := base.Add(time.Minute)
						at := minute.Add(time.Duration(sec) * time.Second)
						advanceTo(at)
						if got := r.state("hr"); got != alarm.StateInsufficientData {
							t.Fatalf("before the datapoint: %v", got)
						}
						r.sample("M", 1)
						// The first window holding the minute's period ends at the first period end
						// after the datapoint (EvaluationTime); the early evaluation of a Sum may come
						// sooner, never later.
						p := time.Duration(period) * time.Second
						next := at.Truncate(p).Add(p)
						for check := next; check.Before(minute.Add(time.Minute)) || check.Equal(minute.Add(time.Minute)); check = check.Add(10 * time.Second) {
							advanceTo(check.Add(time.Second))
							rec := r.svc.Get(sc, "hr")
							if rec.State != alarm.StateAlarm {
								t.Fatalf("at %s: %v (%s), want ALARM", check.Format("15:04:05"), rec.State, rec.Reason)
							}
							if want := "[1.0 (" + minute.Format("02/01/06 15:04:05") + ")]"; !strings.Contains(rec.Reason, want) {
								t.Fatalf("reason %q lacks %s", rec.Reason, want)
							}
						}
						// The next minute has no datapoint: once the range has left the minute, the
						// missing data shows (AWS: the alarm "might often lapse into INSUFFICIENT_DATA").
						advanceTo(minute.Add(2*time.Minute + time.Second))
						if got := r.state("hr"); got != alarm.StateInsufficientData {
							t.Errorf("a minute later: %v, want INSUFFICIENT_DATA", got)
						}
					})
				})
			}
		}
	}
}

// TestSubMinuteSetAlarmStateHolds: SetAlarmState on a 10-second alarm holds until the regular round
// at the next minute boundary, as on a minute alarm (TestSetAlarmStateIsTemporary), instead of
// being undone by the next 10-second round: the alarm's minute data cannot change in between.
func TestSubMinuteSetAlarmStateHolds(t *testing.T) {
	for _, setAt := range []time.Duration{0, 5 * time.Second, 25 * time.Second, 50 * time.Second, 59 * time.Second} {
		t.Run(fmt.Sprintf("set at :%02d", int(setAt.Seconds())), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil, nil)
				base := time.Now().Truncate(time.Hour).Add(time.Hour)
				advanceTo(base.Add(5 * time.Second))
				ctx := context.Background()
				if err := r.svc.PutMetricAlarm(ctx, sc, subMinuteAlarm("hr", 10, alarm.StatSum, alarm.TreatNotBreaching), nil); err != nil {
					t.Fatal(err)
				}
				r.run()
				minute := base.Add(time.Minute)
				advanceTo(minute.Add(setAt))
				if got := r.state("hr"); got != alarm.StateOK {
					t.Fatalf("before SetAlarmState: %v", got)
				}
				if err := r.svc.SetAlarmState(ctx, sc, "hr", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "testing"}); err != nil {
					t.Fatal(err)
				}
				for check := minute.Add(setAt).Truncate(10 * time.Second).Add(10 * time.Second); check.Before(minute.Add(time.Minute)); check = check.Add(10 * time.Second) {
					advanceTo(check.Add(time.Second))
					if rec := r.svc.Get(sc, "hr"); rec.State != alarm.StateAlarm || rec.Reason != "testing" {
						t.Fatalf("at %s: %v %q, want the forced ALARM", check.Format("15:04:05"), rec.State, rec.Reason)
					}
				}
				advanceTo(minute.Add(time.Minute + time.Second))
				if got := r.state("hr"); got != alarm.StateOK {
					t.Errorf("after the minute's round: %v, want OK", got)
				}
			})
		})
	}
}
