package metricmath

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Query is one query of a batch (GetMetricData's MetricDataQueries, an alarm's Metrics) as Order
// and Check see it: its Id and, for an expression, the parsed expression (nil for a metric).
type Query struct {
	ID   string
	Expr *Expr
}

// UnknownRefError reports that the expression of query Index names an Id no query has.
type UnknownRefError struct {
	Index   int
	ID, Ref string
}

// Error implements error.
func (e *UnknownRefError) Error() string {
	return fmt.Sprintf("expression %s (query %d) names unknown Id %s", e.ID, e.Index+1, e.Ref)
}

// CycleError reports expressions that depend on themselves: Path starts and ends with the same Id.
type CycleError struct{ Path []string }

// Error implements error.
func (e *CycleError) Error() string { return "expression cycle " + strings.Join(e.Path, " -> ") }

// QueryError is an error in the expression of query Index, found by Check.
type QueryError struct {
	Index int
	Err   error
}

// Error implements error.
func (e *QueryError) Error() string { return fmt.Sprintf("query %d: %v", e.Index+1, e.Err) }

// Unwrap returns the expression's error.
func (e *QueryError) Unwrap() error { return e.Err }

// Order returns the indexes of the expression queries in an order where each comes after the
// expressions it names: the order of evaluation. Every Id an expression names must be a query's
// (the first unknown one is reported as *UnknownRefError, in query order), and no expression may
// depend on itself, directly or not (*CycleError, found from the first expression on the cycle).
func Order(queries []Query) ([]int, error) {
	byID := map[string]int{}
	for i, q := range queries {
		byID[q.ID] = i
	}
	for i, q := range queries {
		if q.Expr == nil {
			continue
		}
		for _, r := range q.Expr.Refs() {
			if _, ok := byID[r]; !ok {
				return nil, &UnknownRefError{Index: i, ID: q.ID, Ref: r}
			}
		}
	}
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(queries))
	var order []int
	var path []string
	var cycle error
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case done:
			return true
		case active:
			k := slices.Index(path, queries[i].ID)
			cycle = &CycleError{Path: append(slices.Clone(path[k:]), queries[i].ID)}
			return false
		}
		state[i] = active
		path = append(path, queries[i].ID)
		if e := queries[i].Expr; e != nil {
			for _, r := range e.Refs() {
				if !visit(byID[r]) {
					return false
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		if queries[i].Expr != nil {
			order = append(order, i)
		}
		return true
	}
	for i := range queries {
		if queries[i].Expr != nil && !visit(i) {
			return nil, cycle
		}
	}
	return order, nil
}

// Check evaluates every expression of the batch over empty metric series, in dependency order,
// and returns the kind of each query's value (metrics are KindSeries). It is how a caller learns
// before any data exists that the expressions refer to existing queries, have no cycle, call
// functions correctly, and which kind each produces (an alarm needs a single time series). SEARCH
// is refused, as in alarms; errors are those of Order, or *QueryError.
func Check(queries []Query) ([]Kind, error) {
	order, err := Order(queries)
	if err != nil {
		return nil, err
	}
	kinds := make([]Kind, len(queries))
	values := map[string]Value{}
	var metrics []Series
	for _, q := range queries {
		if q.Expr == nil {
			s := Series{ID: q.ID, Label: q.ID, Period: 60}
			values[q.ID] = Single(s)
			metrics = append(metrics, s)
		}
	}
	for i := range kinds {
		kinds[i] = KindSeries
	}
	start := time.Unix(0, 0).UTC()
	for _, i := range order {
		res, err := queries[i].Expr.Eval(Env{
			Start: start, End: start.Add(time.Minute), Period: 60,
			Ref:     func(id string) (Value, bool) { v, ok := values[id]; return v, ok },
			Metrics: func() []Series { return metrics },
		})
		if err != nil {
			return nil, &QueryError{Index: i, Err: err}
		}
		values[queries[i].ID] = res.Value
		kinds[i] = res.Value.Kind
	}
	return kinds, nil
}
