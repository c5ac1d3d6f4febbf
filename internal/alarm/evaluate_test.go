package alarm

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// evalNow is an evaluation instant 37 s into a minute, like the queryDate 18:50:37 of [SREBOT].
var evalNow = time.Date(2024, 3, 16, 12, 20, 37, 811_000_000, time.UTC)

// testAlarm is a 60 s Sum alarm "value >= 1" with N, M (0 = unset) and a treatment.
func testAlarm(n, m int, treat string) *MetricAlarm {
	a := &MetricAlarm{
		AlarmName: "a", MetricName: "RootLogins", Namespace: "CloudTrailMetrics", Statistic: StatSum,
		Period: ptr(int32(60)), EvaluationPeriods: ptr(int32(n)), Threshold: ptr(1.0),
		ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: treat, ActionsEnabled: true,
	}
	if m > 0 {
		a.DatapointsToAlarm = ptr(int32(m))
	}
	return a
}

// pattern turns the notation of the CloudWatch user guide ("0 - X - X", oldest first, the newest
// ending at the evaluation minute) into datapoints: X breaches (5.0), 0 does not (0.0).
func pattern(t *testing.T, a *MetricAlarm, now time.Time, p string) []Datapoint {
	t.Helper()
	fields := strings.Fields(p)
	end := a.EvaluationTime(now)
	period := time.Duration(a.PeriodSeconds()) * time.Second
	var pts []Datapoint
	for i, f := range fields {
		ts := end.Add(-time.Duration(len(fields)-i) * period)
		switch f {
		case "X":
			pts = append(pts, Datapoint{Timestamp: ts, Value: 5, SampleCount: 5})
		case "0":
			pts = append(pts, Datapoint{Timestamp: ts, Value: 0, SampleCount: 1})
		case "-":
		default:
			t.Fatalf("bad pattern element %q", f)
		}
	}
	return pts
}

// retain marks a table cell "Retain current state".
const retain State = 0

