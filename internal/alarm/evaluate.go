package alarm

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Datapoint is one per-period aggregate of the alarm's metric, computed by the caller with the
// alarm's statistic (StatisticName) over buckets of PeriodSeconds aligned to the range returned by
// Range. Timestamp is the bucket start, as in StateReason and GetMetricStatistics.
type Datapoint struct {
	Timestamp   time.Time
	Value       float64
	SampleCount float64
}

// Result is the outcome of one evaluation.
type Result struct {
	// State is the state the alarm should be in. When Retained is true it equals the previous
	// state and Reason and ReasonData are empty.
	State State
	// Reason is the StateReason text AWS writes for this outcome.
	Reason string
	// ReasonData is the StateReasonData JSON document.
	ReasonData string
	// Retained reports that the evaluation decided nothing: TreatMissingData=ignore without
	// enough data, premature-ALARM avoidance, or a percentile with too few samples.
	Retained bool
	// heldUntil is the HeldUntil of the record the result produces (SetAlarmState only).
	heldUntil time.Time
	// silent records the transition without running the new state's actions (a composite alarm
	// created in OK).
	silent bool
}

// Changed reports whether applying r to an alarm in state prev is a state transition, the only
// event on which AWS updates StateReason, writes a StateUpdate history item and runs actions.
func (r Result) Changed(prev State) bool { return !r.Retained && r.State != prev }

// EvaluationTime returns the evaluation instant whose window a regular evaluation at now uses:
// now truncated to the minute, or, for high-resolution periods (10, 20 or 30 s), which AWS
// evaluates every 10 seconds [CWUG "Evaluating an alarm"], to the period, so that the periods
// start where GetMetricData's do (at :00 and :30 for 30 s; a decision: the rounds every 10 s
// between two period ends evaluate the same window). The newest bucket of the window ends at this
// instant: a query at 18:50:37 with period 60 reports the 18:49:00 datapoint [§1.4, SREBOT].
func (a *MetricAlarm) EvaluationTime(now time.Time) time.Time {
	if ps := a.PeriodSeconds(); ps > 0 && ps < 60 {
		return now.Truncate(time.Duration(ps) * time.Second)
	}
	return now.Truncate(time.Minute)
}

// NextEvaluation returns the first regular evaluation instant at or after now.
func (a *MetricAlarm) NextEvaluation(now time.Time) time.Time {
	t := a.EvaluationTime(now)
	if t.Before(now) {
		step := time.Minute
		if ps := a.PeriodSeconds(); ps > 0 && ps < 60 {
			step = time.Duration(ps) * time.Second
		}
		t = t.Add(step)
	}
	return t
}

// RangeSize returns the number of periods in the evaluation range, the look-back CloudWatch uses
// to prefer real datapoints over missing ones. AWS documents only "5 for N=3"; this is
// N + max(N/3, 2) (see Decisions).
func RangeSize(n int) int { return n + max(n/3, 2) }

// Range returns the time span [start, end) whose datapoints an evaluation at now needs. The caller
// aggregates the metric into buckets of PeriodSeconds starting at start.
func (a *MetricAlarm) Range(now time.Time) (start, end time.Time) {
	end = a.EvaluationTime(now)
	p := time.Duration(a.PeriodSeconds()) * time.Second
	return end.Add(-time.Duration(a.rangePeriods(end)) * p), end
}

// rangePeriods is the number of periods of the evaluation range ending at end: RangeSize(N), and,
// for a period below a minute, as many more as reach back to the start of the newest minute that
// began before end.
//
// Why (a decision; AWS documents only part of it): trailwatch keeps every metric at one-minute
// resolution, so a 10-, 20- or 30-second alarm watches minute data. PutMetricAlarm's reference
// says of such an alarm that it "still attempts to gather data at the period rate that you
// specify" and "does not receive data for the attempts that do not correspond to a one-minute data
// resolution, and the alarm might often lapse into INSUFFICIENT_DATA status": a minute's datapoint
// lies in the period that starts at the minute, and the other periods of the minute are empty.
// That period is complete only when the minute ends, though: a datapoint put at 12:00:45 belongs
// to it, and a range of RangeSize(N) 10-second periods ending at 12:00:50 ([12:00:20, 12:00:50))
// would never evaluate it. So the range of a sub-minute alarm always covers the minute in progress
// at its end: each minute's datapoint is evaluated by every regular evaluation from the first
// 10-second boundary after it arrives up to the next minute boundary, whatever second it arrived
// at; after that the alarm sees that minute only as far as RangeSize(N) reaches, and lapses into
// missing data as AWS says it might. TestSubMinuteAlarmEverySecond pins it.
func (a *MetricAlarm) rangePeriods(end time.Time) int {
	r := RangeSize(a.N())
	ps := a.PeriodSeconds()
	if ps <= 0 || ps >= 60 {
		return r
	}
	p := time.Duration(ps) * time.Second
	minute := end.Add(-time.Nanosecond).Truncate(time.Minute)
	return max(r, int((end.Sub(minute)+p-1)/p))
}

