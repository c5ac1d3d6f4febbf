package metricmath

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

type function func(ev *evaluator, c *callNode) (Value, error)

// refusedService names the AWS service a documented function reads, for the functions trailwatch
// refuses because it does not have that service.
func refusedService(name string) (string, bool) {
	switch name {
	case "ANOMALY_DETECTION_BAND":
		return "CloudWatch anomaly detection models", true
	case "INSIGHT_RULE_METRIC":
		return "CloudWatch Contributor Insights rules", true
	case "LAMBDA":
		return "AWS Lambda", true
	case "SERVICE_QUOTA":
		return "Service Quotas", true
	case "DB_PERF_INSIGHTS":
		return "Amazon RDS Performance Insights", true
	}
	return "", false
}

// lookup returns the function of that name among every function of [CWUG "Functions supported
// for metric math"] that needs no other AWS service.
func lookup(name string) (function, bool) {
	switch name {
	case "ABS":
		return pointwise(math.Abs), true
	case "CEIL":
		return pointwise(math.Ceil), true
	case "FLOOR":
		return pointwise(math.Floor), true
	case "LOG":
		return pointwise(math.Log), true
	case "LOG10":
		return pointwise(math.Log10), true
	case "AVG":
		return aggregate(statAvg, true), true
	case "MAX":
		return aggregate(statMax, false), true
	case "MIN":
		return aggregate(statMin, false), true
	case "SUM":
		return aggregate(statSum, true), true
	case "STDDEV":
		return aggregate(statStddev, false), true
	case "DATAPOINT_COUNT":
		return aggregate(func(v []float64) float64 { return float64(len(v)) }, false), true
	case "DIFF":
		return transform(diff), true
	case "DIFF_TIME":
		return transform(diffTime), true
	case "RATE":
		return transform(rate), true
	case "RUNNING_SUM":
		return transform(runningSum), true
	case "FILL":
		return fill, true
	case "FIRST":
		return pick(true), true
	case "LAST":
		return pick(false), true
	case "IF":
		return ifFunc, true
	case "METRICS":
		return metricsFunc, true
	case "METRIC_COUNT":
		return metricCount, true
	case "MINUTE":
		return timeFunc(func(t time.Time) float64 { return float64(t.Minute()) }), true
	case "HOUR":
		return timeFunc(func(t time.Time) float64 { return float64(t.Hour()) }), true
	case "DAY":
		return timeFunc(dayOfWeek), true
	case "DATE":
		return timeFunc(func(t time.Time) float64 { return float64(t.Day()) }), true
	case "MONTH":
		return timeFunc(func(t time.Time) float64 { return float64(t.Month()) }), true
	case "YEAR":
		return timeFunc(func(t time.Time) float64 { return float64(t.Year()) }), true
	case "EPOCH":
		return timeFunc(func(t time.Time) float64 { return float64(t.Unix()) }), true
	case "PERIOD":
		return period, true
	case "REMOVE_EMPTY":
		return removeEmpty, true
	case "SLICE":
		return slice, true
	case "SORT":
		return sortFunc, true
	case "TIME_SERIES":
		return timeSeries, true
	case "SEARCH":
		return search, true
	}
	return nil, false
}

func arity(c *callNode, lo, hi int) error {
	if len(c.args) >= lo && len(c.args) <= hi {
		return nil
	}
	want := strconv.Itoa(lo) + " arguments"
	switch {
	case lo == hi && lo == 1:
		want = "1 argument"
	case hi == lo+1:
		want = strconv.Itoa(lo) + " or " + strconv.Itoa(hi) + " arguments"
	case hi > lo:
		want = strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " arguments"
	}
	return errorf(c.pos, "The function %s takes %s, not %d", c.name, want, len(c.args))
}

// String names the kind as the error messages do.
func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "a scalar"
	case KindSeries:
		return "a time series"
	}
	return "an array of time series"
}

func (ev *evaluator) arg(c *callNode, i int, kinds ...Kind) (Value, error) {
	v, err := ev.eval(c.args[i])
	if err != nil {
		return Value{}, err
	}
	if !slices.Contains(kinds, v.Kind) {
		names := make([]string, len(kinds))
		for j, k := range kinds {
			names[j] = k.String()
		}
		return Value{}, errorf(c.args[i].position(), "Argument %d of %s must be %s, not %s", i+1, c.name, strings.Join(names, " or "), v.Kind)
	}
	return v, nil
}

