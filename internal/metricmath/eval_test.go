package metricmath

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday

const gridLen = 5

// x marks a missing datapoint in fixtures.
var x = math.NaN()

func ser(id string, vals ...float64) Series {
	s := Series{ID: id, Label: id, Period: 60}
	for i, v := range vals {
		if !math.IsNaN(v) {
			s.Points = append(s.Points, Point{Time: t0.Add(time.Duration(i) * time.Minute), Value: v})
		}
	}
	return s
}

// fixtures: the IF tables and the comparison table of [CWUG] plus a few metrics for METRICS().
func testEnv() Env {
	refs := map[string]Series{
		"metric1": ser("metric1", 1, 1, 0, 0, x),
		"metric2": ser("metric2", 30, x, 0, 0, 30),
		"metric3": ser("metric3", 0, 0, 20, x, 20),
		"cmp1":    ser("cmp1", 30, 20, 0, 0, x),
		"cmp2":    ser("cmp2", 20, x, 20, x, x),
		"gappy":   ser("gappy", x, 2, x, x, 8),
		"neg":     ser("neg", -1.5, 2.5, x, 0, -0.5),
		"empty":   ser("empty"),
	}
	metrics := []Series{
		ser("errors4xx", 1, 2, 3, 4, 5),
		ser("errors5xx", 1, 1, x, 1, 1),
		ser("requests", 10, 10, 10, 10, 20),
	}
	for _, m := range metrics {
		refs[m.ID] = m
	}
	return Env{
		Start: t0, End: t0.Add(gridLen * time.Minute), Period: 60,
		Ref: func(id string) (Value, bool) {
			s, ok := refs[id]
			return Single(s), ok
		},
		Metrics: func() []Series { return metrics },
	}
}

// format prints a value: a scalar as its number, a series as its values on the five-minute grid
// ("-" for missing), an array as "label=[...]" items.
func format(v Value) string {
	if v.Kind == KindScalar {
		return strconv.FormatFloat(v.Scalar, 'g', 6, 64)
	}
	var items []string
	for _, s := range v.Series {
		cells := make([]string, gridLen)
		for i := range cells {
			cells[i] = "-"
		}
		for _, p := range s.Points {
			i := int(p.Time.Sub(t0) / time.Minute)
			if p.Time.Sub(t0)%time.Minute != 0 || i < 0 || i >= gridLen {
				cells = append(cells, "off-grid")
				continue
			}
			cells[i] = strconv.FormatFloat(p.Value, 'g', 6, 64)
		}
		item := "[" + strings.Join(cells, " ") + "]"
		if v.Kind == KindArray {
			item = s.Label + "=" + item
		}
		items = append(items, item)
	}
	if v.Kind == KindArray && len(items) == 0 {
		return "{}"
	}
	return strings.Join(items, " ")
}

// evalAny evaluates allowing a scalar, to test the scalar-valued functions.
func evalAny(t *testing.T, src string) (Value, bool, error) {
	t.Helper()
	e, err := Parse(src)
	if err != nil {
		return Value{}, false, err
	}
	ev := &evaluator{env: testEnv()}
	v, err := ev.eval(e.root)
	return v, ev.dropped, err
}

