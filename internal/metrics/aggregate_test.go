package metrics

import (
	"math"
	"testing"
	"time"
)

func agg(values ...float64) Aggregate {
	var a Aggregate
	for _, v := range values {
		a.AddSample(&Sample{Value: v})
	}
	return a
}

func TestAggregateValue(t *testing.T) {
	tests := []struct {
		name   string
		a      Aggregate
		stat   string
		want   float64
		wantOK bool
	}{
		{"sum", agg(1, 2, 3, 4), "Sum", 10, true},
		{"average", agg(1, 2, 3, 4), "Average", 2.5, true},
		{"minimum", agg(3, -1, 2), "Minimum", -1, true},
		{"maximum", agg(3, -1, 2), "Maximum", 3, true},
		{"sample count", agg(5, 5, 5), "SampleCount", 3, true},
		{"empty has no value", Aggregate{}, "Sum", 0, false},
		// Nearest rank: the smallest value with at least p% of the samples at or below it.
		{"p50 of 1..10", agg(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "p50", 5, true},
		{"p51 of 1..10", agg(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "p51", 6, true},
		{"p90 of 1..10", agg(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "p90", 9, true},
		{"p99.9 of 1..10", agg(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "p99.9", 10, true},
		{"p100 is maximum", agg(1, 7, 3), "p100", 7, true},
		{"p0 is minimum", agg(4, 7, 3), "p0", 3, true},
		{"p0.01 is minimum", agg(4, 7, 3), "p0.01", 3, true},
		{"weighted p50", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Value: 1, Count: 9})
			a.AddSample(&Sample{Value: 100, Count: 1})
			return a
		}(), "p50", 1, true},
		{"weighted p95", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Value: 1, Count: 9})
			a.AddSample(&Sample{Value: 100, Count: 1})
			return a
		}(), "p95", 100, true},
		{"negative values have no percentile", agg(-1, 2), "p50", 0, false},
		{"statistic set with spread has no percentile", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Stats: &StatisticSet{SampleCount: 2, Sum: 3, Minimum: 1, Maximum: 2}})
			return a
		}(), "p50", 0, false},
		{"statistic set of equal values has percentiles", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Stats: &StatisticSet{SampleCount: 4, Sum: 8, Minimum: 2, Maximum: 2}})
			a.AddSample(&Sample{Value: 10})
			return a
		}(), "p80", 2, true},
		{"statistic set average", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Stats: &StatisticSet{SampleCount: 2, Sum: 3, Minimum: 1, Maximum: 2}})
			a.AddSample(&Sample{Value: 6})
			return a
		}(), "Average", 3, true},
		{"default alone is not data", func() Aggregate {
			var a Aggregate
			a.AddSample(&Sample{Value: 0, Default: true})
			return a
		}(), "SampleCount", 0, false},
		{"default does not change real statistics", func() Aggregate {
			a := agg(4)
			a.AddSample(&Sample{Value: 100, Default: true})
			return a
		}(), "Sum", 4, true},
		{"zero count is ignored", func() Aggregate {
			a := agg(4)
			a.AddSample(&Sample{Value: 100, Count: -1})
			return a
		}(), "Maximum", 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ok := ParseStat(tt.stat)
			if !ok {
				t.Fatalf("ParseStat(%q) failed", tt.stat)
			}
			got, ok := tt.a.Value(st)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("Value(%s) = %v, %v; want %v, %v", tt.stat, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestAggregateCapMakesInexact(t *testing.T) {
	var a Aggregate
	for i := range MaxDistinctValues {
		a.AddSample(&Sample{Value: float64(i)})
	}
	if a.Inexact || len(a.Dist) != MaxDistinctValues {
		t.Fatalf("at the cap: inexact %v, %d values", a.Inexact, len(a.Dist))
	}
	a.AddSample(&Sample{Value: 0}) // an existing value does not grow the distribution
	if a.Inexact {
		t.Fatal("repeating a value made the aggregate inexact")
	}
	a.AddSample(&Sample{Value: -1})
	if !a.Inexact || a.Dist != nil {
		t.Fatalf("beyond the cap: inexact %v, %d values", a.Inexact, len(a.Dist))
	}
	if a.SampleCount != MaxDistinctValues+2 || a.Minimum != -1 {
		t.Errorf("statistics must stay exact: n=%v min=%v", a.SampleCount, a.Minimum)
	}
	if _, ok := a.Value(Stat{kind: statPercentile, p: 50}); ok {
		t.Error("percentile of an inexact aggregate")
	}
}

func TestAggregateMerge(t *testing.T) {
	a := agg(1, 3)
	b := agg(3, 5)
	b.HasDefault, b.DefaultValue = true, 0
	a.Merge(&b)
	if a.SampleCount != 4 || a.Sum != 12 || a.Minimum != 1 || a.Maximum != 5 || !a.HasDefault {
		t.Errorf("merged = %+v", a)
	}
	want := []ValueCount{{1, 1}, {3, 2}, {5, 1}}
	if len(a.Dist) != 3 || a.Dist[0] != want[0] || a.Dist[1] != want[1] || a.Dist[2] != want[2] {
		t.Errorf("merged dist = %v, want %v", a.Dist, want)
	}
	if len(b.Dist) != 2 || b.Dist[0].Count != 1 {
		t.Errorf("merge modified its argument: %v", b.Dist)
	}
	// Merging into an empty aggregate must copy, not alias, the distribution.
	var c Aggregate
	c.Merge(&b)
	c.AddSample(&Sample{Value: 3})
	if b.Dist[0].Count != 1 {
		t.Errorf("aggregate aliases a merged distribution: %v", b.Dist)
	}
}

func TestResolveDefaults(t *testing.T) {
	m0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	m1, m2 := m0.Add(time.Minute), m0.Add(2*time.Minute)
	withDefault := func(a Aggregate, tm time.Time, unit string, v float64) Aggregate {
		a.Time, a.Unit, a.HasDefault, a.DefaultValue = tm, unit, true, v
		return a
	}
	at := func(a Aggregate, tm time.Time, unit string) Aggregate {
		a.Time, a.Unit = tm, unit
		return a
	}
	in := []Aggregate{
		withDefault(Aggregate{}, m2, "None", 7),      // default only: one datapoint of 7
		withDefault(agg(1, 1), m0, "Count", 0),       // real + default in one row: real only
		withDefault(Aggregate{}, m1, "Count", 9),     // two units with defaults only: smallest unit wins
		withDefault(Aggregate{}, m1, "None", 8),      //
		withDefault(Aggregate{}, m0, "None", 5),      // default in another unit of a minute with data: dropped
		at(Aggregate{}, m2.Add(time.Minute), "None"), // nothing at all: dropped
	}
	got := ResolveDefaults(in)
	want := []struct {
		tm   time.Time
		unit string
		n    float64
		sum  float64
	}{{m0, "Count", 2, 2}, {m1, "Count", 1, 9}, {m2, "None", 1, 7}}
	if len(got) != len(want) {
		t.Fatalf("ResolveDefaults returned %d aggregates: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if !g.Time.Equal(w.tm) || g.Unit != w.unit || g.SampleCount != w.n || g.Sum != w.sum || g.HasDefault {
			t.Errorf("[%d] = %s %s n=%v sum=%v default=%v; want %s %s n=%v sum=%v", i, g.Time.Format("15:04"), g.Unit,
				g.SampleCount, g.Sum, g.HasDefault, w.tm.Format("15:04"), w.unit, w.n, w.sum)
		}
	}
	p50, _ := ParseStat("p50")
	if v, ok := got[1].Value(p50); !ok || v != 9 {
		t.Errorf("a resolved default has percentiles: p50 = %v, %v", v, ok)
	}
}

func TestParseStat(t *testing.T) {
	valid := []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount", "p0", "p50", "p99", "p99.9", "p99.99", "p100", "p0.01", "p100.00"}
	invalid := []string{"", "sum", "AVERAGE", "p", "p-1", "p100.01", "p101", "p99.999", "p.5", "p5.", "p1e2", "tm99", "wm90", "IQM", "p 50", "P50", "p0x10"}
	for _, s := range valid {
		if st, ok := ParseStat(s); !ok || st.String() != s {
			t.Errorf("ParseStat(%q) = %v, %v; want valid", s, st, ok)
		}
	}
	for _, s := range invalid {
		if _, ok := ParseStat(s); ok {
			t.Errorf("ParseStat(%q) accepted", s)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{math.NaN(), "NaN"},
		{math.Inf(1), "∞"},
		{math.Inf(-1), "-∞"},
		{0, "0"},
		{1, "1"},
		{-2.5, "-2.5"},
		{1234567.891, "1,234,567.891"},
		{0.12345, "0.123"},
		{0.9999, "1"},
		{1.0006, "1.001"},
		// Netflix servo's CloudWatchValueTest, observed AWS messages:
		{math.MaxFloat64, "179,769,313,486,231,570" + repeat(",000", 97)},
		{math.Ldexp(1, 361), "4,697,085,165,547,666,500" + repeat(",000", 30)},
		{-math.Ldexp(1, 361), "-4,697,085,165,547,666,500" + repeat(",000", 30)},
		{math.Ldexp(1, -361), "0"},
		{-math.Ldexp(1, -361), "-0"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func FuzzParseStat(f *testing.F) {
	for _, s := range []string{"Sum", "p99", "p99.99", "p100", "p0.0", "tm90", "p1e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, ok := ParseStat(s)
		if !ok {
			return
		}
		if st.String() != s {
			t.Fatalf("ParseStat(%q).String() = %q", s, st.String())
		}
		if st.IsPercentile() && (st.p < 0 || st.p > 100) {
			t.Fatalf("ParseStat(%q) percentile %v out of range", s, st.p)
		}
	})
}

// FuzzNextTokens feeds arbitrary NextTokens to both token decoders: they must reject or accept
// without panicking, and an accepted token must round-trip.
func FuzzNextTokens(f *testing.F) {
	f.Add(encodeToken("42"))
	f.Add(encodeDataToken(7))
	f.Add("")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, tok string) {
		if cur, err := decodeToken(tok); err == nil && tok != "" && encodeToken(cur) != tok {
			// Base64 has non-canonical spellings of the same bytes; only the bytes must agree.
			if again, err := decodeToken(encodeToken(cur)); err != nil || again != cur {
				t.Fatalf("list token %q decoded to %q, which does not round-trip", tok, cur)
			}
		}
		if n, err := decodeDataToken(tok); err == nil {
			if n < 0 {
				t.Fatalf("data token %q decoded to negative offset %d", tok, n)
			}
			if again, err := decodeDataToken(encodeDataToken(n)); err != nil || again != n {
				t.Fatalf("data token offset %d does not round-trip", n)
			}
		}
	})
}