// slot is one period of the evaluation range.
type slot struct {
	start time.Time
	point *Datapoint
	age   int // 1 for the newest period
}

// window is the evaluation range laid out as slots and the selection made from it.
type window struct {
	slots    []slot // newest first
	selected []slot // evaluated real datapoints, newest first
	filled   []slot // missing slots standing in for the shortfall, newest first
	real     int    // real datapoints in the range
}

func (a *MetricAlarm) layout(points []Datapoint, end time.Time) window {
	p := time.Duration(a.PeriodSeconds()) * time.Second
	r := a.rangePeriods(end)
	w := window{slots: make([]slot, r)}
	for i := range w.slots {
		w.slots[i] = slot{start: end.Add(-time.Duration(i+1) * p), age: i + 1}
	}
	start := end.Add(-time.Duration(r) * p)
	for i := range points {
		ts := points[i].Timestamp
		if ts.Before(start) || !ts.Before(end) {
			continue
		}
		idx := r - 1 - int(ts.Sub(start)/p)
		w.slots[idx].point = &points[i]
	}
	n := a.N()
	for _, s := range w.slots {
		if s.point != nil {
			w.real++
			if len(w.selected) < n {
				w.selected = append(w.selected, s)
			}
		}
	}
	if short := n - len(w.selected); short > 0 {
		for _, s := range w.slots {
			if s.point == nil && len(w.filled) < short {
				w.filled = append(w.filled, s)
			}
		}
	}
	return w
}

// Evaluate is the alarm's evaluation at now, given the datapoints of its range (see Range), the
// alarm's current state, and the clock. It is a pure function: the scheduler fetches the data,
// calls Evaluate, and applies the result when Changed.
//
// The rules, from [CWUG "alarms-and-missing-data"] and its two tables (§1.6):
//   - With at least N real datapoints in the range, the N most recent are evaluated and
//     TreatMissingData is not consulted.
//   - With fewer, all of them are evaluated and the shortfall is filled: as breaching or not
//     breaching for those treatments; for "missing" and "ignore" the real points decide, OK as soon
//     as one of them does not breach, and ALARM only if M breach — or, for "missing", if every
//     real point breaches and the oldest is at least M periods old (the premature-ALARM rule).
//     Otherwise the state is retained.
//   - With none, "missing" gives INSUFFICIENT_DATA and "ignore" retains the state.
func Evaluate(a *MetricAlarm, points []Datapoint, prev State, now time.Time) Result {
	return a.evaluate(points, prev, now, a.EvaluationTime(now))
}

func (a *MetricAlarm) evaluate(points []Datapoint, prev State, now, end time.Time) Result {
	retained := Result{State: prev, Retained: true}
	if !a.ComparisonOperator.static() || a.Threshold == nil || a.N() == 0 || a.PeriodSeconds() == 0 {
		// Anomaly-detection bands are not computed here; an invalid alarm decides nothing.
		return retained
	}
	w := a.layout(points, end)
	if a.lowSamples(w.selected) {
		return retained
	}
	n, m := a.N(), a.M()
	breaching := 0
	for _, s := range w.selected {
		if a.ComparisonOperator.breaches(s.point.Value, *a.Threshold) {
			breaching++
		}
	}
	treat := a.Treatment()
	var state State
	switch {
	case len(w.selected) >= n:
		state = alarmIf(breaching >= m)
	case len(w.selected) == 0:
		switch treat {
		case TreatMissing:
			state = StateInsufficientData
		case TreatIgnore:
			return retained
		case TreatBreaching:
			state = alarmIf(n >= m)
		default:
			state = StateOK
		}
	default:
		switch treat {
		case TreatBreaching:
			state = alarmIf(breaching+len(w.filled) >= m)
		case TreatNotBreaching:
			state = alarmIf(breaching >= m)
		default: // missing, ignore
			oldest := w.selected[len(w.selected)-1].age
			switch {
			case breaching >= m:
				state = StateAlarm
			case breaching < len(w.selected):
				state = StateOK
			case treat == TreatMissing && oldest >= m:
				state = StateAlarm // premature-ALARM rule
			default:
				return retained
			}
		}
	}
	return Result{State: state, Reason: a.reason(w, state, breaching), ReasonData: a.reasonData(w, now)}
}

func alarmIf(b bool) State {
	if b {
		return StateAlarm
	}
	return StateOK
}

// lowSamples reports whether EvaluateLowSampleCountPercentile=ignore suppresses this evaluation:
// a percentile p in [0.5, 1) needs 10/(1-p) samples and p in (0, 0.5) needs 10/p [CWUG
// "percentiles-with-low-samples"]; the API says "the alarm state does not change during periods
// with too few data points", so one such evaluated datapoint retains the state.
func (a *MetricAlarm) lowSamples(sel []slot) bool {
	if a.EvaluateLowSampleCountPercentile != LowSampleIgnore {
		return false
	}
	p, ok := percentile(a.StatisticName())
	if !ok || p <= 0 || p >= 1 {
		return false
	}
	need := 10 / p
	if p >= 0.5 {
		need = 10 / (1 - p)
	}
	for _, s := range sel {
		if s.point.SampleCount < need {
			return true
		}
	}
	return false
}