// pointwise functions (ABS, CEIL, FLOOR, LOG, LOG10) apply f to each datapoint of a TS or each
// series of a TS[]; a scalar is accepted too (a decision: AWS lists TS and TS[] only).
func pointwise(f func(float64) float64) function {
	return func(ev *evaluator, c *callNode) (Value, error) {
		if err := arity(c, 1, 1); err != nil {
			return Value{}, err
		}
		v, err := ev.arg(c, 0, KindSeries, KindArray, KindScalar)
		if err != nil {
			return Value{}, err
		}
		return ev.mapValue(v, f), nil
	}
}

func statSum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func statAvg(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return statSum(v) / float64(len(v))
}

func statMin(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return slices.Min(v)
}

func statMax(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return slices.Max(v)
}

// statStddev is the population standard deviation (a decision: AWS does not say which).
func statStddev(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	m := statAvg(v)
	s := 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)))
}

func values(s Series) []float64 {
	out := make([]float64, len(s.Points))
	for i, p := range s.Points {
		out[i] = p.Value
	}
	return out
}

// aggregate functions (AVG, MAX, MIN, SUM, STDDEV, DATAPOINT_COUNT) reduce a TS to a scalar over
// its datapoints, and a TS[] to a TS over the series at each timestamp where any has a value.
// missingAsZero counts a series without a value at that timestamp as 0 (AVG: "Missing values
// are treated as 0"; for SUM it makes no difference); the others use the values present.
func aggregate(f func([]float64) float64, missingAsZero bool) function {
	return func(ev *evaluator, c *callNode) (Value, error) {
		if err := arity(c, 1, 1); err != nil {
			return Value{}, err
		}
		v, err := ev.arg(c, 0, KindSeries, KindArray)
		if err != nil {
			return Value{}, err
		}
		if v.Kind == KindSeries {
			return Scalar(f(values(v.Series[0]))), nil
		}
		out := Series{Period: ev.env.Period}
		if len(v.Series) > 0 && v.Series[0].Period > 0 {
			out.Period = v.Series[0].Period
		}
		var times []time.Time
		for _, s := range v.Series {
			for _, p := range s.Points {
				times = append(times, p.Time)
			}
		}
		slices.SortFunc(times, time.Time.Compare)
		times = slices.CompactFunc(times, time.Time.Equal)
		buf := make([]float64, 0, len(v.Series))
		for _, t := range times {
			buf = buf[:0]
			for _, s := range v.Series {
				if x, ok := at(s, t); ok {
					buf = append(buf, x)
				} else if missingAsZero {
					buf = append(buf, 0)
				}
			}
			out.Points = ev.keep(out.Points, t, f(buf))
		}
		return Single(out), nil
	}
}

// transform functions (DIFF, DIFF_TIME, RATE, RUNNING_SUM) rewrite each series of a TS or TS[].
func transform(f func(ev *evaluator, s Series) Series) function {
	return func(ev *evaluator, c *callNode) (Value, error) {
		if err := arity(c, 1, 1); err != nil {
			return Value{}, err
		}
		v, err := ev.arg(c, 0, KindSeries, KindArray)
		if err != nil {
			return Value{}, err
		}
		out := Value{Kind: v.Kind, Series: make([]Series, len(v.Series))}
		for i, s := range v.Series {
			out.Series[i] = f(ev, s)
		}
		return out, nil
	}
}

func derived(s Series) Series { return Series{Label: s.Label, Period: s.Period} }

// diff is "the difference between each value in the time series and the preceding value"; the
// first datapoint has no predecessor and is left out.
func diff(ev *evaluator, s Series) Series {
	out := derived(s)
	for i := 1; i < len(s.Points); i++ {
		out.Points = ev.keep(out.Points, s.Points[i].Time, s.Points[i].Value-s.Points[i-1].Value)
	}
	return out
}

// diffTime is "the difference in seconds between the timestamp of each value ... and the
// timestamp of the preceding value".
func diffTime(ev *evaluator, s Series) Series {
	out := derived(s)
	for i := 1; i < len(s.Points); i++ {
		out.Points = ev.keep(out.Points, s.Points[i].Time, s.Points[i].Time.Sub(s.Points[i-1].Time).Seconds())
	}
	return out
}

