package alarm_test

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// The scheduler's loop for one metric alarm: ask for the range, fetch the datapoints, evaluate,
// and act only on a transition.
func ExampleEvaluate() {
	period, n, threshold := int32(300), int32(1), 1.0
	a := &alarm.MetricAlarm{
		AlarmName: "root-usage", MetricName: "RootAccountUsage", Namespace: "CISBenchmark",
		Statistic: alarm.StatSum, Period: &period, EvaluationPeriods: &n, Threshold: &threshold,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold, TreatMissingData: alarm.TreatNotBreaching,
	}
	now := time.Date(2026, 11, 25, 10, 4, 37, 0, time.UTC)
	start, end := a.Range(now)
	fmt.Println("fetch", a.StatisticName(), "per", a.PeriodSeconds(), "s from", start.Format("15:04"), "to", end.Format("15:04"))

	points := []alarm.Datapoint{{Timestamp: end.Add(-5 * time.Minute), Value: 1, SampleCount: 1}}
	state := alarm.StateOK
	r := alarm.Evaluate(a, points, state, now)
	if r.Changed(state) {
		fmt.Println(state, "->", r.State)
		fmt.Println(r.Reason)
		fmt.Println(alarm.Subject(r.State, a.AlarmName, "eu-west-1"))
	}
	// Output:
	// fetch Sum per 300 s from 09:49 to 10:04
	// OK -> ALARM
	// Threshold Crossed: 1 datapoint [1.0 (25/11/26 09:59:00)] was greater than or equal to the threshold (1.0).
	// ALARM: "root-usage" in EU (Ireland)
}
