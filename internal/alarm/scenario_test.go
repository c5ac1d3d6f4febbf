package alarm

import (
	"strings"
	"testing"
	"time"
)

// sample is one raw value published to the alarm's metric.
type sample struct {
	at    time.Time
	value float64
}

// aggregate is the caller's side of the contract: the samples of Range(now), summed into buckets
// of the alarm's period starting at the range start (only Sum and Maximum are needed here).
func aggregate(a *MetricAlarm, samples []sample, now time.Time, end time.Time) []Datapoint {
	p := time.Duration(a.PeriodSeconds()) * time.Second
	start := end.Add(-time.Duration(RangeSize(a.N())) * p)
	byBucket := map[time.Time]*Datapoint{}
	var out []Datapoint
	for _, s := range samples {
		if s.at.Before(start) || !s.at.Before(end) || s.at.After(now) {
			continue
		}
		b := start.Add(s.at.Sub(start) / p * p)
		d := byBucket[b]
		if d == nil {
			d = &Datapoint{Timestamp: b}
			byBucket[b] = d
		}
		switch a.Statistic {
		case StatMaximum:
			if d.SampleCount == 0 || s.value > d.Value {
				d.Value = s.value
			}
		default:
			d.Value += s.value
		}
		d.SampleCount++
	}
	for _, d := range byBucket {
		out = append(out, *d)
	}
	return out
}

// run steps the clock minute by minute (37 s past each minute, like a real evaluation) from
// start to stop and returns the transitions as "HH:MM STATE".
func run(a *MetricAlarm, samples []sample, start, stop time.Time) []string {
	state := StateInsufficientData
	var seq []string
	for now := start; !now.After(stop); now = now.Add(time.Minute) {
		_, end := a.Range(now)
		r := Evaluate(a, aggregate(a, samples, now, end), state, now)
		if r.Changed(state) {
			seq = append(seq, now.Format("15:04")+" "+r.State.String())
			state = r.State
		}
	}
	return seq
}

// TestScenarioRootLogin walks the CIS root-usage alarm (period 300, N=1, notBreaching) through one
// root login. It goes to ALARM at the first evaluation whose window holds the login and stays
// there while the datapoint is in the evaluation range, since real datapoints are preferred over
// missing ones [CWUG note: alarms "might repeatedly re-evaluate the last set of data points"].
func TestScenarioRootLogin(t *testing.T) {
	a := cisRootAlarm()
	t0 := time.Date(2026, 11, 25, 10, 0, 37, 0, time.UTC)
	login := []sample{{at: time.Date(2026, 11, 25, 10, 3, 20, 0, time.UTC), value: 1}}
	got := strings.Join(run(a, login, t0, t0.Add(30*time.Minute)), ", ")
	want := "10:00 OK, 10:04 ALARM, 10:19 OK"
	if got != want {
		t.Fatalf("transitions %q, want %q", got, want)
	}
}

// TestScenarioMissingDefault is the common complaint of §1.7: with the default "missing" a
// metric-filter alarm sits in INSUFFICIENT_DATA, goes to ALARM on a login and falls back to
// INSUFFICIENT_DATA, never OK.
func TestScenarioMissingDefault(t *testing.T) {
	a := cisRootAlarm()
	a.TreatMissingData = ""
	t0 := time.Date(2026, 11, 25, 10, 0, 37, 0, time.UTC)
	login := []sample{{at: time.Date(2026, 11, 25, 10, 3, 20, 0, time.UTC), value: 1}}
	got := strings.Join(run(a, login, t0, t0.Add(30*time.Minute)), ", ")
	if want := "10:04 ALARM, 10:19 INSUFFICIENT_DATA"; got != want {
		t.Fatalf("transitions %q, want %q", got, want)
	}
}

// TestScenarioMofN steps a 2-of-3 alarm with a 60 s period through intermittent breaches.
func TestScenarioMofN(t *testing.T) {
	a := testAlarm(3, 2, TreatNotBreaching)
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	minute := func(m int, v float64) sample {
		return sample{at: base.Add(time.Duration(m)*time.Minute + 5*time.Second), value: v}
	}
	samples := []sample{minute(0, 0), minute(1, 5), minute(2, 0), minute(3, 5), minute(4, 0), minute(5, 0), minute(6, 0)}
	got := strings.Join(run(a, samples, base.Add(37*time.Second), base.Add(10*time.Minute)), ", ")
	// 10:04 evaluates minutes 1..3 (X 0 X): ALARM; 10:05 evaluates 2..4 (0 X 0): OK.
	if want := "10:00 OK, 10:04 ALARM, 10:05 OK"; got != want {
		t.Fatalf("transitions %q, want %q", got, want)
	}
}

