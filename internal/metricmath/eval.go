package metricmath

import (
	"math"
	"slices"
	"time"
)

// Kind is the type of an expression's value, in the documentation's abbreviations: S, TS, TS[].
type Kind int

// The kinds of values.
const (
	// KindScalar is a single number (S).
	KindScalar Kind = iota
	// KindSeries is one time series (TS).
	KindSeries
	// KindArray is an array of time series (TS[]).
	KindArray
)

// Point is one datapoint of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// Series is one time series. Points are in ascending time order with distinct timestamps; a
// timestamp without a point is missing data.
type Series struct {
	// ID is the Id of the metric query the series comes from, "" for a computed series: METRICS()
	// filters on it and PERIOD accepts only such series.
	ID string
	// Label names the series in the elements of an array result.
	Label string
	// Period is the series' period in seconds (the grid FILL and the time functions use).
	Period int
	Points []Point
}

// Value is the result of an expression or of one of its parts.
type Value struct {
	Kind   Kind
	Scalar float64
	// Series holds exactly one series for KindSeries and any number for KindArray.
	Series []Series
}

// Scalar returns a scalar value.
func Scalar(v float64) Value { return Value{Kind: KindScalar, Scalar: v} }

// Single returns a one-series value.
func Single(s Series) Value { return Value{Kind: KindSeries, Series: []Series{s}} }

// Array returns an array value.
func Array(s []Series) Value { return Value{Kind: KindArray, Series: s} }

// Env is what an evaluation reads: the request's time range and the other queries' results.
type Env struct {
	// Start and End are the request's range [Start, End); Start is already aligned the way the
	// metric queries' buckets are, so the grid of a series of period P is Start + k*P.
	Start, End time.Time
	// Period is the expression's own period in seconds: the grid of TIME_SERIES.
	Period int
	// Ref returns the value of the query with that Id.
	Ref func(id string) (Value, bool)
	// Metrics returns every metric (not expression) query's series in request order: METRICS().
	Metrics func() []Series
	// Search answers SEARCH(query, stat, period); nil refuses SEARCH (alarms cannot use it).
	Search func(query, stat string, period int) ([]Series, error)
	// Budget, when not nil, is how many datapoints the dense functions (TIME_SERIES, FILL, the
	// time functions) may still create; it is shared by the expressions of one request, so that
	// FILL(METRICS(), 0) over 500 long series cannot exhaust memory. Nil allows maxGrid per
	// dense series.
	Budget *int
}

// Result is an evaluated expression.
type Result struct {
	Value Value
	// Dropped reports that datapoints were dropped because they were not finite (division by
	// zero, the logarithm of zero or of a negative number, an overflow): CloudWatch then adds
	// an ArithmeticError message to the query's result.
	Dropped bool
}

// maxGrid bounds the length of the dense series TIME_SERIES, FILL and the time functions build.
const maxGrid = 1_000_000

// MaxDensePoints is the Budget a caller gives the expressions of one request: ten times
// GetMetricData's default MaxDatapoints (100,800), a decision.
const MaxDensePoints = 1_008_000

// Eval evaluates the expression in env. The final result must be a time series or an array of
// time series [CWUG: "The final result of any math expression must be a single time series or
// an array of time series"]; a scalar result is an error.
func (e *Expr) Eval(env Env) (Result, error) {
	ev := &evaluator{env: env}
	v, err := ev.eval(e.root)
	if err != nil {
		return Result{}, err
	}
	if v.Kind == KindScalar {
		return Result{}, errorf(e.root.position(), "The expression produces a scalar; its result must be a time series or an array of time series")
	}
	return Result{Value: v, Dropped: ev.dropped}, nil
}

type evaluator struct {
	env     Env
	dropped bool
}