// rate is "the difference between the latest data point value and the previous data point
// value, divided by the time difference in seconds between the two values".
func rate(ev *evaluator, s Series) Series {
	out := derived(s)
	for i := 1; i < len(s.Points); i++ {
		dt := s.Points[i].Time.Sub(s.Points[i-1].Time).Seconds()
		out.Points = ev.keep(out.Points, s.Points[i].Time, (s.Points[i].Value-s.Points[i-1].Value)/dt)
	}
	return out
}

func runningSum(ev *evaluator, s Series) Series {
	out := derived(s)
	sum := 0.0
	for _, p := range s.Points {
		sum += p.Value
		out.Points = ev.keep(out.Points, p.Time, sum)
	}
	return out
}

// fill implements FILL(TS|TS[], S|TS|REPEAT|LINEAR): every missing timestamp of the series' grid
// (the request's range in steps of the series' period) gets the filler. A TS filler gives its
// value at that timestamp, when it has one. REPEAT repeats the latest real value before the
// gap, LINEAR interpolates between the real values around it; a gap with no real value before it
// (REPEAT, LINEAR) or after it (LINEAR) stays missing (a decision).
func fill(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 2, 2); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindSeries, KindArray)
	if err != nil {
		return Value{}, err
	}
	mode := ""
	var filler Value
	if k, ok := c.args[1].(*keywordNode); ok && (k.name == "REPEAT" || k.name == "LINEAR") {
		mode = k.name
	} else if filler, err = ev.arg(c, 1, KindScalar, KindSeries); err != nil {
		return Value{}, err
	}
	out := Value{Kind: v.Kind, Series: make([]Series, len(v.Series))}
	for i, s := range v.Series {
		grid, err := ev.grid(c.pos, s.Period)
		if err != nil {
			return Value{}, err
		}
		r := derived(s)
		j := 0 // next real point of s
		for _, t := range grid {
			for j < len(s.Points) && s.Points[j].Time.Before(t) {
				r.Points = append(r.Points, s.Points[j]) // off-grid points are kept as they are
				j++
			}
			if j < len(s.Points) && s.Points[j].Time.Equal(t) {
				r.Points = append(r.Points, s.Points[j])
				j++
				continue
			}
			switch {
			case mode == "REPEAT":
				if j > 0 {
					r.Points = append(r.Points, Point{Time: t, Value: s.Points[j-1].Value})
				}
			case mode == "LINEAR":
				if j > 0 && j < len(s.Points) {
					a, b := s.Points[j-1], s.Points[j]
					frac := t.Sub(a.Time).Seconds() / b.Time.Sub(a.Time).Seconds()
					r.Points = ev.keep(r.Points, t, a.Value+(b.Value-a.Value)*frac)
				}
			case filler.Kind == KindScalar:
				r.Points = ev.keep(r.Points, t, filler.Scalar)
			default:
				if x, ok := at(filler.Series[0], t); ok {
					r.Points = append(r.Points, Point{Time: t, Value: x})
				}
			}
		}
		r.Points = append(r.Points, s.Points[j:]...)
		out.Series[i] = r
	}
	return out, nil
}

// pick implements FIRST and LAST: the first or last series of an array (an empty series for an
// empty array).
func pick(first bool) function {
	return func(ev *evaluator, c *callNode) (Value, error) {
		if err := arity(c, 1, 1); err != nil {
			return Value{}, err
		}
		v, err := ev.arg(c, 0, KindArray)
		if err != nil {
			return Value{}, err
		}
		if len(v.Series) == 0 {
			return Single(Series{Period: ev.env.Period}), nil
		}
		if first {
			return Single(v.Series[0]), nil
		}
		return Single(v.Series[len(v.Series)-1]), nil
	}
}

