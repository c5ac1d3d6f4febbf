package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
)

var (
	scope = metrics.Scope{AccountID: "111111111111", Region: "us-east-1"}
	now   = time.Date(2026, 11, 25, 12, 30, 27, 0, time.UTC)
)

func newService(t *testing.T) (*metrics.Service, *metricstest.Memory) {
	t.Helper()
	store := metricstest.NewMemory()
	return metrics.NewService(store, func() time.Time { return now }), store
}

func f(v float64) *float64      { return &v }
func i32(v int32) *int32        { return &v }
func at(t time.Time) *time.Time { return &t }
func str(s string) *string      { return &s }
func minute(n int) time.Time    { return now.Truncate(time.Minute).Add(time.Duration(n) * time.Minute) }
func code(err error) (string, string) {
	var e *metrics.Error
	if !errors.As(err, &e) {
		return "", fmt.Sprint(err)
	}
	return e.Code, e.Message
}

func TestPutMetricDataValidation(t *testing.T) {
	ok := metrics.MetricDatum{MetricName: "m", Value: f(1)}
	with := func(mod func(d *metrics.MetricDatum)) []metrics.MetricDatum {
		d := ok
		mod(&d)
		return []metrics.MetricDatum{d}
	}
	many := make([]metrics.MetricDatum, 1001)
	for i := range many {
		many[i] = ok
	}
	dims := func(n int) []metrics.Dimension {
		var out []metrics.Dimension
		for i := range n {
			out = append(out, metrics.Dimension{Name: fmt.Sprintf("d%d", i), Value: "v"})
		}
		return out
	}
	tests := []struct {
		name     string
		in       metrics.PutMetricDataInput
		wantCode string
		wantMsg  string
	}{
		{"namespace missing", metrics.PutMetricDataInput{MetricData: []metrics.MetricDatum{ok}},
			"MissingParameter", "The parameter Namespace is required."},
		{"AWS namespace", metrics.PutMetricDataInput{Namespace: "AWS/EC2", MetricData: []metrics.MetricDatum{ok}},
			"InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid."},
		{"namespace starting with colon", metrics.PutMetricDataInput{Namespace: ":x", MetricData: []metrics.MetricDatum{ok}},
			"ValidationError", "1 validation error detected: Value ':x' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*"},
		{"namespace too long", metrics.PutMetricDataInput{Namespace: strings.Repeat("n", 256), MetricData: []metrics.MetricDatum{ok}},
			"ValidationError", "1 validation error detected: Value '" + strings.Repeat("n", 256) + "' at 'namespace' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"namespace non-ASCII", metrics.PutMetricDataInput{Namespace: "Näme", MetricData: []metrics.MetricDatum{ok}},
			"InvalidParameterValue", "The value Näme for parameter Namespace is invalid."},
		{"namespace blank", metrics.PutMetricDataInput{Namespace: "   ", MetricData: []metrics.MetricDatum{ok}},
			"InvalidParameterValue", "The value     for parameter Namespace is invalid."},
		{"no metric data", metrics.PutMetricDataInput{Namespace: "App"},
			"MissingParameter", "The parameter MetricData is required."},
		{"1001 items", metrics.PutMetricDataInput{Namespace: "App", MetricData: many},
			"InvalidParameterValue", "The collection MetricData must not have a size greater than 1000."},
		{"metric name missing", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.MetricName = "" })},
			"MissingParameter", "The parameter MetricData.member.1.MetricName is required."},
		{"value NaN", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Value = f(math.NaN()) })},
			"InvalidParameterValue", "The value NaN for parameter MetricData.member.1.Value is invalid."},
		{"value beyond 2^360", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Value = f(-math.Ldexp(1, 361)) })},
			"InvalidParameterValue", "The value -4,697,085,165,547,666,500" + strings.Repeat(",000", 30) + " for parameter MetricData.member.1.Value is invalid."},
		{"value and statistic values", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.StatisticValues = &metrics.StatisticValues{SampleCount: f(1), Sum: f(1), Minimum: f(1), Maximum: f(1)}
		})}, "InvalidParameterCombination", "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both."},
		{"value and values", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Values = []float64{1} })},
			"InvalidParameterCombination", "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both."},
		{"nothing", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Value = nil })},
			"InvalidParameterCombination", "At least one of the parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues must be specified."},
		{"values and counts differ", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.Values, d.Counts = nil, []float64{1, 2}, []float64{1}
		})}, "InvalidParameterValue", "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size."},
		{"151 values", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.Values = nil, make([]float64, 151)
		})}, "InvalidParameterValue", "The collection MetricData.member.1.Values must not have a size greater than 150."},
		{"negative count", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.Values, d.Counts = nil, []float64{1}, []float64{-1}
		})}, "InvalidParameterValue", "The value -1 for parameter MetricData.member.1.Counts.member.1 is invalid."},
		{"statistic set incomplete", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.StatisticValues = nil, &metrics.StatisticValues{SampleCount: f(1), Sum: f(1)}
		})}, "MissingParameter", "The parameter MetricData.member.1.StatisticValues.Maximum is required.\nThe parameter MetricData.member.1.StatisticValues.Minimum is required."},
		{"statistic set max < min", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.StatisticValues = nil, &metrics.StatisticValues{SampleCount: f(2), Sum: f(3), Minimum: f(2), Maximum: f(1)}
		})}, "InvalidParameterValue", "The parameter MetricData.member.1.StatisticValues.Maximum must be greater than MetricData.member.1.StatisticValues.Minimum."},
		{"statistic set zero count", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Value, d.StatisticValues = nil, &metrics.StatisticValues{SampleCount: f(0), Sum: f(0), Minimum: f(0), Maximum: f(0)}
		})}, "InvalidParameterValue", "The parameter MetricData.member.1.StatisticValues.SampleCount must be greater than 0."},
		{"bad unit", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Unit = "Parsecs" })},
			"InvalidParameterValue", "The parameter MetricData.member.1.Unit must be a value in the set [" + strings.Join(metrics.StandardUnits, ", ") + "]."},
		{"31 dimensions", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Dimensions = dims(31) })},
			"InvalidParameterValue", "The collection MetricData.member.1.Dimensions must not have a size greater than 30."},
		{"dimension value missing", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Dimensions = []metrics.Dimension{{Name: "a", Value: "1"}, {Name: "b"}}
		})}, "MissingParameter", "The parameter MetricData.member.1.Dimensions.member.2.Value is required."},
		{"dimension name with colon", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) {
			d.Dimensions = []metrics.Dimension{{Name: ":a", Value: "1"}}
		})}, "InvalidParameterValue", "The value :a for parameter MetricData.member.1.Dimensions.member.1.Name is invalid."},
		{"storage resolution 30", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.StorageResolution = i32(30) })},
			"InvalidParameterValue", "The value 30 for parameter MetricData.member.1.StorageResolution is invalid."},
		{"timestamp too old", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Timestamp = at(now.Add(-14*24*time.Hour - time.Second)) })},
			"InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."},
		{"timestamp too far ahead", metrics.PutMetricDataInput{Namespace: "App", MetricData: with(func(d *metrics.MetricDatum) { d.Timestamp = at(now.Add(2*time.Hour + time.Second)) })},
			"InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."},
		{"second item reported by position", metrics.PutMetricDataInput{Namespace: "App", MetricData: append([]metrics.MetricDatum{ok}, metrics.MetricDatum{MetricName: "m"})},
			"InvalidParameterCombination", "At least one of the parameters MetricData.member.2.Value and MetricData.member.2.StatisticValues must be specified."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store := newService(t)
			err := svc.PutMetricData(context.Background(), scope, tt.in)
			c, m := code(err)
			if c != tt.wantCode || m != tt.wantMsg {
				t.Errorf("error = %s %q\nwant    %s %q", c, m, tt.wantCode, tt.wantMsg)
			}
			// A rejected request stores nothing, not even its valid items.
			page, _, _ := store.ListMetrics(context.Background(), scope, metrics.ListQuery{Limit: 10})
			if len(page) != 0 {
				t.Errorf("rejected request stored %v", page)
			}
		})
	}
}

