package alarm_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// mathAlarm watches the expression expr over m1, the root-login count per minute (not returned).
func mathAlarm(name, expr, treat string) alarm.MetricAlarm {
	a := seedAlarm(name, "", treat)
	a.Namespace, a.Statistic, a.Period, a.Threshold = "", "", nil, pf(2)
	no := false
	a.Metrics = []alarm.MetricDataQuery{
		{Id: "m1", ReturnData: &no, MetricStat: &alarm.MetricStat{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Period: 60, Stat: alarm.StatSum}},
		{Id: "e1", Expression: expr, Label: "doubled"},
	}
	return a
}

// An alarm on an expression is evaluated exactly like a metric alarm, on the expression's
// datapoints (metrics.Service.QuerySeries, GetMetricData's evaluation): here m1*2 reaches the
// threshold on one root login, the reason lists the expression's value, StateReasonData carries
// it without a sample count, and the window sliding past it returns the alarm to OK.
func TestMetricMathAlarmEvaluated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		if err := r.svc.PutMetricAlarm(ctx, sc, mathAlarm("math", "m1*2", alarm.TreatNotBreaching), nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		advanceTo(base.Add(time.Minute + time.Second))
		if got := r.state("math"); got != alarm.StateOK {
			t.Fatalf("no data, notBreaching: %v", got)
		}
		advanceTo(base.Add(time.Minute + 30*time.Second))
		r.sample("RootAccountUsage", 1)
		if got := r.state("math"); got != alarm.StateOK {
			t.Fatalf("expression alarms wait for the regular round: %v", got)
		}
		advanceTo(base.Add(2*time.Minute + time.Second))
		rec := r.svc.Get(sc, "math")
		stamp := base.Add(time.Minute).Format("02/01/06 15:04:05")
		if rec.State != alarm.StateAlarm ||
			rec.Reason != "Threshold Crossed: 1 datapoint [2.0 ("+stamp+")] was greater than or equal to the threshold (2.0)." {
			t.Fatalf("after a root login: %v %q", rec.State, rec.Reason)
		}
		if !strings.Contains(rec.ReasonData, `"evaluatedDatapoints":[{"timestamp":"`+base.Add(time.Minute).Format("2006-01-02T15:04:05.000+0000")+`","value":2.0}]`) ||
			strings.Contains(rec.ReasonData, "sampleCount") || strings.Contains(rec.ReasonData, "statistic") ||
			!strings.Contains(rec.ReasonData, `"period":60,"recentDatapoints":[2.0],"threshold":2.0`) {
			t.Errorf("StateReasonData %s", rec.ReasonData)
		}
		// The evaluation range (RangeSize(1) = 3 periods) keeps the datapoint until 05:00.
		advanceTo(base.Add(4*time.Minute + time.Second))
		if got := r.state("math"); got != alarm.StateAlarm {
			t.Errorf("datapoint still in range: %v", got)
		}
		advanceTo(base.Add(5*time.Minute + time.Second))
		if got := r.state("math"); got != alarm.StateOK {
			t.Errorf("range past the login: %v", got)
		}
		if h := r.history("math", alarm.HistoryStateUpdate); len(h) != 3 {
			t.Errorf("state updates %q", h)
		}
	})
}

// Missing data and M of N apply to the expression's datapoints: with no data, "breaching" fills
// the missing datapoint; FILL(m1, 0) has real (zero) datapoints instead, so the same treatment
// never applies and the alarm is OK.
func TestMetricMathAlarmMissingData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, nil)
		ctx := context.Background()
		base := time.Now().Truncate(time.Hour).Add(time.Hour)
		advanceTo(base.Add(10 * time.Second))
		if err := r.svc.PutMetricAlarm(ctx, sc, mathAlarm("missing", "m1*2", alarm.TreatBreaching), nil); err != nil {
			t.Fatal(err)
		}
		filled := mathAlarm("filled", "FILL(m1, 0)*2", alarm.TreatBreaching)
		filled.EvaluationPeriods, filled.DatapointsToAlarm = p32(3), p32(2)
		if err := r.svc.PutMetricAlarm(ctx, sc, filled, nil); err != nil {
			t.Fatal(err)
		}
		r.run()
		advanceTo(base.Add(time.Minute + time.Second))
		rec := r.svc.Get(sc, "missing")
		if rec.State != alarm.StateAlarm || rec.Reason != "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]." {
			t.Errorf("missing: %v %q", rec.State, rec.Reason)
		}
		rec = r.svc.Get(sc, "filled")
		if rec.State != alarm.StateOK || !strings.HasPrefix(rec.Reason, "Threshold Crossed: 3 out of the last 3 datapoints [0.0 (") ||
			!strings.HasSuffix(rec.Reason, "were not greater than or equal to the threshold (2.0) (minimum 2 datapoints for ALARM -> OK transition).") {
			t.Errorf("filled: %v %q", rec.State, rec.Reason)
		}
		// Two root logins in two of the last three minutes: 2 of 3 breach.
		advanceTo(base.Add(time.Minute + 30*time.Second))
		r.sample("RootAccountUsage", 1)
		advanceTo(base.Add(2*time.Minute + 30*time.Second))
		r.sample("RootAccountUsage", 1)
		advanceTo(base.Add(3*time.Minute + time.Second))
		if rec = r.svc.Get(sc, "filled"); rec.State != alarm.StateAlarm || !strings.HasPrefix(rec.Reason, "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (") {
			t.Errorf("filled after two logins: %v %q", rec.State, rec.Reason)
		}
	})
}

// The period of a Metrics alarm is the returned query's: a MetricStat's, an expression's Period,
// or for an expression without one the shortest period of the list's metrics.
func TestMetricMathAlarmPeriod(t *testing.T) {
	a := mathAlarm("p", "m1+m2", "")
	a.Metrics = append(a.Metrics, alarm.MetricDataQuery{Id: "m2", ReturnData: a.Metrics[0].ReturnData,
		MetricStat: &alarm.MetricStat{Namespace: "n", MetricName: "m", Period: 30, Stat: alarm.StatSum}})
	a.Metrics[0].MetricStat.Period = 300
	if got := a.PeriodSeconds(); got != 30 {
		t.Errorf("expression without Period: %d", got)
	}
	a.Metrics[1].Period = p32(600)
	if got := a.PeriodSeconds(); got != 600 {
		t.Errorf("expression with Period: %d", got)
	}
}

// An anomaly detection alarm's band needs CloudWatch's anomaly models, which trailwatch does not
// have: PutMetricAlarm refuses it with the function's error rather than storing an alarm that
// would never be evaluated.
func TestAnomalyBandAlarmRefused(t *testing.T) {
	a := seedAlarm("band", "", "")
	a.Namespace, a.Statistic, a.Period, a.Threshold = "", "", nil, nil
	a.ComparisonOperator, a.ThresholdMetricId = alarm.LessThanLowerOrGreaterThanUpperThreshold, "ad1"
	no := false
	a.Metrics = []alarm.MetricDataQuery{
		{Id: "m1", MetricStat: &alarm.MetricStat{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Period: 300, Stat: alarm.StatSum}},
		{Id: "ad1", Expression: "ANOMALY_DETECTION_BAND(m1, 2)", ReturnData: &no},
	}
	err := a.Validate()
	if err == nil || err.Error() != "ValidationError: Invalid metrics list: error in the expression of Id ad1 in Metrics: The function ANOMALY_DETECTION_BAND is not supported by trailwatch: it needs CloudWatch anomaly detection models at position 1." {
		t.Errorf("anomaly band: %v", err)
	}
}