// ifFunc implements IF(condition, trueValue[, falseValue]) exactly as [CWUG "Using IF
// expressions"] tabulates it: for a TS condition, each of its datapoints yields trueValue's
// value (0 when that series has none) when non-zero, else falseValue's value (dropped when that
// series has none or falseValue is omitted); timestamps without a condition datapoint are
// dropped. A scalar condition picks a whole argument, or an empty series.
func ifFunc(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 2, 3); err != nil {
		return Value{}, err
	}
	cond, err := ev.arg(c, 0, KindScalar, KindSeries)
	if err != nil {
		return Value{}, err
	}
	t, err := ev.arg(c, 1, KindScalar, KindSeries)
	if err != nil {
		return Value{}, err
	}
	var f Value
	hasF := len(c.args) == 3
	if hasF {
		if f, err = ev.arg(c, 2, KindScalar, KindSeries); err != nil {
			return Value{}, err
		}
	}
	if cond.Kind == KindScalar {
		switch {
		case cond.Scalar != 0:
			return t, nil
		case hasF:
			return f, nil
		}
		return Single(Series{Period: ev.env.Period}), nil
	}
	cs := cond.Series[0]
	out := Series{Period: cs.Period}
	for _, p := range cs.Points {
		if p.Value != 0 {
			if t.Kind == KindScalar {
				out.Points = ev.keep(out.Points, p.Time, t.Scalar)
			} else if x, ok := at(t.Series[0], p.Time); ok {
				out.Points = append(out.Points, Point{Time: p.Time, Value: x})
			} else {
				out.Points = append(out.Points, Point{Time: p.Time, Value: 0})
			}
			continue
		}
		switch {
		case !hasF:
		case f.Kind == KindScalar:
			out.Points = ev.keep(out.Points, p.Time, f.Scalar)
		default:
			if x, ok := at(f.Series[0], p.Time); ok {
				out.Points = append(out.Points, Point{Time: p.Time, Value: x})
			}
		}
	}
	return Single(out), nil
}

// metricsFunc implements METRICS() and METRICS("text"): every metric query of the request (no
// expressions), or those whose Id contains text.
func metricsFunc(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 0, 1); err != nil {
		return Value{}, err
	}
	filter := ""
	if len(c.args) == 1 {
		s, ok := c.args[0].(*stringNode)
		if !ok {
			return Value{}, errorf(c.args[0].position(), "The argument of METRICS must be a string")
		}
		filter = s.s
	}
	var all []Series
	if ev.env.Metrics != nil {
		all = ev.env.Metrics()
	}
	out := []Series{}
	for _, s := range all {
		if strings.Contains(s.ID, filter) {
			out = append(out, s)
		}
	}
	return Array(out), nil
}

func metricCount(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 1, 1); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindArray)
	if err != nil {
		return Value{}, err
	}
	return Scalar(float64(len(v.Series))), nil
}

// dayOfWeek is DAY's value: 1 for Monday to 7 for Sunday (ISO 8601).
func dayOfWeek(t time.Time) float64 {
	d := int(t.Weekday())
	if d == 0 {
		d = 7
	}
	return float64(d)
}

// timeFunc implements MINUTE, HOUR, DAY, DATE, MONTH, YEAR and EPOCH: "These functions take the
// period and range of the time series and return a new non-sparse time series where each value
// is based on its timestamp", read in UTC.
func timeFunc(f func(time.Time) float64) function {
	return func(ev *evaluator, c *callNode) (Value, error) {
		if err := arity(c, 1, 1); err != nil {
			return Value{}, err
		}
		v, err := ev.arg(c, 0, KindSeries)
		if err != nil {
			return Value{}, err
		}
		s := v.Series[0]
		grid, err := ev.grid(c.pos, s.Period)
		if err != nil {
			return Value{}, err
		}
		out := Series{Period: s.Period, Points: make([]Point, len(grid))}
		for i, t := range grid {
			out.Points[i] = Point{Time: t, Value: f(t)}
		}
		return Single(out), nil
	}
}

// period implements PERIOD: "Returns the period of the metric in seconds. Valid input is
// metrics, not the results of other expressions."
func period(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 1, 1); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindSeries)
	if err != nil {
		return Value{}, err
	}
	if v.Series[0].ID == "" || v.Series[0].Period <= 0 {
		return Value{}, errorf(c.args[0].position(), "The argument of PERIOD must be a metric, not the result of an expression")
	}
	return Scalar(float64(v.Series[0].Period)), nil
}

func removeEmpty(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 1, 1); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindArray)
	if err != nil {
		return Value{}, err
	}
	out := []Series{}
	for _, s := range v.Series {
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return Array(out), nil
}

func (ev *evaluator) index(c *callNode, i int) (int, error) {
	v, err := ev.arg(c, i, KindScalar)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v.Scalar) || v.Scalar < 0 || v.Scalar != math.Trunc(v.Scalar) {
		return 0, errorf(c.args[i].position(), "Argument %d of %s must be a non-negative integer", i+1, c.name)
	}
	return int(min(v.Scalar, math.MaxInt32)), nil
}