func TestPutMetricDataBoundariesAccepted(t *testing.T) {
	svc, _ := newService(t)
	data := []metrics.MetricDatum{
		{MetricName: "m", Value: f(math.Ldexp(1, 360)), Timestamp: at(now.Add(-14 * 24 * time.Hour))},
		{MetricName: "m", Value: f(0), Timestamp: at(now.Add(2 * time.Hour))},
		{MetricName: "m", Value: f(1), StorageResolution: i32(1), Unit: "Count/Second"},
		{MetricName: "m", Values: []float64{1, 2}, Counts: []float64{0, 3}},
	}
	if err := svc.PutMetricData(context.Background(), scope, metrics.PutMetricDataInput{Namespace: "Custom/App", MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
}

func put(t *testing.T, svc *metrics.Service, data ...metrics.MetricDatum) {
	t.Helper()
	if err := svc.PutMetricData(context.Background(), scope, metrics.PutMetricDataInput{Namespace: "App", MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
}

func stats(t *testing.T, svc *metrics.Service, in metrics.GetMetricStatisticsInput) []string {
	t.Helper()
	if in.Namespace == "" {
		in.Namespace = "App"
	}
	if in.MetricName == "" {
		in.MetricName = "m"
	}
	out, err := svc.GetMetricStatistics(context.Background(), scope, in)
	if err != nil {
		t.Fatalf("GetMetricStatistics: %v", err)
	}
	if out.Label != in.MetricName {
		t.Errorf("Label = %q, want %q", out.Label, in.MetricName)
	}
	var lines []string
	for _, dp := range out.Datapoints {
		s := dp.Timestamp.Format("15:04:05") + " " + dp.Unit
		for _, p := range []struct {
			name string
			v    *float64
		}{{"n", dp.SampleCount}, {"avg", dp.Average}, {"sum", dp.Sum}, {"min", dp.Minimum}, {"max", dp.Maximum}} {
			if p.v != nil {
				s += fmt.Sprintf(" %s=%g", p.name, *p.v)
			}
		}
		for _, k := range sortedKeys(dp.ExtendedStatistics) {
			s += fmt.Sprintf(" %s=%g", k, dp.ExtendedStatistics[k])
		}
		lines = append(lines, s)
	}
	return lines
}

func sortedKeys(m map[string]float64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func equalLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("datapoints:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGetMetricStatisticsPeriodsAndStatistics(t *testing.T) {
	svc, _ := newService(t)
	for i := range 10 {
		put(t, svc, metrics.MetricDatum{MetricName: "m", Value: f(float64(i + 1)), Timestamp: at(minute(-10 + i).Add(15 * time.Second))})
	}
	// Period 300 aligned on the (minute-rounded) start 12:20:00: [12:20,12:25) and [12:25,12:30).
	got := stats(t, svc, metrics.GetMetricStatisticsInput{StartTime: at(minute(-10).Add(40 * time.Second)), EndTime: at(minute(0)),
		Period: i32(300), Statistics: []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}})
	equalLines(t, got,
		"12:20:00 None n=5 avg=3 sum=15 min=1 max=5",
		"12:25:00 None n=5 avg=8 sum=40 min=6 max=10")
	// Not clock-aligned: buckets start at StartTime (12:22), the last one is partial and EndTime is exclusive.
	got = stats(t, svc, metrics.GetMetricStatisticsInput{StartTime: at(minute(-8)), EndTime: at(minute(-1)),
		Period: i32(180), Statistics: []string{"Sum"}})
	equalLines(t, got, "12:22:00 None sum=12", "12:25:00 None sum=21", "12:28:00 None sum=9")
	got = stats(t, svc, metrics.GetMetricStatisticsInput{StartTime: at(minute(-10)), EndTime: at(minute(0)),
		Period: i32(600), ExtendedStatistics: []string{"p50", "p90", "p99.5"}})
	equalLines(t, got, "12:20:00 None p50=5 p90=9 p99.5=10")
}

func TestGetMetricStatisticsUnits(t *testing.T) {
	svc, _ := newService(t)
	put(t, svc,
		metrics.MetricDatum{MetricName: "m", Value: f(1), Unit: "Count", Timestamp: at(minute(-2))},
		metrics.MetricDatum{MetricName: "m", Value: f(2), Timestamp: at(minute(-2))},
		metrics.MetricDatum{MetricName: "m", Value: f(4), Unit: "Count", Timestamp: at(minute(-1))},
	)
	in := metrics.GetMetricStatisticsInput{StartTime: at(minute(-5)), EndTime: at(minute(0)), Period: i32(300), Statistics: []string{"Sum"}}
	equalLines(t, stats(t, svc, in), "12:25:00 Count sum=5", "12:25:00 None sum=2")
	in.Unit = "Count"
	equalLines(t, stats(t, svc, in), "12:25:00 Count sum=5")
	in.Unit = "None"
	equalLines(t, stats(t, svc, in), "12:25:00 None sum=2")
	in.Unit = "Seconds"
	equalLines(t, stats(t, svc, in))
}

func TestGetMetricStatisticsPublishedForms(t *testing.T) {
	svc, _ := newService(t)
	put(t, svc,
		metrics.MetricDatum{MetricName: "m", Values: []float64{1, 5, 9}, Counts: []float64{2, 1, 1}, Timestamp: at(minute(-3))},
		metrics.MetricDatum{MetricName: "m", Values: []float64{7}, Timestamp: at(minute(-3))},
		metrics.MetricDatum{MetricName: "s", StatisticValues: &metrics.StatisticValues{SampleCount: f(4), Sum: f(10), Minimum: f(1), Maximum: f(4)}, Timestamp: at(minute(-3))},
	)
	in := metrics.GetMetricStatisticsInput{StartTime: at(minute(-5)), EndTime: at(minute(0)), Period: i32(60), Statistics: []string{"SampleCount", "Sum", "Maximum"}}
	equalLines(t, stats(t, svc, in), "12:27:00 None n=5 sum=23 max=9")
	in.Statistics, in.ExtendedStatistics = nil, []string{"p40", "p60"}
	equalLines(t, stats(t, svc, in), "12:27:00 None p40=1 p60=5")
	// A statistic set with spread answers the standard statistics but no percentile.
	in.MetricName = "s"
	equalLines(t, stats(t, svc, in), "12:27:00 None")
	in.Statistics, in.ExtendedStatistics = []string{"Average"}, nil
	equalLines(t, stats(t, svc, in), "12:27:00 None avg=2.5")
}

// TestMetricFilterDefaults is the metric-filter path: the logs service hands the store samples,
// some of them defaults, and alarms and GetMetricStatistics must see a default only in minutes with
// no real sample, once per minute.
func TestMetricFilterDefaults(t *testing.T) {
	svc, store := newService(t)
	sample := func(m int, v float64, def bool) metrics.Sample {
		return metrics.Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: "CloudTrailMetrics",
			MetricName: "RootAccountUsageCount", Timestamp: minute(m).Add(10 * time.Second), Value: v, Default: def}
	}
	batches := [][]metrics.Sample{
		{sample(-5, 0, true)},                       // events, no match: default 0
		{sample(-4, 1, false), sample(-4, 0, true)}, // a match and a default in the same minute
		{sample(-3, 0, true)},                       // two PutLogEvents without matches:
		{sample(-3, 0, true)},                       //   still one datapoint
		{sample(-2, 1, false)},                      // matches only
		{sample(-2, 1, false), sample(-2, 0, true)}, // a later default does not count either
		// minute -1: no events at all, so nothing is published
	}
	for _, b := range batches {
		if err := store.AddSamples(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	in := metrics.GetMetricStatisticsInput{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsageCount",
		StartTime: at(minute(-6)), EndTime: at(minute(0)), Period: i32(60), Statistics: []string{"SampleCount", "Sum"}}
	equalLines(t, stats(t, svc, in),
		"12:25:00 None n=1 sum=0",
		"12:26:00 None n=1 sum=1",
		"12:27:00 None n=1 sum=0",
		"12:28:00 None n=2 sum=2")
	in.Period = i32(300)
	in.StartTime = at(minute(-5))
	equalLines(t, stats(t, svc, in), "12:25:00 None n=5 sum=3")

	// The alarm hook sees the same thing.
	aggs, err := svc.Aggregates(context.Background(), scope, metrics.AggregateQuery{
		Metric: metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsageCount"},
		Start:  minute(-6), End: minute(0), Period: 120})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := metrics.ParseStat("Sum")
	var got []string
	for _, a := range aggs {
		v, _ := a.Value(sum)
		got = append(got, fmt.Sprintf("%s %g", a.Time.Format("15:04"), v))
	}
	equalLines(t, got, "12:24 0", "12:26 1", "12:28 2")
}

func TestAggregatesHook(t *testing.T) {
	svc, _ := newService(t)
	put(t, svc,
		metrics.MetricDatum{MetricName: "m", Value: f(1), Unit: "Count", Timestamp: at(minute(-3))},
		metrics.MetricDatum{MetricName: "m", Value: f(2), Timestamp: at(minute(-3))},
		metrics.MetricDatum{MetricName: "m", Value: f(3), Unit: "Count", Timestamp: at(minute(-1)),
			Dimensions: []metrics.Dimension{{Name: "x", Value: "y"}}},
	)
	q := metrics.AggregateQuery{Metric: metrics.Metric{Namespace: "App", MetricName: "m"}, Start: minute(-4), End: minute(0), Period: 60}
	aggs, err := svc.Aggregates(context.Background(), scope, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(aggs) != 1 || !aggs[0].Time.Equal(minute(-3)) || aggs[0].Sum != 3 {
		t.Errorf("units merged: %+v", aggs)
	}
	q.Unit = "Count"
	aggs, _ = svc.Aggregates(context.Background(), scope, q)
	if len(aggs) != 1 || aggs[0].Sum != 1 {
		t.Errorf("unit filter: %+v", aggs)
	}
	other := scope
	other.Region = "eu-west-1"
	if aggs, _ := svc.Aggregates(context.Background(), other, q); len(aggs) != 0 {
		t.Errorf("other region sees %+v", aggs)
	}
	if _, err := svc.Aggregates(context.Background(), scope, metrics.AggregateQuery{Start: minute(-1), End: minute(0)}); err == nil {
		t.Error("zero period accepted")
	}
}

func TestGetMetricStatisticsValidation(t *testing.T) {
	base := metrics.GetMetricStatisticsInput{Namespace: "App", MetricName: "m", StartTime: at(minute(-60)), EndTime: at(minute(0)),
		Period: i32(60), Statistics: []string{"Sum"}}
	tests := []struct {
		name     string
		mod      func(in *metrics.GetMetricStatisticsInput)
		wantCode string
		wantMsg  string
	}{
		{"namespace missing", func(in *metrics.GetMetricStatisticsInput) { in.Namespace = "" }, "MissingParameter", "The parameter Namespace is required."},
		{"metric name missing", func(in *metrics.GetMetricStatisticsInput) { in.MetricName = "" }, "MissingParameter", "The parameter MetricName is required."},
		{"start missing", func(in *metrics.GetMetricStatisticsInput) { in.StartTime = nil }, "MissingParameter", "The parameter StartTime is required."},
		{"end missing", func(in *metrics.GetMetricStatisticsInput) { in.EndTime = nil }, "MissingParameter", "The parameter EndTime is required."},
		{"period missing", func(in *metrics.GetMetricStatisticsInput) { in.Period = nil }, "MissingParameter", "The parameter Period is required."},
		{"no statistics", func(in *metrics.GetMetricStatisticsInput) { in.Statistics = nil }, "InvalidParameterCombination",
			"At least one of the parameters Statistics and ExtendedStatistics must be specified."},
		{"both statistics", func(in *metrics.GetMetricStatisticsInput) { in.ExtendedStatistics = []string{"p99"} }, "InvalidParameterCombination",
			"The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both."},
		{"percentile as statistic", func(in *metrics.GetMetricStatisticsInput) { in.Statistics = []string{"Sum", "p99"} }, "InvalidParameterValue",
			"The parameter Statistics.member.2.<list element> must be a value in the set [SampleCount, Average, Sum, Minimum, Maximum]."},
		{"bad percentile", func(in *metrics.GetMetricStatisticsInput) {
			in.Statistics, in.ExtendedStatistics = nil, []string{"p101"}
		}, "InvalidParameterValue",
			"The value p101 for parameter ExtendedStatistics.member.1 is invalid."},
		{"six statistics", func(in *metrics.GetMetricStatisticsInput) {
			in.Statistics = []string{"Sum", "Sum", "Sum", "Sum", "Sum", "Sum"}
		}, "ValidationError",
			"1 validation error detected: Value '[Sum, Sum, Sum, Sum, Sum, Sum]' at 'statistics' failed to satisfy constraint: Member must have length less than or equal to 5"},
		{"period zero", func(in *metrics.GetMetricStatisticsInput) { in.Period = i32(0) }, "ValidationError",
			"1 validation error detected: Value '0' at 'period' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"period 90", func(in *metrics.GetMetricStatisticsInput) { in.Period = i32(90) }, "InvalidParameterValue", "The parameter Period must be a multiple of 60."},
		{"start after end", func(in *metrics.GetMetricStatisticsInput) { in.StartTime, in.EndTime = in.EndTime, in.StartTime }, "InvalidParameterValue",
			"The parameter StartTime must be less than the parameter EndTime."},
		{"start equals end", func(in *metrics.GetMetricStatisticsInput) { in.StartTime = in.EndTime }, "InvalidParameterValue",
			"The parameter StartTime must be less than the parameter EndTime."},
		{"1441 datapoints", func(in *metrics.GetMetricStatisticsInput) { in.StartTime = at(minute(-1441)) }, "InvalidParameterCombination",
			"You have requested up to 1441 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."},
		{"a day at 1 s", func(in *metrics.GetMetricStatisticsInput) { in.StartTime, in.Period = at(minute(-1440)), i32(1) }, "InvalidParameterCombination",
			"You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."},
		{"bad unit", func(in *metrics.GetMetricStatisticsInput) { in.Unit = "Furlongs" }, "InvalidParameterValue",
			"The parameter Unit must be a value in the set [" + strings.Join(metrics.StandardUnits, ", ") + "]."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newService(t)
			in := base
			tt.mod(&in)
			_, err := svc.GetMetricStatistics(context.Background(), scope, in)
			c, m := code(err)
			if c != tt.wantCode || m != tt.wantMsg {
				t.Errorf("error = %s %q\nwant    %s %q", c, m, tt.wantCode, tt.wantMsg)
			}
		})
	}
	// Exactly 1,440 datapoints is allowed.
	svc, _ := newService(t)
	in := base
	in.StartTime = at(minute(-1440))
	if _, err := svc.GetMetricStatistics(context.Background(), scope, in); err != nil {
		t.Errorf("1440 datapoints: %v", err)
	}
}

func TestGetMetricStatisticsOldStartRounding(t *testing.T) {
	svc, store := newService(t)
	old := now.Add(-20 * 24 * time.Hour) // between 15 and 63 days: 5-minute rounding
	add := func(ts time.Time, v float64) {
		if err := store.AddSamples(context.Background(), []metrics.Sample{{AccountID: scope.AccountID, Region: scope.Region,
			Namespace: "App", MetricName: "m", Timestamp: ts, Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	start := old.Truncate(5 * time.Minute)
	add(start.Add(time.Minute), 1)
	add(start.Add(7*time.Minute), 2)
	in := metrics.GetMetricStatisticsInput{StartTime: at(start.Add(2*time.Minute + 30*time.Second)), EndTime: at(start.Add(time.Hour)),
		Period: i32(300), Statistics: []string{"Sum"}}
	got := stats(t, svc, in)
	want := []string{start.Format("15:04:05") + " None sum=1", start.Add(5*time.Minute).Format("15:04:05") + " None sum=2"}
	equalLines(t, got, want...)
	// A period that is not a multiple of 5 minutes returns nothing for a start that old.
	in.Period = i32(60)
	equalLines(t, stats(t, svc, in))
}

func TestGetMetricData(t *testing.T) {
	svc, _ := newService(t)
	for i := range 6 {
		put(t, svc, metrics.MetricDatum{MetricName: "m", Value: f(float64(i)), Timestamp: at(minute(-6 + i))},
			metrics.MetricDatum{MetricName: "n", Dimensions: []metrics.Dimension{{Name: "b", Value: "2"}, {Name: "a", Value: "1"}},
				Value: f(10), Timestamp: at(minute(-6 + i))})
	}
	q := func(id, name string, stat string, label string) metrics.MetricDataQuery {
		m := metrics.Metric{Namespace: "App", MetricName: name}
		if name == "n" {
			m.Dimensions = []metrics.Dimension{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}
		}
		return metrics.MetricDataQuery{ID: id, Label: label, MetricStat: &metrics.MetricStat{Metric: &m, Period: i32(120), Stat: stat}}
	}
	in := metrics.GetMetricDataInput{StartTime: at(minute(-6)), EndTime: at(minute(0)),
		MetricDataQueries: []metrics.MetricDataQuery{q("sum", "m", "Sum", ""), q("p", "n", "p99", "N p99")}}
	out, err := svc.GetMetricData(context.Background(), scope, in)
	if err != nil {
		t.Fatal(err)
	}
	render := func(out metrics.GetMetricDataOutput) string {
		var parts []string
		for _, r := range out.MetricDataResults {
			s := fmt.Sprintf("%s[%s]%s:", r.ID, r.Label, r.StatusCode)
			for i := range r.Timestamps {
				s += fmt.Sprintf(" %s=%g", r.Timestamps[i].Format("15:04"), r.Values[i])
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " | ") + " next=" + fmt.Sprint(out.NextToken != "")
	}
	want := "sum[m]Complete: 12:28=9 12:26=5 12:24=1 | p[N p99]Complete: 12:28=10 12:26=10 12:24=10 next=false"
	if got := render(out); got != want {
		t.Errorf("GetMetricData:\n got %s\nwant %s", got, want)
	}
	in.ScanBy = "TimestampAscending"
	in.MaxDatapoints = i32(4)
	out, err = svc.GetMetricData(context.Background(), scope, in)
	if err != nil {
		t.Fatal(err)
	}
	want = "sum[m]Complete: 12:24=1 12:26=5 12:28=9 | p[N p99]PartialData: 12:24=10 next=true"
	if got := render(out); got != want {
		t.Errorf("page 1:\n got %s\nwant %s", got, want)
	}
	in.NextToken = out.NextToken
	out, err = svc.GetMetricData(context.Background(), scope, in)
	if err != nil {
		t.Fatal(err)
	}
	want = "sum[m]Complete: | p[N p99]Complete: 12:26=10 12:28=10 next=false"
	if got := render(out); got != want {
		t.Errorf("page 2:\n got %s\nwant %s", got, want)
	}
	in.NextToken = "garbage"
	_, err = svc.GetMetricData(context.Background(), scope, in)
	if c, _ := code(err); c != "InvalidNextToken" {
		t.Errorf("bad token: %v", err)
	}
	// ReturnData false leaves the query out.
	in.NextToken, in.MaxDatapoints = "", nil
	in.MetricDataQueries[1].ReturnData = new(bool)
	out, _ = svc.GetMetricData(context.Background(), scope, in)
	if len(out.MetricDataResults) != 1 || out.MetricDataResults[0].ID != "sum" {
		t.Errorf("ReturnData=false: %s", render(out))
	}
}

func TestGetMetricDataValidation(t *testing.T) {
	m := &metrics.Metric{Namespace: "App", MetricName: "m"}
	good := metrics.MetricDataQuery{ID: "a", MetricStat: &metrics.MetricStat{Metric: m, Period: i32(60), Stat: "Sum"}}
	tests := []struct {
		name     string
		queries  []metrics.MetricDataQuery
		wantCode string
		wantMsg  string
	}{
		{"no queries", nil, "MissingParameter", "The parameter MetricDataQueries is required."},
		{"bad ids", []metrics.MetricDataQuery{
			{ID: "5xx_error", MetricStat: good.MetricStat},
			{ID: "Upper", MetricStat: good.MetricStat},
		}, "ValidationError", "The value 5xx_error for parameter MetricDataQueries.member.1.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.\n" +
			"The value Upper for parameter MetricDataQueries.member.2.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$."},
		{"duplicate id", []metrics.MetricDataQuery{good, good}, "ValidationError", "The value a for parameter MetricDataQueries.member.2.Id is duplicated."},
		{"expression naming no query", []metrics.MetricDataQuery{{ID: "e", Expression: "m1 * 2"}}, "ValidationError",
			"The expression of MetricDataQueries.member.1 (Id e) refers to m1, which is not the Id of any query of the request."},
		{"no metric stat", []metrics.MetricDataQuery{{ID: "e"}}, "ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required."},
		{"bad stat", []metrics.MetricDataQuery{{ID: "a", MetricStat: &metrics.MetricStat{Metric: m, Period: i32(60), Stat: "tm99"}}}, "ValidationError",
			"The value for parameter MetricDataQueries.member.1.MetricStat.Stat is not a valid statistic."},
		{"bad period", []metrics.MetricDataQuery{{ID: "a", MetricStat: &metrics.MetricStat{Metric: m, Period: i32(45), Stat: "Sum"}}}, "ValidationError",
			"The value 45 for parameter MetricDataQueries.member.1.MetricStat.Period is not a valid period: it must be 1, 5, 10, 20, 30 or a multiple of 60."},
		{"no metric name", []metrics.MetricDataQuery{{ID: "a", MetricStat: &metrics.MetricStat{Metric: &metrics.Metric{Namespace: "App"}, Period: i32(60), Stat: "Sum"}}},
			"ValidationError", "The parameter MetricDataQueries.member.1.MetricStat.Metric.MetricName is required."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _ := newService(t)
			_, err := svc.GetMetricData(context.Background(), scope, metrics.GetMetricDataInput{
				MetricDataQueries: tt.queries, StartTime: at(minute(-10)), EndTime: at(minute(0))})
			c, msg := code(err)
			if c != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("error = %s %q\nwant    %s %q", c, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestListMetrics(t *testing.T) {
	svc, store := newService(t)
	var batch []metrics.Sample
	for i := range 501 {
		batch = append(batch, metrics.Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: "Many",
			MetricName: fmt.Sprintf("m%03d", i), Timestamp: now.Add(-time.Hour), Value: 1})
	}
	batch = append(batch,
		metrics.Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: "Old", MetricName: "fourHours", Timestamp: now.Add(-4 * time.Hour)},
		metrics.Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: "Old", MetricName: "threeWeeks", Timestamp: now.Add(-21 * 24 * time.Hour)},
	)
	if err := store.AddSamples(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	page1, err := svc.ListMetrics(ctx, scope, metrics.ListMetricsInput{Namespace: "Many"})
	if err != nil || len(page1.Metrics) != 500 || page1.NextToken == "" {
		t.Fatalf("page 1: %d metrics, token %q, err %v", len(page1.Metrics), page1.NextToken, err)
	}
	page2, err := svc.ListMetrics(ctx, scope, metrics.ListMetricsInput{Namespace: "Many", NextToken: page1.NextToken})
	if err != nil || len(page2.Metrics) != 1 || page2.NextToken != "" || page2.Metrics[0].MetricName != "m500" {
		t.Fatalf("page 2: %+v, err %v", page2, err)
	}
	old, _ := svc.ListMetrics(ctx, scope, metrics.ListMetricsInput{Namespace: "Old"})
	if len(old.Metrics) != 1 || old.Metrics[0].MetricName != "fourHours" {
		t.Errorf("two-week window: %+v", old.Metrics)
	}
	recent, _ := svc.ListMetrics(ctx, scope, metrics.ListMetricsInput{Namespace: "Old", RecentlyActive: "PT3H"})
	if len(recent.Metrics) != 0 {
		t.Errorf("PT3H: %+v", recent.Metrics)
	}
	for _, tt := range []struct {
		in       metrics.ListMetricsInput
		wantCode string
		wantMsg  string
	}{
		{metrics.ListMetricsInput{NextToken: "bogus"}, "InvalidParameterValue", "Request parameter NextToken is invalid"},
		{metrics.ListMetricsInput{RecentlyActive: "PT1H"}, "ValidationError",
			"1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]"},
		{metrics.ListMetricsInput{Dimensions: []metrics.DimensionFilter{{Value: str("x")}}}, "MissingParameter", "The parameter Dimensions.member.1.Name is required."},
		{metrics.ListMetricsInput{Dimensions: make([]metrics.DimensionFilter, 11)}, "ValidationError",
			"1 validation error detected: Value '11' at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 10"},
	} {
		_, err := svc.ListMetrics(ctx, scope, tt.in)
		if c, m := code(err); c != tt.wantCode || m != tt.wantMsg {
			t.Errorf("ListMetrics(%+v) error = %s %q, want %s %q", tt.in, c, m, tt.wantCode, tt.wantMsg)
		}
	}
}
