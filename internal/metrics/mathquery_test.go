package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// mathRig stores two metrics over six minutes: errors (0..5) and requests (10 each, none at the
// third minute).
func mathRig(t *testing.T) *metrics.Service {
	svc, _ := newService(t)
	for i := range 6 {
		put(t, svc, metrics.MetricDatum{MetricName: "Errors", Value: f(float64(i)), Timestamp: at(minute(-6 + i))})
		if i != 2 {
			put(t, svc, metrics.MetricDatum{MetricName: "Requests", Value: f(10), Timestamp: at(minute(-6 + i))})
		}
	}
	put(t, svc, metrics.MetricDatum{MetricName: "Other", Dimensions: []metrics.Dimension{{Name: "Host", Value: "a"}}, Value: f(1), Timestamp: at(minute(-1))})
	return svc
}

func mq(id, name, label string, ret bool) metrics.MetricDataQuery {
	q := metrics.MetricDataQuery{ID: id, Label: label, MetricStat: &metrics.MetricStat{
		Metric: &metrics.Metric{Namespace: "App", MetricName: name}, Period: i32(60), Stat: "Sum"}}
	if !ret {
		q.ReturnData = new(bool)
	}
	return q
}

func eq(id, expr, label string) metrics.MetricDataQuery {
	return metrics.MetricDataQuery{ID: id, Expression: expr, Label: label}
}

func renderData(out metrics.GetMetricDataOutput) string {
	var parts []string
	for _, r := range out.MetricDataResults {
		s := fmt.Sprintf("%s[%s]", r.ID, r.Label)
		for _, m := range r.Messages {
			s += "{" + m.Code + "}"
		}
		s += ":"
		for i := range r.Timestamps {
			s += fmt.Sprintf(" %s=%g", r.Timestamps[i].Format("04"), r.Values[i])
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// GetMetricData evaluates expressions over the request's metric queries, in dependency order
// (e2 names e1, declared after it or before), and labels them as CloudWatch does.
func TestGetMetricDataExpressions(t *testing.T) {
	svc := mathRig(t)
	for _, tc := range []struct {
		name    string
		queries []metrics.MetricDataQuery
		want    string
	}{
		{"error rate, metrics hidden",
			[]metrics.MetricDataQuery{mq("errors", "Errors", "", false), mq("requests", "Requests", "", false), eq("rate", "100*errors/requests", "Error rate")},
			"rate[Error rate]{ArithmeticError}: 29=50 28=40 27=30 25=10 24=0"},
		{"default label is the Id",
			[]metrics.MetricDataQuery{mq("m1", "Requests", "", false), eq("e1", "m1*2", "")},
			"e1[e1]: 29=20 28=20 27=20 25=20 24=20"},
		{"dependency declared later",
			[]metrics.MetricDataQuery{eq("e2", "e1+1", "E2"), eq("e1", "FILL(m1, REPEAT)", ""), mq("m1", "Requests", "", true)},
			"e2[E2]: 29=11 28=11 27=11 26=11 25=11 24=11 | e1[e1]: 29=10 28=10 27=10 26=10 25=10 24=10 | m1[Requests]: 29=10 28=10 27=10 25=10 24=10"},
		{"array labels",
			[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), mq("m2", "Requests", "Reqs", false), eq("e1", "METRICS()*2", "")},
			"e1[Errors]: 29=10 28=8 27=6 26=4 25=2 24=0 | e1[Reqs]: 29=20 28=20 27=20 25=20 24=20"},
		{"array labels with an expression label",
			[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), mq("m2", "Requests", "Reqs", false), eq("e1", "FILL(METRICS(), 0)", "Filled With 0:")},
			"e1[Filled With 0: Errors]: 29=5 28=4 27=3 26=2 25=1 24=0 | e1[Filled With 0: Reqs]: 29=10 28=10 27=10 26=0 25=10 24=10"},
		{"search",
			[]metrics.MetricDataQuery{eq("s", `SEARCH('{App} MetricName="Requests"', 'Sum', 120)`, "")},
			"s[Requests]: 28=20 26=10 24=20"},
		{"search with dimensions",
			[]metrics.MetricDataQuery{eq("s", `SEARCH('{App,Host} Other', 'Maximum', 60)`, "")},
			"s[Other a]: 29=1"},
		{"time series of a scalar",
			[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), eq("e1", "TIME_SERIES(MAX(m1))", "")},
			"e1[e1]: 29=5 28=5 27=5 26=5 25=5 24=5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
				StartTime: at(minute(-6)), EndTime: at(minute(0)), MetricDataQueries: tc.queries})
			if err != nil {
				t.Fatal(err)
			}
			if got := renderData(out); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestGetMetricDataExpressionErrors(t *testing.T) {
	svc := mathRig(t)
	for _, tc := range []struct {
		name    string
		queries []metrics.MetricDataQuery
		want    string
	}{
		{"syntax", []metrics.MetricDataQuery{mq("m1", "Errors", "", true), eq("e1", "m1 +", "")},
			"The value m1 + for parameter MetricDataQueries.member.2.Expression is not a valid metric math expression: Unexpected end of expression at position 5."},
		{"both", []metrics.MetricDataQuery{{ID: "e1", Expression: "TIME_SERIES(1)", MetricStat: mq("x", "Errors", "", true).MetricStat}},
			"The parameters MetricDataQueries.member.1.Expression and MetricDataQueries.member.1.MetricStat are mutually exclusive and you have specified both."},
		{"cycle", []metrics.MetricDataQuery{eq("e1", "e2+1", ""), eq("e2", "e3*2", ""), eq("e3", "e1", "")},
			"The expressions of MetricDataQueries depend on each other in a cycle: e1 -> e2 -> e3 -> e1."},
		{"self", []metrics.MetricDataQuery{eq("e1", "e1", "")},
			"The expressions of MetricDataQueries depend on each other in a cycle: e1 -> e1."},
		{"unknown id", []metrics.MetricDataQuery{eq("e1", "m9 * 2", "")},
			"The expression of MetricDataQueries.member.1 (Id e1) refers to m9, which is not the Id of any query of the request."},
		{"scalar result", []metrics.MetricDataQuery{mq("m1", "Errors", "", false), eq("e1", "AVG(m1)", "")},
			"Error in the expression of MetricDataQueries.member.2 (Id e1): The expression produces a scalar; its result must be a time series or an array of time series at position 1."},
		{"other service", []metrics.MetricDataQuery{mq("m1", "Errors", "", false), eq("e1", "ANOMALY_DETECTION_BAND(m1, 2)", "")},
			"Error in the expression of MetricDataQueries.member.2 (Id e1): The function ANOMALY_DETECTION_BAND is not supported by trailwatch: it needs CloudWatch anomaly detection models at position 1."},
		{"insights", []metrics.MetricDataQuery{eq("q", "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")", "")},
			"The parameter MetricDataQueries.member.1.Expression is a Metrics Insights query, which trailwatch does not support; use metric math or MetricStat."},
		{"bad search", []metrics.MetricDataQuery{eq("s", "SEARCH('{App', 'Sum', 60)", "")},
			"Error in the expression of MetricDataQueries.member.1 (Id s): Unterminated metric schema at position 9."},
		{"bad expression period", []metrics.MetricDataQuery{{ID: "e1", Expression: "TIME_SERIES(1)", Period: i32(45)}},
			"The value 45 for parameter MetricDataQueries.member.1.Period is not a valid period: it must be 1, 5, 10, 20, 30 or a multiple of 60."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
				StartTime: at(minute(-6)), EndTime: at(minute(0)), MetricDataQueries: tc.queries})
			if c, m := code(err); c != "ValidationError" || m != tc.want {
				t.Errorf("got %s %q\nwant %q", c, m, tc.want)
			}
		})
	}
}

