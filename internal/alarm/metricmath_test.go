package alarm_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alarm/alarmtest"
)

// mathAlarm is the seed alarm in the Metrics form, with an expression as the returned query.
func mathAlarm(name string) alarm.MetricAlarm {
	a := seedAlarm(name, "", alarm.TreatBreaching)
	a.Namespace, a.Statistic, a.Period = "", "", nil
	no := false
	a.Metrics = []alarm.MetricDataQuery{
		{Id: "m1", ReturnData: &no, MetricStat: &alarm.MetricStat{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Period: 300, Stat: alarm.StatSum}},
		{Id: "e1", Expression: "m1*2"},
	}
	return a
}

// Metric math is not evaluated yet, so PutMetricAlarm refuses an alarm whose returned query is an
// expression instead of storing one that would only ever see "no data" (issue 11, item 4); an
// alarm whose Metrics list returns a MetricStat is accepted and evaluated like the single-metric
// form.
func TestMetricMathAlarmRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		err := r.svc.PutMetricAlarm(ctx, sc, mathAlarm("math"), nil)
		var e *alarm.Error
		if !errors.As(err, &e) || e.ErrorCode() != alarm.CodeValidationError ||
			e.ErrorMessage() != "Metric math expressions in alarms are not supported yet: the query that returns data (Id e1) must be a MetricStat, not an Expression." {
			t.Fatalf("PutMetricAlarm with a returned expression: %v", err)
		}
		if r.svc.Get(sc, "math") != nil {
			t.Fatal("refused alarm was stored")
		}
		if h := r.history("math", ""); len(h) != 0 {
			t.Errorf("refused alarm has history %q", h)
		}

		// The list's MetricStat alone (returning by default) is accepted and alarms on the datapoint.
		a := mathAlarm("stat")
		a.TreatMissingData = alarm.TreatNotBreaching
		a.Metrics[0].ReturnData, a.Metrics = nil, a.Metrics[:1]
		if err := r.svc.PutMetricAlarm(ctx, sc, a, nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		r.sample("RootAccountUsage", 1)
		// Metrics alarms are not evaluated early (EvaluateEarly): the minute's round decides.
		advanceTo(time.Now().Truncate(time.Minute).Add(time.Minute + time.Second))
		if got := r.state("stat"); got != alarm.StateAlarm {
			t.Errorf("MetricStat alarm after a root login: %v", got)
		}
	})
}

// A metric-math alarm stored before PutMetricAlarm refused them is not judged on "no data": with
// TreatMissingData=breaching it used to go to ALARM on nothing. It keeps its state.
func TestStoredMetricMathAlarmKeepsState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := alarmtest.NewMemory()
		a := mathAlarm("math")
		now := time.Now()
		if err := st.Apply(context.Background(), alarm.Change{Put: []*alarm.Record{{Scope: sc, Name: "math", Type: alarm.TypeMetric, Metric: &a,
			ConfigUpdated: now, State: alarm.StateOK, Reason: "r", StateUpdated: now, StateTransitioned: now}}}); err != nil {
			t.Fatal(err)
		}
		r := newRig(t, st, nil)
		r.run()
		advanceTo(now.Add(20 * time.Minute))
		if got := r.state("math"); got != alarm.StateOK {
			t.Errorf("stored metric-math alarm went to %v on no data", got)
		}
		if h := r.history("math", alarm.HistoryStateUpdate); len(h) != 0 {
			t.Errorf("state updates %q", h)
		}
	})
}
