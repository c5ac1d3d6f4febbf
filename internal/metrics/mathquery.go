package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/metricmath"
)

// Message is one member of a MetricDataResult's Messages: a code and a text.
type Message struct {
	Code  string
	Value string
}

// The message CloudWatch adds to an expression's result whose datapoints were dropped for not
// being finite (division by zero, LOG of 0), as recorded in GetMetricData responses quoted by
// grafana's CloudWatch tests ("One or more data-points have been dropped due to non-numeric
// values (NaN, -Infinite, +Infinite)").
const (
	CodeArithmeticError    = "ArithmeticError"
	ArithmeticErrorMessage = "One or more data-points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)"
)

// QuerySeries is the evaluated answer to one MetricDataQuery: one series for a metric or an
// expression producing a time series, any number for an expression producing an array (each
// labelled as GetMetricData labels it). Points are oldest first.
type QuerySeries struct {
	ID     string
	Series []metricmath.Series
	// Labels holds the label of each series of Series.
	Labels   []string
	Messages []Message
}

// isInsightsQuery reports whether an Expression is a Metrics Insights query (SELECT ...) rather
// than metric math.
func isInsightsQuery(expr string) bool {
	f := strings.Fields(expr)
	return len(f) > 0 && strings.EqualFold(f[0], "SELECT")
}

// expressionProblems checks the expression of query i (parameter prefix p) and returns the
// problems in GetMetricData's one-per-line form. The wording is trailwatch's (unverified: AWS's
// texts for bad expressions were not found in any recorded answer), in the pattern of the
// recorded "The value ... for parameter ... is ..." messages.
func expressionProblems(p string, q *MetricDataQuery) []string {
	var problems []string
	if q.MetricStat != nil {
		problems = append(problems, fmt.Sprintf("The parameters %s.Expression and %s.MetricStat are mutually exclusive and you have specified both.", p, p))
	}
	if q.Period != nil {
		if err := validatePeriod(int(*q.Period), p+".Period"); err != nil {
			problems = append(problems, fmt.Sprintf("The value %d for parameter %s.Period is not a valid period: it must be 1, 5, 10, 20, 30 or a multiple of 60.", *q.Period, p))
		}
	}
	if isInsightsQuery(q.Expression) {
		return append(problems, fmt.Sprintf("The parameter %s.Expression is a Metrics Insights query, which trailwatch does not support; use metric math or MetricStat.", p))
	}
	if _, err := metricmath.Parse(q.Expression); err != nil {
		problems = append(problems, fmt.Sprintf("The value %s for parameter %s.Expression is not a valid metric math expression: %v.", q.Expression, p, err))
	}
	return problems
}

// orderProblems checks the references between the queries: every Id an expression names must be
// another query's, and expressions may not depend on themselves, directly or not.
func orderProblems(queries []MetricDataQuery) []string {
	_, problems := evaluationOrder(queries)
	return problems
}

// evaluationOrder returns the indexes of the expression queries in evaluation order
// (metricmath.Order), or the problems that prevent one: unknown Ids and cycles. Expressions that do
// not parse are left out: expressionProblems reports them.
func evaluationOrder(queries []MetricDataQuery) ([]int, []string) {
	batch := make([]metricmath.Query, len(queries))
	for i := range queries {
		q := &queries[i]
		batch[i].ID = q.ID
		if q.Expression != "" && !isInsightsQuery(q.Expression) {
			if e, err := metricmath.Parse(q.Expression); err == nil {
				batch[i].Expr = e
			}
		}
	}
	order, err := metricmath.Order(batch)
	var unknown *metricmath.UnknownRefError
	var cycle *metricmath.CycleError
	switch {
	case errors.As(err, &unknown):
		return nil, []string{fmt.Sprintf("The expression of MetricDataQueries.member.%d (Id %s) refers to %s, which is not the Id of any query of the request.", unknown.Index+1, unknown.ID, unknown.Ref)}
	case errors.As(err, &cycle):
		return nil, []string{fmt.Sprintf("The expressions of MetricDataQueries depend on each other in a cycle: %s.", strings.Join(cycle.Path, " -> "))}
	case err != nil:
		return nil, []string{err.Error()}
	}
	return order, nil
}

// exprPeriod is the period of an expression: its query's Period, else the shortest period of the
// request's metric queries, else a minute (a decision: AWS documents Period for expressions only
// as "the granularity of the returned datapoints").
func exprPeriod(q *MetricDataQuery, queries []MetricDataQuery) int {
	if q.Period != nil {
		return int(*q.Period)
	}
	p := 0
	for i := range queries {
		if ms := queries[i].MetricStat; ms != nil && ms.Period != nil && (p == 0 || int(*ms.Period) < p) {
			p = int(*ms.Period)
		}
	}
	if p == 0 {
		p = 60
	}
	return p
}