// TestEvaluateEarly checks that acting on a final early result gives AWS's state sequence, only
// earlier, and which results are not final.
func TestEvaluateEarly(t *testing.T) {
	a := cisRootAlarm()
	login := time.Date(2026, 11, 25, 10, 3, 20, 0, time.UTC)
	samples := []sample{{at: login, value: 1}}
	now := login.Add(time.Second)
	end := a.NextEvaluation(now)
	r, final := EvaluateEarly(a, aggregate(a, samples, now, end), StateOK, now, true)
	if !final || r.State != StateAlarm {
		t.Fatalf("early result %v final=%v, want a final ALARM", r.State, final)
	}
	if !strings.HasPrefix(r.Reason, "Threshold Crossed: 1 datapoint [1.0 (25/11/26 09:59:00)] was greater than or equal to the threshold (1.0).") {
		t.Fatalf("reason %q", r.Reason)
	}
	// The regular evaluation at T agrees, even after more logins in the same bucket.
	more := append(samples, sample{at: login.Add(10 * time.Second), value: 1})
	if reg := Evaluate(a, aggregate(a, more, end, end), StateOK, end); reg.State != StateAlarm {
		t.Fatalf("regular evaluation at %v: %v", end, reg.State)
	}
	if _, final := EvaluateEarly(a, aggregate(a, samples, now, end), StateOK, now, false); final {
		t.Errorf("Sum without the non-negative guarantee must not be final")
	}

	for _, tc := range []struct {
		name   string
		mutate func(a *MetricAlarm)
		data   string
		final  bool
	}{
		{"Maximum >= is monotone", func(a *MetricAlarm) { a.Statistic = StatMaximum }, "X", true},
		{"Average is not monotone", func(a *MetricAlarm) { a.Statistic = StatAverage }, "X", false},
		{"Minimum >= is not monotone", func(a *MetricAlarm) { a.Statistic = StatMinimum }, "X", false},
		{"OK is never final", nil, "0", false},
		{"3 of 3 without gaps", func(a *MetricAlarm) { a.EvaluationPeriods, a.DatapointsToAlarm = ptr(int32(3)), ptr(int32(3)) }, "X X X", true},
		{"2 of 2 with a gap a late non-breaching point could fill", func(a *MetricAlarm) { a.EvaluationPeriods, a.DatapointsToAlarm = ptr(int32(2)), ptr(int32(2)) }, "X - X", false},
		{"2 of 3 with a gap but a spare breaching point", func(a *MetricAlarm) { a.EvaluationPeriods, a.DatapointsToAlarm = ptr(int32(3)), ptr(int32(2)) }, "X X - X", true},
		{"4 of 4 with one gap", func(a *MetricAlarm) { a.EvaluationPeriods, a.DatapointsToAlarm = ptr(int32(4)), ptr(int32(4)) }, "X X X - X", false},
		{"2 of 4 with one gap and spare breaching points", func(a *MetricAlarm) { a.EvaluationPeriods, a.DatapointsToAlarm = ptr(int32(4)), ptr(int32(2)) }, "X X X - X", true},
		{"premature ALARM is not final", func(a *MetricAlarm) {
			a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData = ptr(int32(3)), ptr(int32(3)), TreatMissing
		}, "X - -", false},
		{"ALARM from filled breaching points is not final", func(a *MetricAlarm) {
			a.EvaluationPeriods, a.TreatMissingData = ptr(int32(3)), TreatBreaching
		}, "- X", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testAlarm(1, 0, TreatNotBreaching)
			a.Statistic = StatMaximum
			if tc.mutate != nil {
				tc.mutate(a)
			}
			now := evalNow
			end := a.NextEvaluation(now)
			r, final := EvaluateEarly(a, pattern(t, a, end, tc.data), StateOK, now, true)
			if final != tc.final {
				t.Fatalf("final = %v (state %v), want %v", final, r.State, tc.final)
			}
		})
	}
}

// TestEvaluateEarlyExhaustive checks soundness by brute force: whenever EvaluateEarly says final,
// every way later data can change the window (a missing bucket gets any value, a present bucket
// grows) leaves the regular evaluation at T in the same state.
func TestEvaluateEarlyExhaustive(t *testing.T) {
	for _, treat := range []string{TreatMissing, TreatIgnore, TreatBreaching, TreatNotBreaching} {
		for n := 1; n <= 3; n++ {
			for m := 1; m <= n; m++ {
				exhaustEarly(t, testAlarm(n, m, treat), n, m)
			}
		}
	}
}

func exhaustEarly(t *testing.T, a *MetricAlarm, n, m int) {
	a.Statistic = StatMaximum
	end := a.NextEvaluation(evalNow)
	r := RangeSize(n)
	cells := []string{"-", "0", "X"}
	var walk func(prefix []string)
	walk = func(prefix []string) {
		if len(prefix) < r {
			for _, c := range cells {
				walk(append(prefix, c))
			}
			return
		}
		pat := strings.Join(prefix, " ")
		res, final := EvaluateEarly(a, pattern(t, a, end, pat), StateOK, evalNow, true)
		if !final {
			return
		}
		// Every completion: "-" may become "0" or "X", "0" may become "X".
		var complete func(i int, cur []string)
		complete = func(i int, cur []string) {
			if i == len(cur) {
				got := Evaluate(a, pattern(t, a, end, strings.Join(cur, " ")), StateOK, end)
				if got.State != res.State || got.Retained {
					t.Errorf("N=%d M=%d %q final %v, but completion %q gives %v", n, m, pat, res.State, strings.Join(cur, " "), got.State)
				}
				return
			}
			options := map[string][]string{"-": {"-", "0", "X"}, "0": {"0", "X"}, "X": {"X"}}[prefix[i]]
			for _, o := range options {
				next := append([]string(nil), cur...)
				next[i] = o
				complete(i+1, next)
			}
		}
		complete(0, append([]string(nil), prefix...))
	}
	walk(nil)
}
