package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// labelQuery is one (statistic, period, unit) query of metric1, as localstack's AWS-validated
// test_label_generation sends them.
type labelQuery struct {
	stat   string
	period int32
	unit   string
}

// renderResults prints results as "Id[Label]: v1 v2 {Code=Value}" joined by " | ".
func renderResults(out metrics.GetMetricDataOutput) string {
	var parts []string
	for _, r := range out.MetricDataResults {
		s := fmt.Sprintf("%s[%s]:", r.ID, r.Label)
		for _, v := range r.Values {
			s += fmt.Sprintf(" %g", v)
		}
		for _, m := range r.Messages {
			s += fmt.Sprintf(" {%s=%s}", m.Code, m.Value)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// TestGetMetricDataDefaultLabels replays CloudWatch's recorded answers (localstack's snapshots of
// AWS, test_label_generation[input_pairs0..6] and test_get_metric_data_with_zero_and_labels): the
// statistic and the period are appended to the metric name when they differ among the queries of
// one metric; the unit never is. The cases after the recorded ones pin trailwatch's decisions
// (see defaultLabels).
func TestGetMetricDataDefaultLabels(t *testing.T) {
	svc, _ := newService(t)
	for _, v := range []float64{0, 2, 7, 100} {
		put(t, svc, metrics.MetricDatum{MetricName: "metric1", Value: f(v), Unit: "Seconds", Timestamp: at(minute(-1))})
	}
	put(t, svc, metrics.MetricDatum{MetricName: "metric1", Value: f(5), Unit: "Seconds", Timestamp: at(minute(-1)),
		Dimensions: []metrics.Dimension{{Name: "Host", Value: "a"}}})
	query := func(q labelQuery, dims ...metrics.Dimension) metrics.MetricDataQuery {
		return metrics.MetricDataQuery{
			ID: fmt.Sprintf("result_%s_%d_%s", q.stat, q.period, q.unit),
			MetricStat: &metrics.MetricStat{Metric: &metrics.Metric{Namespace: "App", MetricName: "metric1", Dimensions: dims},
				Period: i32(q.period), Stat: q.stat, Unit: q.unit}}
	}
	tests := []struct {
		name    string
		queries []metrics.MetricDataQuery
		want    string
	}{
		{"recorded: statistic and period differ", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Minimum", 30, "Seconds"})},
			"result_Sum_60_Seconds[metric1 Sum 60]: 109 | result_Minimum_30_Seconds[metric1 Minimum 30]: 0"},
		{"recorded: statistic differs", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Minimum", 60, "Seconds"})},
			"result_Sum_60_Seconds[metric1 Sum]: 109 | result_Minimum_60_Seconds[metric1 Minimum]: 0"},
		{"recorded: period differs", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Sum", 30, "Seconds"})},
			"result_Sum_60_Seconds[metric1 60]: 109 | result_Sum_30_Seconds[metric1 30]: 109"},
		{"recorded: unit differs too", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Minimum", 30, "Milliseconds"})},
			"result_Sum_60_Seconds[metric1 Sum 60]: 109 | result_Minimum_30_Milliseconds[metric1 Minimum 30]:"},
		{"recorded: statistic and unit differ", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Minimum", 60, "Milliseconds"})},
			"result_Sum_60_Seconds[metric1 Sum]: 109 | result_Minimum_60_Milliseconds[metric1 Minimum]:"},
		{"recorded: period and unit differ", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Sum", 30, "Milliseconds"})},
			"result_Sum_60_Seconds[metric1 60]: 109 | result_Sum_30_Milliseconds[metric1 30]:"},
		{"recorded: only the unit differs", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, "Seconds"}), query(labelQuery{"Sum", 60, "Milliseconds"})},
			"result_Sum_60_Seconds[metric1]: 109 | result_Sum_60_Milliseconds[metric1]:"},
		{"recorded: four statistics", []metrics.MetricDataQuery{query(labelQuery{"Average", 60, ""}), query(labelQuery{"Sum", 60, ""}),
			query(labelQuery{"Minimum", 60, ""}), query(labelQuery{"Maximum", 60, ""})},
			"result_Average_60_[metric1 Average]: 27.25 | result_Sum_60_[metric1 Sum]: 109 | result_Minimum_60_[metric1 Minimum]: 0 | result_Maximum_60_[metric1 Maximum]: 100"},
		{"one query", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, ""})}, "result_Sum_60_[metric1]: 109"},
		{"decision: other dimensions are another metric", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, ""}),
			query(labelQuery{"Maximum", 30, ""}, metrics.Dimension{Name: "Host", Value: "a"})},
			"result_Sum_60_[metric1]: 109 | result_Maximum_30_[metric1]: 5"},
		{"decision: an explicit label is kept and still counts", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, ""}),
			func() metrics.MetricDataQuery { q := query(labelQuery{"Maximum", 60, ""}); q.Label = "peak"; return q }()},
			"result_Sum_60_[metric1 Sum]: 109 | result_Maximum_60_[peak]: 100"},
		{"decision: a query that returns no data still counts", []metrics.MetricDataQuery{query(labelQuery{"Sum", 60, ""}),
			func() metrics.MetricDataQuery {
				q := query(labelQuery{"Maximum", 60, ""})
				q.ReturnData = new(bool)
				return q
			}()},
			"result_Sum_60_[metric1 Sum]: 109"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
				StartTime: at(minute(-2)), EndTime: at(minute(0)), MetricDataQueries: tt.queries})
			if err != nil {
				t.Fatal(err)
			}
			if got := renderResults(out); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestGetMetricDataMultipleUnits replays CloudWatch's recorded answers to a query without a Unit
