package metrics

import (
	"context"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/metricmath"
)

// MaxSearchResults is the most time series one SEARCH returns: the User Guide's "A graph can
// display as many as 500 time series" (search-expression-syntax), applied to one search.
const MaxSearchResults = 500

// search answers SEARCH(query, stat, period) over the scope's metrics that reported data in the
// past two weeks, the metrics ListMetrics lists (a decision: search draws on the same metric
// catalogue as the console's metric browser). Each found metric becomes one
// series, in ListMetrics order, labelled "<MetricName> <dimension values in name order>" (a
// decision; AWS's default search labels were not found in any recorded answer). A metric with data
// in several units is answered in one of them, as a MetricStat query without a Unit (pickUnit); the
// MultipleUnits message is not carried into the expression's result (a decision).
func (s *Service) search(ctx context.Context, scope Scope, query, stat string, period int, startFor func(int) (time.Time, bool), end time.Time) ([]metricmath.Series, error) {
	srch, err := metricmath.ParseSearch(query)
	if err != nil {
		return nil, err
	}
	st, ok := ParseStat(stat)
	if !ok {
		return nil, &metricmath.Error{Msg: "The statistic " + stat + " of SEARCH is not a valid statistic"}
	}
	if err := validatePeriod(period, "Period"); err != nil {
		return nil, &metricmath.Error{Msg: "The period of SEARCH must be 1, 5, 10, 20, 30 or a multiple of 60"}
	}
	out := []metricmath.Series{}
	aligned, inRange := startFor(period)
	after := ""
	for len(out) < MaxSearchResults {
		ms, next, err := s.store.ListMetrics(ctx, scope, ListQuery{Namespace: srch.Namespace(),
			ActiveSince: s.now().Add(-listRetention), After: after, Limit: ListMetricsPageSize})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			sm := metricmath.SearchMetric{Namespace: m.Namespace, MetricName: m.MetricName}
			label := []string{m.MetricName}
			for _, d := range SortedDimensions(m.Dimensions) {
				sm.Dimensions = append(sm.Dimensions, [2]string{d.Name, d.Value})
				label = append(label, d.Value)
			}
			if !srch.Match(sm) {
				continue
			}
			sr := metricmath.Series{Label: strings.Join(label, " "), Period: period}
			if inRange {
				// As a MetricStat query without a Unit: the units are not summed, one is picked.
				buckets, err := s.buckets(ctx, scope, m, aligned, end, period, "", true)
				if err != nil {
					return nil, err
				}
				buckets, _ = pickUnit(buckets)
				for j := range buckets {
					if v, ok := buckets[j].Value(st); ok {
						sr.Points = append(sr.Points, metricmath.Point{Time: buckets[j].Time, Value: v})
					}
				}
			}
			out = append(out, sr)
			if len(out) == MaxSearchResults {
				break
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	return out, nil
}
