package alarm_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// TestLogAlarmType: "LogAlarm", a value of the model's AlarmType enum, is a valid filter of
// DescribeAlarms and DescribeAlarmHistory that matches nothing; a value outside the enum is still
// refused with the enum in the model's order.
func TestLogAlarmType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		if err := r.svc.PutMetricAlarm(ctx, sc, seedAlarm("m", "M", alarm.TreatIgnore), nil); err != nil {
			t.Fatal(err)
		}
		out, err := r.svc.DescribeAlarms(ctx, sc, alarm.DescribeInput{AlarmTypes: []string{alarm.TypeLog}})
		if err != nil || len(out.MetricAlarms)+len(out.CompositeAlarms) != 0 {
			t.Errorf("DescribeAlarms(LogAlarm) = %+v, %v; want nothing", out, err)
		}
		if _, _, err := r.svc.DescribeAlarmHistory(ctx, sc, alarm.HistoryInput{AlarmTypes: []string{alarm.TypeLog}}); err != nil {
			t.Errorf("DescribeAlarmHistory(LogAlarm): %v", err)
		}
		_, err = r.svc.DescribeAlarms(ctx, sc, alarm.DescribeInput{AlarmTypes: []string{"Nope"}})
		want := "1 validation error detected: Value 'Nope' at 'alarmTypes.1.member' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm, LogAlarm]"
		var ae interface{ ErrorMessage() string }
		if !errors.As(err, &ae) || ae.ErrorMessage() != want {
			t.Errorf("unknown type: %v, want %s", err, want)
		}
	})
}