// TestFunctions pins every operator and function on the fixtures; the tables quoted from [CWUG]
// are marked.
func TestFunctions(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
		dropped    bool
	}{
		// Arithmetic: missing counts as 0, division by zero is dropped.
		{"metric2 + metric3", "[30 0 20 0 50]", false},
		{"metric2 - 1", "[29 - -1 -1 29]", false},
		{"2 * metric2", "[60 - 0 0 60]", false},
		{"metric2 / metric1", "[30 0 - - -]", true},
		{"metric1 / 0", "[- - - - -]", true},
		{"gappy ^ 2", "[- 4 - - 64]", false},
		{"2 ^ 3 ^ 2 * TIME_SERIES(1)", "[512 512 512 512 512]", false},
		{"-metric2", "[-30 - -0 -0 -30]", false},
		{"-gappy^2", "[- -4 - - -64]", false},
		{"(1 + 2) * 3 - 4 / 2", "7", false},
		{"METRICS() * 100", "errors4xx=[100 200 300 400 500] errors5xx=[100 100 - 100 100] requests=[1000 1000 1000 1000 2000]", false},
		{"SUM(100 / [errors4xx, errors5xx])", "[200 150 33.3333 125 120]", false},
		{"[errors4xx, errors5xx] - [errors5xx, errors4xx]", "errors4xx=[0 1 3 3 4] errors5xx=[0 -1 -3 -3 -4]", false},
		{"requests - METRICS(\"errors\")", "errors4xx=[9 8 7 6 15] errors5xx=[9 9 10 9 19]", false},
		// Comparison and logical operators [CWUG table: metric1 [30,20,0,0], metric2 [20,-,20,-]].
		{"cmp1 < cmp2", "[0 0 1 0 -]", false},
		{"cmp1 >= 30", "[1 0 0 0 -]", false},
		{"cmp1 > 15 AND cmp2 > 15", "[1 0 0 0 -]", false},
		{"cmp1 > 15 && cmp2 > 15", "[1 0 0 0 -]", false},
		{"cmp1 > 15 OR cmp2 > 15", "[1 1 1 0 -]", false},
		// Each comparison yields datapoints where its operand has them, so the second is 0 only at 2.
		{"cmp1 == 0 || cmp2 != 20", "[0 0 1 1 -]", false},
		{"cmp1 <= 20", "[0 1 1 1 -]", false},
		{"1 < 2", "1", false},
		// Functions of a series or an array.
		{"ABS(neg)", "[1.5 2.5 - 0 0.5]", false},
		{"ABS(METRICS(\"5xx\") - 2)", "errors5xx=[1 1 - 1 1]", false},
		{"CEIL(neg)", "[-1 3 - 0 -0]", false},
		{"FLOOR(neg)", "[-2 2 - 0 -1]", false},
		{"LOG(gappy)", "[- 0.693147 - - 2.07944]", false},
		{"LOG(neg)", "[- 0.916291 - - -]", true},
		{"LOG10(requests)", "[1 1 1 1 1.30103]", false},
		{"AVG(errors4xx)", "3", false},
		{"AVG(METRICS())", "[4 4.33333 4.33333 5 8.66667]", false},
		{"AVG(empty)", "NaN", false},
		{"MAX(errors4xx)", "5", false},
		{"MAX(METRICS())", "[10 10 10 10 20]", false},
		{"MIN(errors4xx)", "1", false},
		{"MIN(METRICS())", "[1 1 3 1 1]", false},
		{"SUM(errors4xx)", "15", false},
		{"SUM(METRICS())", "[12 13 13 15 26]", false},
		{"SUM(METRICS(\"errors\")) / SUM(METRICS(\"requests\")) * 100", "[20 30 30 50 30]", false},
		{"STDDEV(errors4xx)", "1.41421", false},
		{"STDDEV([errors4xx, errors5xx])", "[0 0.5 0 1.5 2]", false},
		{"DATAPOINT_COUNT(errors5xx)", "4", false},
		{"DATAPOINT_COUNT(METRICS())", "[3 3 2 3 3]", false},
		{"SUM(errors4xx) / DATAPOINT_COUNT(errors4xx) * TIME_SERIES(1)", "[3 3 3 3 3]", false},
		{"DIFF(errors4xx)", "[- 1 1 1 1]", false},
		{"DIFF(gappy)", "[- - - - 6]", false},
		{"DIFF_TIME(gappy)", "[- - - - 180]", false},
		{"DIFF_TIME(METRICS(\"5xx\"))", "errors5xx=[- 60 - 120 60]", false},
		{"RATE(gappy)", "[- - - - 0.0333333]", false},
		{"RATE(requests)", "[- 0 0 0 0.166667]", false},
		{"RUNNING_SUM(errors4xx)", "[1 3 6 10 15]", false},
		{"RUNNING_SUM([errors4xx, gappy])", "errors4xx=[1 3 6 10 15] gappy=[- 2 - - 10]", false},
		{"FILL(gappy, 0)", "[0 2 0 0 8]", false},
		{"FILL(gappy, requests)", "[10 2 10 10 8]", false},
		{"FILL(gappy, MIN(errors4xx))", "[1 2 1 1 8]", false},
		{"FILL(gappy, REPEAT)", "[- 2 2 2 8]", false},
		{"FILL(gappy, LINEAR)", "[- 2 4 6 8]", false},
		{"FILL(METRICS(\"5xx\"), LINEAR)", "errors5xx=[1 1 1 1 1]", false},
		{"FILL(METRICS(), 0)", "errors4xx=[1 2 3 4 5] errors5xx=[1 1 0 1 1] requests=[10 10 10 10 20]", false},
		{"FILL(empty, REPEAT)", "[- - - - -]", false},
		{"FIRST(METRICS())", "[1 2 3 4 5]", false},
		{"LAST(METRICS())", "[10 10 10 10 20]", false},
		{"IF(FIRST(SORT(METRICS(), AVG, DESC)) > 10, 1, 0)", "[0 0 0 0 1]", false},
		// IF, the four tables of [CWUG "Using IF expressions"].
		{"IF(metric1, metric2, metric3)", "[30 0 20 - -]", false},
		{"IF(metric1, 5, metric3)", "[5 5 20 - -]", false},
		{"IF(metric1, metric2, 5)", "[30 0 5 5 -]", false},
		{"IF(metric1, metric2)", "[30 0 - - -]", false},
		{"IF(1, metric2, metric3)", "[30 - 0 0 30]", false},
		{"IF(0, metric2, metric3)", "[0 0 20 - 20]", false},
		{"IF(0, metric2)", "[- - - - -]", false},
		{"IF(requests < 15, requests, 0)", "[10 10 10 10 0]", false},
		{"IF(requests < 15, 10, 2)", "[10 10 10 10 2]", false},
		{"METRICS()", "errors4xx=[1 2 3 4 5] errors5xx=[1 1 - 1 1] requests=[10 10 10 10 20]", false},
		{"METRICS(\"errors\")", "errors4xx=[1 2 3 4 5] errors5xx=[1 1 - 1 1]", false},
		{"METRICS('nomatch')", "{}", false},
		{"METRIC_COUNT(METRICS())", "3", false},
		{"errors4xx / METRIC_COUNT(METRICS(\"errors\"))", "[0.5 1 1.5 2 2.5]", false},
		{"MINUTE(gappy)", "[0 1 2 3 4]", false},
		{"HOUR(gappy)", "[0 0 0 0 0]", false},
		{"DAY(gappy)", "[1 1 1 1 1]", false},
		{"DATE(gappy)", "[1 1 1 1 1]", false},
		{"MONTH(gappy)", "[1 1 1 1 1]", false},
		{"YEAR(gappy)", "[2024 2024 2024 2024 2024]", false},
		{"EPOCH(gappy) - 1704067200", "[0 60 120 180 240]", false},
		{"IF(DAY(requests) < 6, requests)", "[10 10 10 10 20]", false},
		{"IF(MONTH(requests) == 4, requests)", "[- - - - -]", false},
		{"PERIOD(requests)", "60", false},
		{"requests / PERIOD(requests)", "[0.166667 0.166667 0.166667 0.166667 0.333333]", false},
		{"REMOVE_EMPTY([empty, gappy, empty])", "gappy=[- 2 - - 8]", false},
		{"SLICE(METRICS(), 1)", "errors5xx=[1 1 - 1 1] requests=[10 10 10 10 20]", false},
		{"SLICE(METRICS(), 0, 1)", "errors4xx=[1 2 3 4 5]", false},
		{"SLICE(METRICS(), 2, 1)", "{}", false},
		{"SLICE(METRICS(), 0, 10)", "errors4xx=[1 2 3 4 5] errors5xx=[1 1 - 1 1] requests=[10 10 10 10 20]", false},
		{"SORT(METRICS(), SUM, DESC)", "requests=[10 10 10 10 20] errors4xx=[1 2 3 4 5] errors5xx=[1 1 - 1 1]", false},
		{"SORT(METRICS(), MAX, ASC)", "errors5xx=[1 1 - 1 1] errors4xx=[1 2 3 4 5] requests=[10 10 10 10 20]", false},
		{"SORT(METRICS(), MIN, ASC, 2)", "errors4xx=[1 2 3 4 5] errors5xx=[1 1 - 1 1]", false},
		{"SORT([empty, gappy, errors4xx], AVG, ASC)", "errors4xx=[1 2 3 4 5] gappy=[- 2 - - 8] empty=[- - - - -]", false},
		{"SLICE(SORT(METRICS(), AVG, ASC), 2)", "requests=[10 10 10 10 20]", false},
		{"TIME_SERIES(10)", "[10 10 10 10 10]", false},
		{"TIME_SERIES(MAX(errors4xx))", "[5 5 5 5 5]", false},
		{"TIME_SERIES(5 * AVG(errors4xx))", "[15 15 15 15 15]", false},
		{"errors4xx - MIN(errors4xx)", "[0 1 2 3 4]", false},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			v, dropped, err := evalAny(t, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := format(v); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if dropped != tc.dropped {
				t.Errorf("dropped %v, want %v", dropped, tc.dropped)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"m9 + 1", "Unknown Id m9: no query of the request has it at position 1"},
		{"FOO(m1)", "Unknown function FOO at position 1"},
		{"ANOMALY_DETECTION_BAND(requests, 2)", "The function ANOMALY_DETECTION_BAND is not supported by trailwatch: it needs CloudWatch anomaly detection models at position 1"},
		{"INSIGHT_RULE_METRIC(\"rule\", \"UniqueContributors\")", "The function INSIGHT_RULE_METRIC is not supported by trailwatch: it needs CloudWatch Contributor Insights rules at position 1"},
		{"LAMBDA(\"fn\")", "The function LAMBDA is not supported by trailwatch: it needs AWS Lambda at position 1"},
		{"SERVICE_QUOTA(requests)", "The function SERVICE_QUOTA is not supported by trailwatch: it needs Service Quotas at position 1"},
		{"DB_PERF_INSIGHTS(\"RDS\", \"db-1\", \"os.cpu\")", "The function DB_PERF_INSIGHTS is not supported by trailwatch: it needs Amazon RDS Performance Insights at position 1"},
		{"AVG(1)", "Argument 1 of AVG must be a time series or an array of time series, not a scalar at position 5"},
		{"ABS()", "The function ABS takes 1 argument, not 0 at position 1"},
		{"METRICS('a', 'b')", "The function METRICS takes 0 or 1 arguments, not 2 at position 1"},
		{"SLICE(METRICS())", "The function SLICE takes 2 or 3 arguments, not 1 at position 1"},
		{"FILL(gappy)", "The function FILL takes 2 arguments, not 1 at position 1"},
		{"FILL(gappy, METRICS())", "Argument 2 of FILL must be a scalar or a time series, not an array of time series at position 13"},
		{"SORT(METRICS(), STDDEV, ASC)", "Argument 2 of SORT must be AVG, MIN, MAX or SUM at position 17"},
		{"SORT(METRICS(), AVG, UP)", "Argument 3 of SORT must be ASC or DESC at position 22"},
		{"SLICE(METRICS(), -1)", "Argument 2 of SLICE must be a non-negative integer at position 18"},
		{"[errors4xx, 1]", "An array may only hold time series, not scalars at position 13"},
		{"METRICS() + [gappy]", "The operator + cannot combine arrays of 3 and 1 time series at position 11"},
		{"METRICS(requests)", "The argument of METRICS must be a string at position 9"},
		{"PERIOD(requests * 2)", "The argument of PERIOD must be a metric, not the result of an expression at position 8"},
		{"IF(METRICS(), 1, 0)", "Argument 1 of IF must be a scalar or a time series, not an array of time series at position 4"},
		{"SEARCH('{AWS/EC2} CPU', 'Average', 300)", "SEARCH cannot be used here: an alarm watches one time series, and a search returns an array at position 1"},
		{"REPEAT", "Unknown keyword REPEAT at position 1"},
		{"AVG", "The function AVG must be called with parentheses at position 1"},
		{"'text'", "A string is only valid as an argument of METRICS or SEARCH at position 1"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, _, err := evalAny(t, tc.expr)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

// A scalar is no final result [CWUG: "taking the AVG of a single time series produces a scalar
// number, so it can't be the final expression result"].
func TestEvalRefusesScalarResult(t *testing.T) {
	e, err := Parse("AVG(requests)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Eval(testEnv()); err == nil || !strings.Contains(err.Error(), "produces a scalar") {
		t.Errorf("scalar result: %v", err)
	}
	e, _ = Parse("requests - AVG(requests)")
	r, err := e.Eval(testEnv())
	if err != nil || format(r.Value) != "[-2 -2 -2 -2 8]" {
		t.Errorf("m1-AVG(m1): %v %s", err, format(r.Value))
	}
}

func TestSearchThroughEnv(t *testing.T) {
	env := testEnv()
	var got []string
	env.Search = func(q, stat string, period int) ([]Series, error) {
		got = append(got, q, stat, strconv.Itoa(period))
		return []Series{ser("", 1, 2)}, nil
	}
	e, err := Parse(`SEARCH('{AWS/Logs} MetricName="IncomingBytes"', "Sum", 300) * 2`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Eval(env)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != `{AWS/Logs} MetricName="IncomingBytes"|Sum|300` || format(r.Value) != "=[2 4 - - -]" {
		t.Errorf("search got %q, result %s", got, format(r.Value))
	}
}

// The dense functions share the request's Budget: FILL(METRICS(), 0) of three series over five
// periods needs 15 datapoints.
func TestBudget(t *testing.T) {
	e, err := Parse("FILL(METRICS(), 0)")
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv()
	b := 15
	env.Budget = &b
	if _, err := e.Eval(env); err != nil || b != 0 {
		t.Fatalf("within budget: %v, %d left", err, b)
	}
	if _, err := e.Eval(env); err == nil || !strings.Contains(err.Error(), "would create more than 1008000 datapoints") {
		t.Errorf("over budget: %v", err)
	}
	env.Budget = nil
	env.End = env.Start.Add(2_000_000 * time.Minute)
	if _, err := e.Eval(env); err == nil || !strings.Contains(err.Error(), "more than 1000000 periods of 60 seconds") {
		t.Errorf("over the grid limit: %v", err)
	}
}
