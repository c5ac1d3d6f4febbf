package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestReasonGolden records StateReason and StateReasonData for the evaluation paths no AWS capture
// shows whole: filled windows, the "most recent" form with fills, premature ALARM, M-of-N
// recovery with gaps, a percentile and a metric-math alarm. Each block is "name", reason, data.
func TestReasonGolden(t *testing.T) {
	var b strings.Builder
	for _, tc := range []struct {
		name  string
		alarm *MetricAlarm
		data  string
		prev  State
	}{
		{"table A row 2, breaching fill keeps OK", testAlarm(3, 3, TreatBreaching), "0 - - - -", StateAlarm},
		{"table A row 5, premature ALARM under missing", testAlarm(3, 3, TreatMissing), "- - X - -", StateOK},
		{"table B row 4, filled breaching decide", testAlarm(3, 2, TreatBreaching), "- - - - 0", StateOK},
		{"table B row 3, notBreaching fill", testAlarm(3, 2, TreatNotBreaching), "0 - X - -", StateAlarm},
		{"legacy wording with fill", testAlarm(3, 0, TreatBreaching), "- - - X -", StateOK},
		{"M-of-N recovery with gap", testAlarm(5, 2, TreatMissing), "X 0 - 0 0 0 X", StateAlarm},
		{"most recent form with fill", testAlarm(6, 4, TreatBreaching), "- - - X X X X X", StateOK},
		{"all missing under missing", testAlarm(2, 0, TreatMissing), "- - - -", StateOK},
		{"percentile", func() *MetricAlarm {
			a := testAlarm(2, 0, "")
			a.Statistic, a.ExtendedStatistic, a.Unit = "", "p90", "Milliseconds"
			return a
		}(), "X X", StateOK},
		{"metric math", func() *MetricAlarm {
			a := testAlarm(1, 1, "")
			a.MetricName, a.Namespace, a.Statistic, a.Period = "", "", "", nil
			a.Metrics = []MetricDataQuery{
				{Id: "e1", Expression: "m1*2"},
				{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}},
			}
			return a
		}(), "X", StateOK},
	} {
		r := Evaluate(tc.alarm, pattern(t, tc.alarm, evalNow, tc.data), tc.prev, evalNow)
		if r.Retained {
			t.Fatalf("%s: retained", tc.name)
		}
		b.WriteString("# " + tc.name + " (" + tc.data + ")\n" + r.State.String() + "\n" + r.Reason + "\n" + r.ReasonData + "\n\n")
	}
	golden(t, "reasons.golden", b.String())
}

// BenchmarkEvaluate measures one evaluation of a 5-of-5 alarm with a partially filled range, the
// scheduler's per-alarm, per-minute cost.
func BenchmarkEvaluate(b *testing.B) {
	a := testAlarm(5, 3, TreatBreaching)
	end := a.EvaluationTime(evalNow)
	pts := []Datapoint{
		{Timestamp: end.Add(-time.Minute), Value: 5, SampleCount: 3},
		{Timestamp: end.Add(-3 * time.Minute), Value: 0, SampleCount: 1},
		{Timestamp: end.Add(-6 * time.Minute), Value: 5, SampleCount: 2},
	}
	for b.Loop() {
		Evaluate(a, pts, StateOK, evalNow)
	}
}

// BenchmarkEvaluateEarly is the cost of the early-evaluation check done on each new datapoint.
func BenchmarkEvaluateEarly(b *testing.B) {
	a := cisRootAlarm()
	end := a.NextEvaluation(evalNow)
	pts := []Datapoint{{Timestamp: end.Add(-5 * time.Minute), Value: 1, SampleCount: 1}}
	for b.Loop() {
		EvaluateEarly(a, pts, StateOK, evalNow, true)
	}
}

// FuzzEvaluate drives the evaluator with arbitrary windows and configurations: it must not
// panic, must return a valid state, and must produce well-formed StateReasonData.
func FuzzEvaluate(f *testing.F) {
	f.Add(uint8(3), uint8(3), uint8(0), []byte{0, 1, 2, 1, 2})
	f.Add(uint8(3), uint8(2), uint8(2), []byte{2, 2, 1, 2, 2})
	f.Add(uint8(1), uint8(0), uint8(3), []byte{})
	f.Fuzz(func(t *testing.T, n, m, treat uint8, cells []byte) {
		n = n%12 + 1
		treatments := []string{TreatMissing, TreatIgnore, TreatBreaching, TreatNotBreaching, ""}
		a := testAlarm(int(n), int(m%(n+1)), treatments[int(treat)%len(treatments)])
		end := a.EvaluationTime(evalNow)
		var pts []Datapoint
		for i, c := range cells {
			if i > 40 {
				break
			}
			switch c % 3 {
			case 1:
				pts = append(pts, Datapoint{Timestamp: end.Add(-time.Duration(i+1) * time.Minute), Value: 0, SampleCount: 1})
			case 2:
				pts = append(pts, Datapoint{Timestamp: end.Add(-time.Duration(i+1) * time.Minute), Value: float64(c), SampleCount: 2})
			}
		}
		for _, prev := range []State{StateOK, StateAlarm, StateInsufficientData} {
			r := Evaluate(a, pts, prev, evalNow)
			if !r.State.Valid() {
				t.Fatalf("invalid state %v", r.State)
			}
			if r.Retained {
				if r.State != prev || r.Reason != "" {
					t.Fatalf("retained result must keep the state and carry no reason: %+v", r)
				}
				continue
			}
			if !json.Valid([]byte(r.ReasonData)) || !strings.HasSuffix(r.Reason, ".") {
				t.Fatalf("malformed reason %q / %s", r.Reason, r.ReasonData)
			}
		}
	})
}
