package metricmath

import (
	"errors"
	"slices"
	"testing"
)

func batch(t *testing.T, qs ...[2]string) []Query {
	t.Helper()
	out := make([]Query, len(qs))
	for i, q := range qs {
		out[i].ID = q[0]
		if q[1] != "" {
			e, err := Parse(q[1])
			if err != nil {
				t.Fatal(err)
			}
			out[i].Expr = e
		}
	}
	return out
}

func TestOrder(t *testing.T) {
	order, err := Order(batch(t, [2]string{"e3", "e2 + e1"}, [2]string{"e2", "e1 * 2"}, [2]string{"m1", ""}, [2]string{"e1", "m1"}))
	if err != nil || !slices.Equal(order, []int{3, 1, 0}) {
		t.Errorf("order %v, %v", order, err)
	}
	_, err = Order(batch(t, [2]string{"e1", "e2"}, [2]string{"e2", "e3 + 1"}, [2]string{"e3", "e1"}))
	var cycle *CycleError
	if !errors.As(err, &cycle) || !slices.Equal(cycle.Path, []string{"e1", "e2", "e3", "e1"}) {
		t.Errorf("cycle: %v", err)
	}
	_, err = Order(batch(t, [2]string{"m1", ""}, [2]string{"e1", "m1 + m2"}))
	var unknown *UnknownRefError
	if !errors.As(err, &unknown) || unknown.Index != 1 || unknown.Ref != "m2" {
		t.Errorf("unknown: %v", err)
	}
}

func TestCheck(t *testing.T) {
	kinds, err := Check(batch(t, [2]string{"m1", ""}, [2]string{"m2", ""}, [2]string{"e1", "METRICS()"},
		[2]string{"e2", "SUM(e1)"}, [2]string{"e3", "FIRST(SORT(e1, MAX, DESC))/PERIOD(m1)"}))
	if err != nil || !slices.Equal(kinds, []Kind{KindSeries, KindSeries, KindArray, KindSeries, KindSeries}) {
		t.Errorf("kinds %v, %v", kinds, err)
	}
	for _, expr := range []string{"AVG(m1)", "SEARCH('{App}', 'Sum', 60)", "LAMBDA(\"fn\")", "ABS(m1, m1)"} {
		_, err := Check(batch(t, [2]string{"m1", ""}, [2]string{"e1", expr}))
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Index != 1 {
			t.Errorf("%s: %v", expr, err)
		}
	}
}