// evaluateQueries answers every query of a validated request over [start, end): the metric
// queries from their buckets, then the expressions in dependency order. With align, each query's
// start is rounded the way GetMetricData rounds it (alignStart); without, buckets start at start
// (the alarm engine's windows are already aligned). A query whose data is too old for its period
// has no datapoints.
func (s *Service) evaluateQueries(ctx context.Context, scope Scope, queries []MetricDataQuery, stats []Stat, start, end time.Time, align bool) ([]QuerySeries, error) {
	now := s.now()
	startFor := func(period int) (time.Time, bool) {
		if !align {
			return start, true
		}
		return alignStart(start, now, period)
	}
	out := make([]QuerySeries, len(queries))
	values := map[string]metricmath.Value{}
	var metricSeries []metricmath.Series
	used := usedQueries(queries)
	labels := defaultLabels(queries)
	for i := range queries {
		q := &queries[i]
		out[i].ID = q.ID
		ms := q.MetricStat
		if ms == nil || !used[q.ID] && q.ReturnData != nil && !*q.ReturnData {
			continue // a hidden metric no expression reads is not fetched
		}
		period := int(*ms.Period)
		sr := metricmath.Series{ID: q.ID, Label: labels[q.ID], Period: period}
		if aligned, ok := startFor(period); ok {
			// Without a Unit the data of each unit stays apart and one unit is picked (pickUnit).
			buckets, err := s.buckets(ctx, scope, *ms.Metric, aligned, end, period, ms.Unit, ms.Unit == "")
			if err != nil {
				return nil, err
			}
			if ms.Unit == "" {
				buckets, out[i].Messages = pickUnit(buckets)
			}
			for j := range buckets {
				if v, ok := buckets[j].Value(stats[i]); ok {
					sr.Points = append(sr.Points, metricmath.Point{Time: buckets[j].Time, Value: v})
				}
			}
		}
		out[i].Series, out[i].Labels = []metricmath.Series{sr}, []string{sr.Label}
		values[q.ID] = metricmath.Single(sr)
		metricSeries = append(metricSeries, sr)
	}
	order, problems := evaluationOrder(queries)
	if len(problems) > 0 {
		return nil, validation("%s", strings.Join(problems, "\n"))
	}
	budget := metricmath.MaxDensePoints
	for _, i := range order {
		q := &queries[i]
		e, err := metricmath.Parse(q.Expression)
		if err != nil {
			return nil, validation("The value %s for parameter MetricDataQueries.member.%d.Expression is not a valid metric math expression: %v.", q.Expression, i+1, err)
		}
		period := exprPeriod(q, queries)
		estart, ok := startFor(period)
		if !ok {
			estart = end // too old for this period: the grid is empty
		}
		env := metricmath.Env{
			Start: estart, End: end, Period: period, Budget: &budget,
			Ref:     func(id string) (metricmath.Value, bool) { v, ok := values[id]; return v, ok },
			Metrics: func() []metricmath.Series { return metricSeries },
			Search: func(query, stat string, p int) ([]metricmath.Series, error) {
				return s.search(ctx, scope, query, stat, p, startFor, end)
			},
		}
		res, err := e.Eval(env)
		if err != nil {
			return nil, validation("Error in the expression of MetricDataQueries.member.%d (Id %s): %v.", i+1, q.ID, err)
		}
		values[q.ID] = res.Value
		qs := &out[i]
		qs.Series = res.Value.Series
		for _, sr := range res.Value.Series {
			qs.Labels = append(qs.Labels, expressionLabel(q, res.Value.Kind, sr))
		}
		if res.Dropped {
			qs.Messages = append(qs.Messages, Message{Code: CodeArithmeticError, Value: ArithmeticErrorMessage})
		}
	}
	return out, nil
}

// usedQueries returns the Ids the request's expressions read: the Ids they name, and every
// query's when one calls METRICS().
func usedQueries(queries []MetricDataQuery) map[string]bool {
	used := map[string]bool{}
	for i := range queries {
		if queries[i].Expression == "" || isInsightsQuery(queries[i].Expression) {
			continue
		}
		e, err := metricmath.Parse(queries[i].Expression)
		if err != nil {
			continue
		}
		for _, r := range e.Refs() {
			used[r] = true
		}
		if e.UsesFunction("METRICS") {
			for j := range queries {
				used[queries[j].ID] = true
			}
		}
	}
	return used
}

// expressionLabel is the label of one series of an expression's result. A single time series is
// labelled with the query's Label, or its Id when it has none (as GetMetricData answers, e.g.
// {"Id": "e1", "Label": "e1"} in recorded responses). The series of an array are labelled
// "<expression label> <series label>", or with the series label alone when the expression has
// no Label [CWUG "Adding a math expression to a CloudWatch graph": "the legend captions for
// those time series are in the format Expression-Label Metric-Label ... To have the legend show
// only the original metric labels, set Expression-Label to be empty"].
func expressionLabel(q *MetricDataQuery, kind metricmath.Kind, sr metricmath.Series) string {
	if kind != metricmath.KindArray {
		if q.Label != "" {
			return q.Label
		}
		return q.ID
	}
	switch {
	case q.Label == "":
		if sr.Label == "" {
			return q.ID
		}
		return sr.Label
	case sr.Label == "":
		return q.Label
	}
	return q.Label + " " + sr.Label
}

// QuerySeries evaluates a batch of MetricDataQuery as GetMetricData validates it, over [start, end)
// with buckets starting at start and without pagination: the question an alarm on a metric math
// expression asks. It answers every query, returned or not, in request order.
func (s *Service) QuerySeries(ctx context.Context, scope Scope, queries []MetricDataQuery, start, end time.Time) ([]QuerySeries, error) {
	stats, err := validateQueries(queries)
	if err != nil {
		return nil, err
	}
	if !start.Before(end) {
		return make([]QuerySeries, len(queries)), nil
	}
	return s.evaluateQueries(ctx, scope, queries, stats, start.UTC(), end.UTC(), false)
}
