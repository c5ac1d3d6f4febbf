package metricmath

import (
	"testing"
	"time"
)

// BenchmarkErrorRate evaluates the User Guide's error rate, 100*errors/requests, over a day of
// one-minute datapoints (1,440 per series): the per-expression cost of GetMetricData and of a
// metric math alarm's evaluation.
func BenchmarkErrorRate(b *testing.B) {
	day := func(id string, v float64) Series {
		s := Series{ID: id, Label: id, Period: 60, Points: make([]Point, 1440)}
		for i := range s.Points {
			s.Points[i] = Point{Time: t0.Add(time.Duration(i) * time.Minute), Value: v + float64(i%7)}
		}
		return s
	}
	refs := map[string]Value{"errors": Single(day("errors", 1)), "requests": Single(day("requests", 100))}
	env := Env{Start: t0, End: t0.Add(24 * time.Hour), Period: 60,
		Ref: func(id string) (Value, bool) { v, ok := refs[id]; return v, ok }}
	e, err := Parse("100*errors/requests")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}