func (ev *evaluator) eval(n node) (Value, error) {
	switch n := n.(type) {
	case *numberNode:
		return Scalar(n.v), nil
	case *stringNode:
		return Value{}, errorf(n.pos, "A string is only valid as an argument of METRICS or SEARCH")
	case *keywordNode:
		if _, ok := lookup(n.name); ok {
			return Value{}, errorf(n.pos, "The function %s must be called with parentheses", n.name)
		}
		return Value{}, errorf(n.pos, "Unknown keyword %s", n.name)
	case *idNode:
		if ev.env.Ref != nil {
			if v, ok := ev.env.Ref(n.name); ok {
				return v, nil
			}
		}
		return Value{}, errorf(n.pos, "Unknown Id %s: no query of the request has it", n.name)
	case *unaryNode:
		x, err := ev.eval(n.x)
		if err != nil {
			return Value{}, err
		}
		return ev.mapValue(x, func(v float64) float64 { return -v }), nil
	case *binaryNode:
		l, err := ev.eval(n.l)
		if err != nil {
			return Value{}, err
		}
		r, err := ev.eval(n.r)
		if err != nil {
			return Value{}, err
		}
		return ev.binary(n, l, r)
	case *arrayNode:
		var out []Series
		for _, x := range n.elems {
			v, err := ev.eval(x)
			if err != nil {
				return Value{}, err
			}
			if v.Kind == KindScalar {
				return Value{}, errorf(x.position(), "An array may only hold time series, not scalars")
			}
			out = append(out, v.Series...)
		}
		return Array(out), nil
	case *callNode:
		fn, ok := lookup(n.name)
		if !ok {
			if svc, refused := refusedService(n.name); refused {
				return Value{}, errorf(n.pos, "The function %s is not supported by trailwatch: it needs %s", n.name, svc)
			}
			return Value{}, errorf(n.pos, "Unknown function %s", n.name)
		}
		return fn(ev, n)
	}
	return Value{}, errorf(0, "Unexpected expression")
}

// keep appends a point unless its value is not finite, which CloudWatch drops (recording it).
func (ev *evaluator) keep(out []Point, t time.Time, v float64) []Point {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		ev.dropped = true
		return out
	}
	return append(out, Point{Time: t, Value: v})
}

func (ev *evaluator) mapSeries(s Series, f func(float64) float64) Series {
	out := Series{Label: s.Label, Period: s.Period, Points: make([]Point, 0, len(s.Points))}
	for _, p := range s.Points {
		out.Points = ev.keep(out.Points, p.Time, f(p.Value))
	}
	return out
}

func (ev *evaluator) mapValue(v Value, f func(float64) float64) Value {
	if v.Kind == KindScalar {
		return Scalar(f(v.Scalar))
	}
	out := Value{Kind: v.Kind, Series: make([]Series, len(v.Series))}
	for i, s := range v.Series {
		out.Series[i] = ev.mapSeries(s, f)
	}
	return out
}