// slice implements SLICE(TS[], start[, end]): start inclusive, end exclusive, zero-based; indexes
// past the end are clamped.
func slice(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 2, 3); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindArray)
	if err != nil {
		return Value{}, err
	}
	lo, err := ev.index(c, 1)
	if err != nil {
		return Value{}, err
	}
	hi := len(v.Series)
	if len(c.args) == 3 {
		if hi, err = ev.index(c, 2); err != nil {
			return Value{}, err
		}
	}
	lo, hi = min(lo, len(v.Series)), min(hi, len(v.Series))
	if lo >= hi {
		return Array([]Series{}), nil
	}
	return Array(slices.Clone(v.Series[lo:hi])), nil
}

// sortFunc implements SORT(TS[], AVG|MIN|MAX|SUM, ASC|DESC[, limit]). The sort is stable, and a
// series without datapoints (whose statistic is undefined) sorts last in either order (a
// decision).
func sortFunc(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 3, 4); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindArray)
	if err != nil {
		return Value{}, err
	}
	var stat func([]float64) float64
	if k, ok := c.args[1].(*keywordNode); ok {
		stat = map[string]func([]float64) float64{"AVG": statAvg, "MIN": statMin, "MAX": statMax, "SUM": statSum}[k.name]
	}
	if stat == nil {
		return Value{}, errorf(c.args[1].position(), "Argument 2 of SORT must be AVG, MIN, MAX or SUM")
	}
	k, ok := c.args[2].(*keywordNode)
	if !ok || k.name != "ASC" && k.name != "DESC" {
		return Value{}, errorf(c.args[2].position(), "Argument 3 of SORT must be ASC or DESC")
	}
	desc := k.name == "DESC"
	limit := len(v.Series)
	if len(c.args) == 4 {
		if limit, err = ev.index(c, 3); err != nil {
			return Value{}, err
		}
	}
	type keyed struct {
		s Series
		k float64
	}
	ks := make([]keyed, len(v.Series))
	for i, s := range v.Series {
		ks[i] = keyed{s, stat(values(s))}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		an, bn := math.IsNaN(a.k), math.IsNaN(b.k)
		switch {
		case an && bn:
			return 0
		case an:
			return 1
		case bn:
			return -1
		}
		if desc {
			return cmpFloat(b.k, a.k)
		}
		return cmpFloat(a.k, b.k)
	})
	out := make([]Series, 0, min(limit, len(ks)))
	for i := 0; i < len(ks) && i < limit; i++ {
		out = append(out, ks[i].s)
	}
	return Array(out), nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// timeSeries implements TIME_SERIES(S): "a non-sparse time series where every value is set to a
// scalar argument", over the request's range in the expression's period.
func timeSeries(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 1, 1); err != nil {
		return Value{}, err
	}
	v, err := ev.arg(c, 0, KindScalar)
	if err != nil {
		return Value{}, err
	}
	grid, err := ev.grid(c.pos, ev.env.Period)
	if err != nil {
		return Value{}, err
	}
	out := Series{Period: ev.env.Period}
	for _, t := range grid {
		out.Points = ev.keep(out.Points, t, v.Scalar)
	}
	return Single(out), nil
}

// search implements SEARCH('search expression', 'Statistic'[, period]) through Env.Search.
func search(ev *evaluator, c *callNode) (Value, error) {
	if err := arity(c, 2, 3); err != nil {
		return Value{}, err
	}
	if ev.env.Search == nil {
		return Value{}, errorf(c.pos, "SEARCH cannot be used here: an alarm watches one time series, and a search returns an array")
	}
	q, ok := c.args[0].(*stringNode)
	if !ok {
		return Value{}, errorf(c.args[0].position(), "Argument 1 of SEARCH must be a string")
	}
	st, ok := c.args[1].(*stringNode)
	if !ok {
		return Value{}, errorf(c.args[1].position(), "Argument 2 of SEARCH must be a string naming a statistic")
	}
	p := ev.env.Period
	if len(c.args) == 3 {
		n, err := ev.index(c, 2)
		if err != nil {
			return Value{}, err
		}
		p = n
	}
	found, err := ev.env.Search(q.s, st.s, p)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return Value{}, errorf(c.args[0].position()+1+e.Pos, "%s", e.Msg)
		}
		return Value{}, err
	}
	return Array(found), nil
}