// TestMissingDataTables checks every row and column of the two official tables of the CloudWatch
// user guide, "How alarm state is evaluated when data is missing" (reference §1.6).
func TestMissingDataTables(t *testing.T) {
	type row struct {
		data                                 string
		missing, ignore, breaching, notBreac State
	}
	tables := []struct {
		name string
		n, m int
		rows []row
	}{
		{"§1.6 table A N=3 M=3", 3, 3, []row{
			{"0 - X - X", StateOK, StateOK, StateOK, StateOK},
			{"0 - - - -", StateOK, StateOK, StateOK, StateOK},
			{"- - - - -", StateInsufficientData, retain, StateAlarm, StateOK},
			{"0 X X - X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
			{"- - X - -", StateAlarm, retain, StateAlarm, StateOK},
		}},
		{"§1.6 table B N=3 M=2", 3, 2, []row{
			{"0 - X - X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
			{"0 0 X 0 X", StateAlarm, StateAlarm, StateAlarm, StateAlarm},
			{"0 - X - -", StateOK, StateOK, StateAlarm, StateOK},
			{"- - - - 0", StateOK, StateOK, StateAlarm, StateOK},
			{"- - - X -", StateAlarm, retain, StateAlarm, StateOK},
		}},
	}
	for _, tb := range tables {
		for _, r := range tb.rows {
			for _, col := range []struct {
				treat string
				want  State
			}{
				{TreatMissing, r.missing}, {TreatIgnore, r.ignore},
				{TreatBreaching, r.breaching}, {TreatNotBreaching, r.notBreac},
			} {
				for _, prev := range []State{StateOK, StateAlarm, StateInsufficientData} {
					name := tb.name + "/" + r.data + "/" + col.treat + "/from " + prev.String()
					t.Run(name, func(t *testing.T) {
						a := testAlarm(tb.n, tb.m, col.treat)
						got := Evaluate(a, pattern(t, a, evalNow, r.data), prev, evalNow)
						want := col.want
						if want == retain {
							if !got.Retained || got.State != prev {
								t.Fatalf("got %v (retained %v), want the current state %v retained", got.State, got.Retained, prev)
							}
							return
						}
						if got.Retained || got.State != want {
							t.Fatalf("got %v (retained %v), want %v; reason %q", got.State, got.Retained, want, got.Reason)
						}
					})
				}
			}
		}
	}
}

// TestPrematureAlarm pins the "Avoiding premature transitions to alarm state" examples of the user
// guide: with M=3 neither "- - - - X" nor "- - - X -" goes to ALARM under "missing".
func TestPrematureAlarm(t *testing.T) {
	for _, tc := range []struct {
		data string
		m    int
		want State
	}{
		{"- - - - X", 3, retain},
		{"- - - X -", 3, retain},
		{"- - X - -", 3, StateAlarm},
		{"- - - X 0", 3, StateOK},
		{"- - X - 0", 3, StateOK},
		{"- - - X -", 2, StateAlarm},
		{"- - - - X", 2, retain},
		{"- - - - X", 1, StateAlarm},
		{"- X - - -", 3, StateAlarm},
	} {
		t.Run(tc.data+"/M="+string(rune('0'+tc.m)), func(t *testing.T) {
			a := testAlarm(3, tc.m, TreatMissing)
			got := Evaluate(a, pattern(t, a, evalNow, tc.data), StateOK, evalNow)
			if tc.want == retain {
				if !got.Retained {
					t.Fatalf("got %v, want retained", got.State)
				}
				return
			}
			if got.Retained || got.State != tc.want {
				t.Fatalf("got %v retained=%v, want %v", got.State, got.Retained, tc.want)
			}
		})
	}
}

// TestMofN checks the M-of-N rule [CWUG "Evaluating an alarm"]: breaching points need not be
// consecutive but must lie within the last N, and ALARM -> OK takes N-M+1 non-breaching points.
func TestMofN(t *testing.T) {
	for _, tc := range []struct {
		data string
		n, m int
		want State
	}{
		{"0 0 X 0 X 0 X", 5, 3, StateAlarm},
		{"X X 0 0 0 X 0", 5, 3, StateOK}, // the old X's fell out of the last 5
		{"X X X X X 0 0", 5, 4, StateOK}, // 2 = N-M+1 non-breaching points recover
		{"X X X X X X 0", 5, 4, StateAlarm},
		{"X X X X X X 0", 5, 5, StateOK}, // N-of-N recovers on one point
	} {
		t.Run(tc.data, func(t *testing.T) {
			a := testAlarm(tc.n, tc.m, TreatMissing)
			got := Evaluate(a, pattern(t, a, evalNow, tc.data), StateAlarm, evalNow)
			if got.State != tc.want {
				t.Fatalf("got %v, want %v (%s)", got.State, tc.want, got.Reason)
			}
		})
	}
}

// TestEvaluationRange pins the range size decision and that points outside it are not used.
func TestEvaluationRange(t *testing.T) {
	for n, want := range map[int]int{1: 3, 3: 5, 5: 7, 6: 8, 9: 12, 30: 40} {
		if got := RangeSize(n); got != want {
			t.Errorf("RangeSize(%d) = %d, want %d", n, got, want)
		}
	}
	a := testAlarm(1, 0, TreatBreaching)
	// A non-breaching point 3 periods back is still in range (size 3) and keeps the alarm OK;
	// one period later it has left the range and missing data counts as breaching. This is the
	// "breaching took 3 or 4 periods" report of [CODERAPP-72093282].
	pts := pattern(t, a, evalNow, "0 - -")
	if got := Evaluate(a, pts, StateOK, evalNow); got.State != StateOK {
		t.Fatalf("in range: got %v", got.State)
	}
	later := evalNow.Add(time.Minute)
	if got := Evaluate(a, pts, StateOK, later); got.State != StateAlarm {
		t.Fatalf("out of range: got %v", got.State)
	}
	start, end := a.Range(evalNow)
	if want := time.Date(2024, 3, 16, 12, 17, 0, 0, time.UTC); !start.Equal(want) || !end.Equal(want.Add(3*time.Minute)) {
		t.Fatalf("Range = %v..%v", start, end)
	}
}

func TestEvaluationTime(t *testing.T) {
	a := testAlarm(1, 0, "")
	if got := a.EvaluationTime(evalNow); !got.Equal(time.Date(2024, 3, 16, 12, 20, 0, 0, time.UTC)) {
		t.Fatalf("EvaluationTime = %v", got)
	}
	if got := a.NextEvaluation(evalNow); !got.Equal(time.Date(2024, 3, 16, 12, 21, 0, 0, time.UTC)) {
		t.Fatalf("NextEvaluation = %v", got)
	}
	at := time.Date(2024, 3, 16, 12, 21, 0, 0, time.UTC)
	if got := a.NextEvaluation(at); !got.Equal(at) {
		t.Fatalf("NextEvaluation on the minute = %v", got)
	}
	hr := testAlarm(1, 0, "")
	hr.Period = ptr(int32(10))
	if got := hr.NextEvaluation(evalNow); !got.Equal(time.Date(2024, 3, 16, 12, 20, 40, 0, time.UTC)) {
		t.Fatalf("high-resolution NextEvaluation = %v", got)
	}
	// Periods of 20 and 30 s end where GetMetricData's periods end, on multiples of the period.
	for _, tt := range []struct {
		period     int32
		eval, next string
	}{{20, "12:20:20", "12:20:40"}, {30, "12:20:30", "12:21:00"}} {
		hr.Period = ptr(tt.period)
		if got := hr.EvaluationTime(evalNow).Format("15:04:05"); got != tt.eval {
			t.Errorf("period %d: EvaluationTime = %s, want %s", tt.period, got, tt.eval)
		}
		if got := hr.NextEvaluation(evalNow).Format("15:04:05"); got != tt.next {
			t.Errorf("period %d: NextEvaluation = %s, want %s", tt.period, got, tt.next)
		}
	}
}

// TestDynamoDBIgnoresMissing pins [CWUG]: AWS/DynamoDB alarms always ignore missing data.
func TestDynamoDBIgnoresMissing(t *testing.T) {
	a := testAlarm(1, 0, TreatBreaching)
	a.Namespace = "AWS/DynamoDB"
	if got := Evaluate(a, nil, StateOK, evalNow); !got.Retained {
		t.Fatalf("got %v, want retained", got.State)
	}
}

// TestLowSampleCountPercentile pins the p99 rule of [CWUG "percentiles-with-low-samples"]:
// fewer than 10/(1-0.99) = 1000 samples with "ignore" leaves the state unchanged.
func TestLowSampleCountPercentile(t *testing.T) {
	a := testAlarm(1, 0, "")
	a.Statistic, a.ExtendedStatistic = "", "p99"
	end := a.EvaluationTime(evalNow)
	pts := []Datapoint{{Timestamp: end.Add(-time.Minute), Value: 5, SampleCount: 999}}
	for _, tc := range []struct {
		opt      string
		samples  float64
		retained bool
	}{
		{LowSampleIgnore, 999, true},
		{LowSampleIgnore, 1000, false},
		{LowSampleEvaluate, 999, false},
		{"", 1, false},
	} {
		a.EvaluateLowSampleCountPercentile = tc.opt
		pts[0].SampleCount = tc.samples
		got := Evaluate(a, pts, StateOK, evalNow)
		if got.Retained != tc.retained {
			t.Errorf("%s/%v: retained = %v, want %v", tc.opt, tc.samples, got.Retained, tc.retained)
		}
		if !tc.retained && got.State != StateAlarm {
			t.Errorf("%s/%v: state %v", tc.opt, tc.samples, got.State)
		}
	}
	a.ExtendedStatistic = "p10" // below 0.5: 10/p = 100 samples
	a.EvaluateLowSampleCountPercentile = LowSampleIgnore
	pts[0].SampleCount = 99
	if got := Evaluate(a, pts, StateOK, evalNow); !got.Retained {
		t.Errorf("p10 with 99 samples should be ignored")
	}
}
