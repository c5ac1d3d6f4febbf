package alarm

import "time"

// EvaluateEarly answers the scheduler's question "a datapoint just arrived: may I act on it now
// instead of at the next regular evaluation?". It evaluates, at now, the window that the regular
// evaluation at T = NextEvaluation(now) will use — the newest bucket being the one still in
// progress — and reports final=true only when that evaluation at T is bound to produce the same
// state whatever data arrives before T. Acting on a final result yields the state sequence AWS
// would produce, only earlier; when final is false the caller waits for T.
//
// More data can change a bucket in two ways: a present value moves (only in one direction for a
// monotone statistic) or a missing bucket becomes present with any value (late or back-dated
// samples, e.g. CloudTrail's delivery delay). Hence the result is final only if:
//   - the statistic is monotone towards breaching: Sum (when sumNonNegative: the caller knows no
//     sample is negative, e.g. every producer is a metric filter with a positive literal value),
//     SampleCount and Maximum with > or >=, Minimum with < or <=;
//   - the outcome is ALARM from at least N real datapoints, not from filled or premature-ALARM
//     logic (a missing bucket turning into a non-breaching one could undo those);
//   - the breaching count minus the missing buckets inside the selected span is still at least
//     M, so that no set of late non-breaching datapoints can push enough breaching ones out.
//
// OK and INSUFFICIENT_DATA outcomes are never final: any non-breaching or missing bucket may
// still breach.
func EvaluateEarly(a *MetricAlarm, points []Datapoint, prev State, now time.Time, sumNonNegative bool) (r Result, final bool) {
	end := a.NextEvaluation(now)
	r = a.evaluate(points, prev, now, end)
	if r.Retained || r.State != StateAlarm || !a.monotone(sumNonNegative) {
		return r, false
	}
	w := a.layout(points, end)
	n, m := a.N(), a.M()
	if len(w.selected) < n {
		return r, false
	}
	breaching := 0
	for _, s := range w.selected {
		if a.ComparisonOperator.breaches(s.point.Value, *a.Threshold) {
			breaching++
		}
	}
	oldest := w.selected[len(w.selected)-1].age
	gaps := oldest - len(w.selected) // missing buckets newer than the oldest selected datapoint
	return r, breaching-gaps >= m
}

// monotone reports whether more samples in a bucket can only move its value towards breaching.
func (a *MetricAlarm) monotone(sumNonNegative bool) bool {
	if len(a.Metrics) > 0 {
		return false
	}
	up := a.ComparisonOperator == GreaterThanThreshold || a.ComparisonOperator == GreaterThanOrEqualToThreshold
	down := a.ComparisonOperator == LessThanThreshold || a.ComparisonOperator == LessThanOrEqualToThreshold
	switch a.Statistic {
	case StatSum:
		return up && sumNonNegative
	case StatSampleCount, StatMaximum:
		return up
	case StatMinimum:
		return down
	}
	return false
}