// over data of several units (localstack's AWS snapshots of
// test_get_metric_data_different_units_no_unit_in_query[metric_data0..2]): the units are not
// summed, one unit is picked (Milliseconds over Seconds, Count over both) and the result carries a
// MultipleUnits message; with a Unit, or with data of one unit, there is no message.
func TestGetMetricDataMultipleUnits(t *testing.T) {
	ms := metrics.MetricDatum{MetricName: "m-test", Value: f(60000), Unit: "Milliseconds", Timestamp: at(minute(-1))}
	sec := metrics.MetricDatum{MetricName: "m-test", Value: f(60), Unit: "Seconds", Timestamp: at(minute(-1))}
	count := metrics.MetricDatum{MetricName: "m-test", Value: f(5), Unit: "Count", Timestamp: at(minute(-1))}
	none := metrics.MetricDatum{MetricName: "m-test", Value: f(3), Timestamp: at(minute(-2))}
	tests := []struct {
		name string
		data []metrics.MetricDatum
		unit string
		want string
	}{
		{"recorded: milliseconds and seconds", []metrics.MetricDatum{ms, sec}, "",
			"m1[m-test]: 60000 {MultipleUnits=Multiple units returned: '[Milliseconds, Seconds]'}"},
		{"recorded: twice each", []metrics.MetricDatum{ms, sec, ms, sec}, "",
			"m1[m-test]: 120000 {MultipleUnits=Multiple units returned: '[Milliseconds, Seconds]'}"},
		{"recorded: and a count", []metrics.MetricDatum{ms, sec, ms, sec, count}, "",
			"m1[m-test]: 5 {MultipleUnits=Multiple units returned: '[Count, Milliseconds, Seconds]'}"},
		{"one unit: no message", []metrics.MetricDatum{sec, sec}, "", "m1[m-test]: 120"},
		{"unit named: only its data, no message", []metrics.MetricDatum{ms, sec, count}, "Seconds", "m1[m-test]: 60"},
		{"decision: one unit over the whole range, None last", []metrics.MetricDatum{none, sec}, "",
			"m1[m-test]: 60 {MultipleUnits=Multiple units returned: '[None, Seconds]'}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newService(t)
			put(t, svc, tt.data...)
			out, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
				StartTime: at(minute(-5)), EndTime: at(minute(0)), MaxDatapoints: i32(10),
				MetricDataQueries: []metrics.MetricDataQuery{{ID: "m1", MetricStat: &metrics.MetricStat{
					Metric: &metrics.Metric{Namespace: "App", MetricName: "m-test"}, Period: i32(60), Stat: "Sum", Unit: tt.unit}}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := renderResults(out); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestPutMetricDataValuesWithStatisticValues: CloudWatch accepts Values and StatisticValues in one
// datum (issue 18's replay of AWS's answers); both are stored.
func TestPutMetricDataValuesWithStatisticValues(t *testing.T) {
	svc, _ := newService(t)
	put(t, svc, metrics.MetricDatum{MetricName: "m", Values: []float64{1, 10}, Counts: []float64{2, 4}, Unit: "Count",
		StatisticValues: &metrics.StatisticValues{SampleCount: f(3), Sum: f(30), Minimum: f(5), Maximum: f(20)}, Timestamp: at(minute(-1))})
	in := metrics.GetMetricStatisticsInput{StartTime: at(minute(-5)), EndTime: at(minute(0)), Period: i32(60),
		Statistics: []string{"SampleCount", "Sum", "Maximum"}}
	equalLines(t, stats(t, svc, in), "12:29:00 Count n=9 sum=72 max=20")
}

// TestSearchPicksOneUnit: SEARCH's series are the metrics' data as a MetricStat query without a
// Unit answers it (TestGetMetricDataMultipleUnits): one unit picked by CloudWatch's preference,
// never the sum of Seconds and Milliseconds. (SEARCH summed the units while MetricStat, since the
// wire-fidelity work, picks one, so the two answers to one metric disagreed.)
func TestSearchPicksOneUnit(t *testing.T) {
	svc, _ := newService(t)
	put(t, svc,
		metrics.MetricDatum{MetricName: "m-test", Value: f(60000), Unit: "Milliseconds", Timestamp: at(minute(-1))},
		metrics.MetricDatum{MetricName: "m-test", Value: f(60), Unit: "Seconds", Timestamp: at(minute(-1))})
	out, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
		StartTime: at(minute(-5)), EndTime: at(minute(0)), MaxDatapoints: i32(10),
		MetricDataQueries: []metrics.MetricDataQuery{
			{ID: "m1", MetricStat: &metrics.MetricStat{Metric: &metrics.Metric{Namespace: "App", MetricName: "m-test"}, Period: i32(60), Stat: "Sum"}},
			{ID: "s", Expression: `SEARCH('{App} MetricName="m-test"', 'Sum', 60)`},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricDataResults) != 2 {
		t.Fatalf("results: %+v", out.MetricDataResults)
	}
	m, s := out.MetricDataResults[0], out.MetricDataResults[1]
	if len(m.Values) != 1 || len(s.Values) != 1 || m.Values[0] != 60000 || s.Values[0] != m.Values[0] {
		t.Errorf("MetricStat %v, SEARCH %v: want both 60000 (Milliseconds picked, not summed with Seconds)", m.Values, s.Values)
	}
}
