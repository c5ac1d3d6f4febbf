package metrics

import (
	"strconv"
	"strings"
)

// defaultLabels returns the label of each query's result, keyed by query Id: the query's Label
// when it has one, otherwise, for a MetricStat query, the metric name followed by what tells it
// apart from the other queries of the same metric.
//
// CloudWatch's recorded answers (localstack's AWS-validated snapshots of GetMetricData,
// test_label_generation and test_get_metric_data_with_zero_and_labels) show the rule: among the
// queries that name one metric, the statistic is appended when their statistics differ, then the
// period when their periods differ ("metric1 Sum 60" and "metric1 Minimum 30"; "metric1 Sum" and
// "metric1 Minimum" for one period; "metric1 60" and "metric1 30" for one statistic), and the unit
// never is (Sum of Seconds and Sum of Milliseconds over one period are both "metric1").
//
// Decisions where the recordings are silent, kept here and tested: "the same metric" is the same
// namespace, name and dimension set; every MetricStat query of the request counts, whether or not
// it has its own Label or returns data, since the suffix says how the query differs from the
// others the caller asked for; a query with a Label keeps it unchanged. Expression queries have no
// default label here (metric math labels its own results).
func defaultLabels(queries []MetricDataQuery) map[string]string {
	type group struct {
		stats, periods map[string]bool
	}
	groups := map[string]*group{}
	for i := range queries {
		ms := queries[i].MetricStat
		if ms == nil || ms.Metric == nil {
			continue
		}
		k := ms.Metric.Key()
		g := groups[k]
		if g == nil {
			g = &group{stats: map[string]bool{}, periods: map[string]bool{}}
			groups[k] = g
		}
		g.stats[ms.Stat] = true
		g.periods[periodText(ms.Period)] = true
	}
	out := make(map[string]string, len(queries))
	for i := range queries {
		q := &queries[i]
		ms := q.MetricStat
		if q.Label != "" || ms == nil || ms.Metric == nil {
			out[q.ID] = q.Label
			continue
		}
		parts := []string{ms.Metric.MetricName}
		g := groups[ms.Metric.Key()]
		if len(g.stats) > 1 {
			parts = append(parts, ms.Stat)
		}
		if len(g.periods) > 1 {
			parts = append(parts, periodText(ms.Period))
		}
		out[q.ID] = strings.Join(parts, " ")
	}
	return out
}

func periodText(p *int32) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(int(*p))
}