// QuerySeries is the alarm engine's question: every query answered, oldest first, buckets from
// the given start without rounding.
func TestQuerySeries(t *testing.T) {
	svc := mathRig(t)
	res, err := svc.QuerySeries(context.Background(), scope, []metrics.MetricDataQuery{
		mq("m1", "Errors", "", false), mq("m2", "Requests", "", false), eq("e1", "m1/m2", ""),
	}, minute(-4), minute(0))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		s := r.ID + ":"
		for _, sr := range r.Series {
			for _, p := range sr.Points {
				s += fmt.Sprintf(" %s=%g", p.Time.Format("04"), p.Value)
			}
		}
		got = append(got, s)
	}
	if g := strings.Join(got, " | "); g != "m1: 26=2 27=3 28=4 29=5 | m2: 27=10 28=10 29=10 | e1: 27=0.3 28=0.4 29=0.5" {
		t.Errorf("got %s", g)
	}
}

// countingStore counts the aggregate queries that reach the store.
type countingStore struct {
	metrics.Store
	queries int
}

func (c *countingStore) QueryAggregates(ctx context.Context, scope metrics.Scope, m metrics.Metric, start, end time.Time) ([]metrics.Aggregate, error) {
	c.queries++
	return c.Store.QueryAggregates(ctx, scope, m, start, end)
}

// A hidden metric query that no expression reads is not fetched; one that METRICS() reads is.
func TestGetMetricDataFetchesOnlyWhatIsRead(t *testing.T) {
	_, mem := newService(t)
	store := &countingStore{Store: mem}
	svc := metrics.NewService(store, func() time.Time { return now })
	for _, tc := range []struct {
		queries []metrics.MetricDataQuery
		want    int
	}{
		{[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), mq("m2", "Requests", "", false), eq("e1", "m1*2", "")}, 1},
		{[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), mq("m2", "Requests", "", false), eq("e1", "SUM(METRICS())", "")}, 2},
		{[]metrics.MetricDataQuery{mq("m1", "Errors", "", false), mq("m2", "Requests", "", true)}, 1},
	} {
		store.queries = 0
		if _, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
			StartTime: at(minute(-6)), EndTime: at(minute(0)), MetricDataQueries: tc.queries}); err != nil {
			t.Fatal(err)
		}
		if store.queries != tc.want {
			t.Errorf("%d store queries, want %d", store.queries, tc.want)
		}
	}
}