// union combines two series over the union of their timestamps, a missing value counting as 0
// [CWUG: arithmetic "Missing values in a time series are treated as 0"; comparisons "the
// function treats the missing value in the other time series as 0"].
func (ev *evaluator) union(a, b Series, f func(x, y float64) float64) Series {
	out := Series{Label: a.Label, Period: a.Period}
	if out.Period == 0 {
		out.Period = b.Period
	}
	i, j := 0, 0
	for i < len(a.Points) || j < len(b.Points) {
		switch {
		case j >= len(b.Points) || i < len(a.Points) && a.Points[i].Time.Before(b.Points[j].Time):
			out.Points = ev.keep(out.Points, a.Points[i].Time, f(a.Points[i].Value, 0))
			i++
		case i >= len(a.Points) || b.Points[j].Time.Before(a.Points[i].Time):
			out.Points = ev.keep(out.Points, b.Points[j].Time, f(0, b.Points[j].Value))
			j++
		default:
			out.Points = ev.keep(out.Points, a.Points[i].Time, f(a.Points[i].Value, b.Points[j].Value))
			i++
			j++
		}
	}
	return out
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func operator(op string) func(x, y float64) float64 {
	switch op {
	case "+":
		return func(x, y float64) float64 { return x + y }
	case "-":
		return func(x, y float64) float64 { return x - y }
	case "*":
		return func(x, y float64) float64 { return x * y }
	case "/":
		return func(x, y float64) float64 { return x / y }
	case "^":
		return math.Pow
	case "==":
		return func(x, y float64) float64 { return bool01(x == y) }
	case "!=":
		return func(x, y float64) float64 { return bool01(x != y) }
	case "<":
		return func(x, y float64) float64 { return bool01(x < y) }
	case "<=":
		return func(x, y float64) float64 { return bool01(x <= y) }
	case ">":
		return func(x, y float64) float64 { return bool01(x > y) }
	case ">=":
		return func(x, y float64) float64 { return bool01(x >= y) }
	case "AND":
		return func(x, y float64) float64 { return bool01(x != 0 && y != 0) }
	case "OR":
		return func(x, y float64) float64 { return bool01(x != 0 || y != 0) }
	}
	return nil
}

// binary applies an operator to every pair the documentation lists: S op S, TS op S, S op TS,
// TS op TS (over the union of timestamps), and TS[] with S or TS element by element. Two arrays
// are combined element by element when they have the same length (a decision).
func (ev *evaluator) binary(n *binaryNode, l, r Value) (Value, error) {
	f := operator(n.op)
	switch {
	case l.Kind == KindScalar && r.Kind == KindScalar:
		return Scalar(f(l.Scalar, r.Scalar)), nil
	case r.Kind == KindScalar:
		return ev.mapValue(l, func(x float64) float64 { return f(x, r.Scalar) }), nil
	case l.Kind == KindScalar:
		return ev.mapValue(r, func(y float64) float64 { return f(l.Scalar, y) }), nil
	case l.Kind == KindSeries && r.Kind == KindSeries:
		return Single(ev.union(l.Series[0], r.Series[0], f)), nil
	case l.Kind == KindArray && r.Kind == KindSeries:
		out := make([]Series, len(l.Series))
		for i, s := range l.Series {
			out[i] = ev.union(s, r.Series[0], f)
		}
		return Array(out), nil
	case l.Kind == KindSeries && r.Kind == KindArray:
		out := make([]Series, len(r.Series))
		for i, s := range r.Series {
			u := ev.union(l.Series[0], s, f)
			u.Label = s.Label
			out[i] = u
		}
		return Array(out), nil
	default:
		if len(l.Series) != len(r.Series) {
			return Value{}, errorf(n.pos, "The operator %s cannot combine arrays of %d and %d time series", n.op, len(l.Series), len(r.Series))
		}
		out := make([]Series, len(l.Series))
		for i := range l.Series {
			out[i] = ev.union(l.Series[i], r.Series[i], f)
		}
		return Array(out), nil
	}
}

// grid returns the timestamps of a dense series of the given period over the request's range.
func (ev *evaluator) grid(pos, period int) ([]time.Time, error) {
	if period <= 0 {
		period = ev.env.Period
	}
	if period <= 0 || !ev.env.Start.Before(ev.env.End) {
		return nil, nil
	}
	step := time.Duration(period) * time.Second
	n := int64(ev.env.End.Sub(ev.env.Start)+step-1) / int64(step)
	if n > maxGrid {
		return nil, errorf(pos, "The time range holds more than %d periods of %d seconds", maxGrid, period)
	}
	if b := ev.env.Budget; b != nil {
		if n > int64(*b) {
			return nil, errorf(pos, "The expressions of the request would create more than %d datapoints; shorten the time range or lengthen the period", MaxDensePoints)
		}
		*b -= int(n)
	}
	out := make([]time.Time, n)
	for i := range out {
		out[i] = ev.env.Start.Add(time.Duration(i) * step).UTC()
	}
	return out, nil
}

// at returns the value of s at t.
func at(s Series, t time.Time) (float64, bool) {
	i, ok := slices.BinarySearchFunc(s.Points, t, func(p Point, t time.Time) int { return p.Time.Compare(t) })
	if !ok {
		return 0, false
	}
	return s.Points[i].Value, true
}