// reason builds StateReason for a decided state [§1.8].
func (a *MetricAlarm) reason(w window, state State, breaching int) string {
	n, m := a.N(), a.M()
	treat := a.Treatment()
	if state == StateInsufficientData {
		return "Insufficient Data: " + strconv.Itoa(n) + " " + plural(n, "datapoint was", "datapoints were") + " unknown."
	}
	fillText := ""
	if f := len(w.filled); f > 0 && (treat == TreatBreaching || treat == TreatNotBreaching) {
		kind := "NonBreaching"
		if treat == TreatBreaching {
			kind = "Breaching"
		}
		fillText = " and " + strconv.Itoa(f) + " missing " + plural(f, "datapoint was", "datapoints were") + " treated as [" + kind + "]"
	}
	var crossing []slot
	for _, s := range w.selected {
		if a.ComparisonOperator.breaches(s.point.Value, *a.Threshold) == (state == StateAlarm) {
			crossing = append(crossing, s)
		}
	}
	k := len(crossing)
	if k == 0 {
		// The filled datapoints alone decided [§1.8 "no datapoints were received"; trailwatch
		// decision for the partial form "1 datapoint was received for 3 periods"].
		received := "no datapoints were"
		if r := len(w.selected); r > 0 {
			received = strconv.Itoa(r) + " " + plural(r, "datapoint was", "datapoints were")
		}
		return "Threshold Crossed: " + received + " received for " + strconv.Itoa(n) + " " + plural(n, "period", "periods") + fillText + "."
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if a.DatapointsToAlarm != nil {
		b.WriteString(strconv.Itoa(k) + " out of the last " + strconv.Itoa(n) + " datapoints")
	} else {
		b.WriteString(strconv.Itoa(k) + " " + plural(k, "datapoint", "datapoints"))
	}
	list := func(sl []slot) string {
		items := make([]string, len(sl))
		for i, s := range sl {
			items[i] = javaDouble(s.point.Value) + " (" + reasonTime(s.start) + ")"
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	inline := k <= 3
	if inline {
		b.WriteString(" " + list(crossing))
	}
	b.WriteString(" " + plural(k, "was", "were") + " ")
	if state == StateOK {
		b.WriteString("not ")
	}
	b.WriteString(a.ComparisonOperator.words() + " the threshold (" + javaDouble(*a.Threshold) + ")")
	b.WriteString(fillText)
	if !inline {
		b.WriteString(". The most recent datapoints which crossed the threshold: " + list(crossing[:min(k, 5)]))
	}
	if a.DatapointsToAlarm != nil {
		need, arrow := m, "OK -> ALARM"
		if state == StateOK {
			need, arrow = n-m+1, "ALARM -> OK"
		}
		b.WriteString(" (minimum " + strconv.Itoa(need) + " " + plural(need, "datapoint", "datapoints") + " for " + arrow + " transition)")
	}
	b.WriteString(".")
	return b.String()
}

// reasonData builds the StateReasonData JSON [§1.9]: evaluated datapoints newest first (missing
// ones without value), recentDatapoints oldest first, startDate only when a real datapoint was
// evaluated, unit only when the alarm has one, statistic absent for Metrics alarms, and no
// sampleCount for an alarm on an expression (a decision: an expression's value has none).
func (a *MetricAlarm) reasonData(w window, now time.Time) string {
	o := newObject().str("version", "1.0").str("queryDate", javaTime(now))
	if len(w.selected) > 0 {
		o.str("startDate", javaTime(w.selected[len(w.selected)-1].start))
	}
	if a.Unit != "" {
		o.str("unit", a.Unit)
	}
	switch {
	case a.Statistic != "":
		o.str("statistic", a.Statistic)
	case a.ExtendedStatistic != "":
		o.str("extendedStatistic", a.ExtendedStatistic)
	}
	o.raw("period", strconv.Itoa(a.PeriodSeconds()))
	recent := make([]string, len(w.selected))
	for i, s := range w.selected {
		recent[len(w.selected)-1-i] = javaDouble(s.point.Value)
	}
	o.raw("recentDatapoints", "["+strings.Join(recent, ",")+"]")
	o.num("threshold", *a.Threshold)
	evaluated := append(append([]slot(nil), w.selected...), w.filled...)
	slices.SortFunc(evaluated, func(x, y slot) int { return x.age - y.age })
	items := make([]string, len(evaluated))
	for i, s := range evaluated {
		e := newObject().str("timestamp", javaTime(s.start))
		switch {
		case s.point == nil:
		case a.WatchesExpression():
			e.num("value", s.point.Value) // an expression has no sample count
		default:
			e.num("sampleCount", s.point.SampleCount).num("value", s.point.Value)
		}
		items[i] = e.String()
	}
	o.raw("evaluatedDatapoints", "["+strings.Join(items, ",")+"]")
	return o.String()
}
