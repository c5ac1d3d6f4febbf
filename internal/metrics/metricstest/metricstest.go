// Package metricstest is the conformance suite every metrics.Store backend runs, so that the
// aggregation, default-value and scoping rules the metrics service relies on hold whatever the
// storage.
package metricstest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Run runs the conformance suite against stores returned by open; each subtest opens a fresh,
// empty store.
func Run(t *testing.T, open func(t *testing.T) metrics.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s metrics.Store)
	}{
		{"AggregatesPerMinute", testAggregatesPerMinute},
		{"MergesAcrossCalls", testMergesAcrossCalls},
		{"UnitsAreSeparate", testUnitsAreSeparate},
		{"DimensionOrderIsIrrelevant", testDimensionOrder},
		{"ExactIdentity", testExactIdentity},
		{"WeightsAndStatisticSets", testWeightsAndStatisticSets},
		{"DefaultsKeptApart", testDefaultsKeptApart},
		{"FirstDefaultWins", testFirstDefaultWins},
		{"InexactBeyondCap", testInexactBeyondCap},
		{"TimeRangeIsHalfOpen", testTimeRange},
		{"ScopedByAccountAndRegion", testScoping},
		{"ListFilters", testListFilters},
		{"ListActiveSince", testListActiveSince},
		{"ListPagination", testListPagination},
		{"ListInvalidCursor", testListInvalidCursor},
		{"EmptyBatch", testEmptyBatch},
		{"NonFiniteIgnored", testNonFinite},
		{"ConcurrentAdds", testConcurrentAdds},
		{"CompactKeepsAnswers", testCompactKeepsAnswers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var (
	scope = metrics.Scope{AccountID: "111111111111", Region: "us-east-1"}
	t0    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cpu   = metrics.Metric{Namespace: "App", MetricName: "Latency",
		Dimensions: []metrics.Dimension{{Name: "Host", Value: "a"}, {Name: "Env", Value: "prod"}}}
)

func sample(m metrics.Metric, ts time.Time, v float64) metrics.Sample {
	return metrics.Sample{AccountID: scope.AccountID, Region: scope.Region, Namespace: m.Namespace,
		MetricName: m.MetricName, Dimensions: m.Dimensions, Timestamp: ts, Value: v}
}

func add(t *testing.T, s metrics.Store, samples ...metrics.Sample) {
	t.Helper()
	if err := s.AddSamples(context.Background(), samples); err != nil {
		t.Fatalf("AddSamples: %v", err)
	}
}

func query(t *testing.T, s metrics.Store, sc metrics.Scope, m metrics.Metric, start, end time.Time) []metrics.Aggregate {
	t.Helper()
	aggs, err := s.QueryAggregates(context.Background(), sc, m, start, end)
	if err != nil {
		t.Fatalf("QueryAggregates: %v", err)
	}
	return aggs
}

// summary renders the parts of an aggregate the contract fixes, for comparison.
func summary(a metrics.Aggregate) string {
	s := fmt.Sprintf("%s %s n=%g sum=%g min=%g max=%g", a.Time.UTC().Format("15:04:05"), a.Unit,
		a.SampleCount, a.Sum, a.Minimum, a.Maximum)
	if a.SampleCount == 0 {
		s = fmt.Sprintf("%s %s n=0", a.Time.UTC().Format("15:04:05"), a.Unit)
	}
	if a.Inexact {
		s += " inexact"
	} else if len(a.Dist) > 0 {
		s += fmt.Sprintf(" dist=%v", a.Dist)
	}
	if a.HasDefault {
		s += fmt.Sprintf(" default=%g", a.DefaultValue)
	}
	return s
}

func check(t *testing.T, got []metrics.Aggregate, want ...string) {
	t.Helper()
	var g []string
	for _, a := range got {
		g = append(g, summary(a))
	}
	if !slices.Equal(g, want) {
		t.Errorf("aggregates:\n got %q\nwant %q", g, want)
	}
}

func testAggregatesPerMinute(t *testing.T, s metrics.Store) {
	add(t, s,
		sample(cpu, t0.Add(5*time.Second), 3),
		sample(cpu, t0.Add(59*time.Second), 1),
		sample(cpu, t0.Add(30*time.Second), 3),
		sample(cpu, t0.Add(61*time.Second), 7),
	)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Hour)),
		"12:00:00 None n=3 sum=7 min=1 max=3 dist=[{1 1} {3 2}]",
		"12:01:00 None n=1 sum=7 min=7 max=7 dist=[{7 1}]")
}

func testMergesAcrossCalls(t *testing.T, s metrics.Store) {
	add(t, s, sample(cpu, t0.Add(time.Second), 2))
	add(t, s, sample(cpu, t0.Add(2*time.Second), 5), sample(cpu, t0.Add(3*time.Second), 2))
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Minute)),
		"12:00:00 None n=3 sum=9 min=2 max=5 dist=[{2 2} {5 1}]")
}

func testUnitsAreSeparate(t *testing.T, s metrics.Store) {
	a := sample(cpu, t0, 1)
	a.Unit = "Count"
	b := sample(cpu, t0, 2)
	b.Unit = "None"
	c := sample(cpu, t0, 4) // "" is stored as None
	add(t, s, a, b, c)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Minute)),
		"12:00:00 Count n=1 sum=1 min=1 max=1 dist=[{1 1}]",
		"12:00:00 None n=2 sum=6 min=2 max=4 dist=[{2 1} {4 1}]")
}

func testDimensionOrder(t *testing.T, s metrics.Store) {
	reversed := cpu
	reversed.Dimensions = []metrics.Dimension{cpu.Dimensions[1], cpu.Dimensions[0]}
	add(t, s, sample(cpu, t0, 1), sample(reversed, t0, 2))
	check(t, query(t, s, scope, reversed, t0, t0.Add(time.Minute)),
		"12:00:00 None n=2 sum=3 min=1 max=2 dist=[{1 1} {2 1}]")
	page, _, err := s.ListMetrics(context.Background(), scope, metrics.ListQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 {
		t.Fatalf("ListMetrics returned %d metrics, want 1: %v", len(page), page)
	}
	if want := metrics.SortedDimensions(cpu.Dimensions); !slices.Equal(page[0].Dimensions, want) {
		t.Errorf("listed dimensions %v, want sorted %v", page[0].Dimensions, want)
	}
}

func testExactIdentity(t *testing.T, s metrics.Store) {
	add(t, s, sample(cpu, t0, 1))
	subset := cpu
	subset.Dimensions = cpu.Dimensions[:1]
	none := metrics.Metric{Namespace: cpu.Namespace, MetricName: cpu.MetricName}
	other := cpu
	other.Namespace = "Other"
	for _, m := range []metrics.Metric{subset, none, other} {
		if got := query(t, s, scope, m, t0, t0.Add(time.Minute)); len(got) != 0 {
			t.Errorf("query %+v returned %v, want nothing", m, got)
		}
	}
}

func testWeightsAndStatisticSets(t *testing.T, s metrics.Store) {
	w := sample(cpu, t0, 2)
	w.Count = 3
	set := sample(cpu, t0, 0)
	set.Stats = &metrics.StatisticSet{SampleCount: 4, Sum: 40, Minimum: 10, Maximum: 10}
	spread := sample(cpu, t0.Add(time.Minute), 0)
	spread.Stats = &metrics.StatisticSet{SampleCount: 2, Sum: 3, Minimum: 1, Maximum: 2}
	add(t, s, w, set, spread)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Hour)),
		"12:00:00 None n=7 sum=46 min=2 max=10 dist=[{2 3} {10 4}]",
		"12:01:00 None n=2 sum=3 min=1 max=2 inexact")
}

func testDefaultsKeptApart(t *testing.T, s metrics.Store) {
	def := sample(cpu, t0, 0)
	def.Default = true
	def2 := sample(cpu, t0.Add(time.Minute), 0)
	def2.Default = true
	add(t, s, def, sample(cpu, t0.Add(time.Second), 1), def2)
	// The store keeps the default beside the real statistics, never inside them; deciding whether
	// it counts is the service's job (metrics.ResolveDefaults).
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Hour)),
		"12:00:00 None n=1 sum=1 min=1 max=1 dist=[{1 1}] default=0",
		"12:01:00 None n=0 default=0")
	resolved := metrics.ResolveDefaults(query(t, s, scope, cpu, t0, t0.Add(time.Hour)))
	check(t, resolved,
		"12:00:00 None n=1 sum=1 min=1 max=1 dist=[{1 1}]",
		"12:01:00 None n=1 sum=0 min=0 max=0 dist=[{0 1}]")
}

func testFirstDefaultWins(t *testing.T, s metrics.Store) {
	d1 := sample(cpu, t0, 5)
	d1.Default = true
	d2 := sample(cpu, t0.Add(10*time.Second), 6)
	d2.Default = true
	d3 := sample(cpu, t0.Add(20*time.Second), 7)
	d3.Default = true
	add(t, s, d1, d2)
	add(t, s, d3)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Minute)), "12:00:00 None n=0 default=5")
}

func testInexactBeyondCap(t *testing.T, s metrics.Store) {
	var batch []metrics.Sample
	for i := range metrics.MaxDistinctValues + 1 {
		batch = append(batch, sample(cpu, t0, float64(i)))
	}
	add(t, s, batch[:10]...)
	add(t, s, batch[10:]...)
	n := float64(metrics.MaxDistinctValues + 1)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Minute)),
		fmt.Sprintf("12:00:00 None n=%g sum=%g min=0 max=%g inexact", n, n*(n-1)/2, n-1))
}

func testTimeRange(t *testing.T, s metrics.Store) {
	for i := range 5 {
		add(t, s, sample(cpu, t0.Add(time.Duration(i)*time.Minute+30*time.Second), float64(i)))
	}
	got := query(t, s, scope, cpu, t0.Add(time.Minute), t0.Add(3*time.Minute))
	check(t, got,
		"12:01:00 None n=1 sum=1 min=1 max=1 dist=[{1 1}]",
		"12:02:00 None n=1 sum=2 min=2 max=2 dist=[{2 1}]")
	// A start inside a minute excludes that minute (its start is before the range); an end inside
	// a minute includes it (its start is inside the range).
	got = query(t, s, scope, cpu, t0.Add(time.Minute+time.Second), t0.Add(3*time.Minute+time.Millisecond))
	check(t, got,
		"12:02:00 None n=1 sum=2 min=2 max=2 dist=[{2 1}]",
		"12:03:00 None n=1 sum=3 min=3 max=3 dist=[{3 1}]")
}

func testScoping(t *testing.T, s metrics.Store) {
	other := sample(cpu, t0, 100)
	other.AccountID = "222222222222"
	otherRegion := sample(cpu, t0, 200)
	otherRegion.Region = "eu-west-1"
	add(t, s, sample(cpu, t0, 1), other, otherRegion)
	check(t, query(t, s, scope, cpu, t0, t0.Add(time.Minute)), "12:00:00 None n=1 sum=1 min=1 max=1 dist=[{1 1}]")
	check(t, query(t, s, metrics.Scope{AccountID: "222222222222", Region: "us-east-1"}, cpu, t0, t0.Add(time.Minute)),
		"12:00:00 None n=1 sum=100 min=100 max=100 dist=[{100 1}]")
	check(t, query(t, s, metrics.Scope{AccountID: scope.AccountID, Region: "eu-west-1"}, cpu, t0, t0.Add(time.Minute)),
		"12:00:00 None n=1 sum=200 min=200 max=200 dist=[{200 1}]")
	for _, sc := range []metrics.Scope{scope, {AccountID: "222222222222", Region: "us-east-1"}, {AccountID: "333333333333", Region: "us-east-1"}} {
		page, _, err := s.ListMetrics(context.Background(), sc, metrics.ListQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if sc.AccountID == "333333333333" {
			want = 0
		}
		if len(page) != want {
			t.Errorf("ListMetrics(%v) = %d metrics, want %d", sc, len(page), want)
		}
	}
}

func names(ms []metrics.Metric) []string {
	var out []string
	for _, m := range ms {
		s := m.Namespace + "/" + m.MetricName
		for _, d := range m.Dimensions {
			s += fmt.Sprintf(" %s=%s", d.Name, d.Value)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func dim(n, v string) metrics.Dimension { return metrics.Dimension{Name: n, Value: v} }

func seedList(t *testing.T, s metrics.Store) {
	add(t, s,
		sample(metrics.Metric{Namespace: "A", MetricName: "x"}, t0, 1),
		sample(metrics.Metric{Namespace: "A", MetricName: "x", Dimensions: []metrics.Dimension{dim("Host", "h1")}}, t0, 1),
		sample(metrics.Metric{Namespace: "A", MetricName: "x", Dimensions: []metrics.Dimension{dim("Host", "h2"), dim("Env", "prod")}}, t0, 1),
		sample(metrics.Metric{Namespace: "A", MetricName: "y", Dimensions: []metrics.Dimension{dim("Env", "dev")}}, t0, 1),
		sample(metrics.Metric{Namespace: "B", MetricName: "x"}, t0.Add(-10*24*time.Hour), 1),
	)
}

func list(t *testing.T, s metrics.Store, q metrics.ListQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 500
	}
	page, next, err := s.ListMetrics(context.Background(), scope, q)
	if err != nil {
		t.Fatalf("ListMetrics: %v", err)
	}
	if next != "" {
		t.Fatalf("ListMetrics returned a next cursor for a short list")
	}
	return names(page)
}

func ptr(s string) *string { return &s }

func testListFilters(t *testing.T, s metrics.Store) {
	seedList(t, s)
	tests := []struct {
		q    metrics.ListQuery
		want []string
	}{
		{metrics.ListQuery{}, []string{"A/x", "A/x Env=prod Host=h2", "A/x Host=h1", "A/y Env=dev", "B/x"}},
		{metrics.ListQuery{Namespace: "A", MetricName: "x"}, []string{"A/x", "A/x Env=prod Host=h2", "A/x Host=h1"}},
		{metrics.ListQuery{MetricName: "x"}, []string{"A/x", "A/x Env=prod Host=h2", "A/x Host=h1", "B/x"}},
		{metrics.ListQuery{Dimensions: []metrics.DimensionFilter{{Name: "Host"}}}, []string{"A/x Env=prod Host=h2", "A/x Host=h1"}},
		{metrics.ListQuery{Dimensions: []metrics.DimensionFilter{{Name: "Host", Value: ptr("h2")}}}, []string{"A/x Env=prod Host=h2"}},
		{metrics.ListQuery{Dimensions: []metrics.DimensionFilter{{Name: "Env"}, {Name: "Host"}}}, []string{"A/x Env=prod Host=h2"}},
		{metrics.ListQuery{Dimensions: []metrics.DimensionFilter{{Name: "Env", Value: ptr("nope")}}}, nil},
		{metrics.ListQuery{Namespace: "C"}, nil},
	}
	for _, tt := range tests {
		if got := list(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("ListMetrics(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func testListActiveSince(t *testing.T, s metrics.Store) {
	seedList(t, s)
	got := list(t, s, metrics.ListQuery{ActiveSince: t0.Add(-3 * time.Hour)})
	want := []string{"A/x", "A/x Env=prod Host=h2", "A/x Host=h1", "A/y Env=dev"}
	if !slices.Equal(got, want) {
		t.Errorf("active since t0-3h: %q, want %q", got, want)
	}
	// A newer datapoint makes the old metric active again; an older one does not move it back.
	add(t, s, sample(metrics.Metric{Namespace: "B", MetricName: "x"}, t0.Add(-time.Hour), 1))
	add(t, s, sample(metrics.Metric{Namespace: "B", MetricName: "x"}, t0.Add(-20*24*time.Hour), 1))
	if got := list(t, s, metrics.ListQuery{Namespace: "B", ActiveSince: t0.Add(-3 * time.Hour)}); !slices.Equal(got, []string{"B/x"}) {
		t.Errorf("after a recent datapoint: %q, want B/x", got)
	}
}

func testListPagination(t *testing.T, s metrics.Store) {
	var batch []metrics.Sample
	var want []string
	for i := range 23 {
		m := metrics.Metric{Namespace: "P", MetricName: fmt.Sprintf("m%02d", i)}
		batch = append(batch, sample(m, t0, 1))
		want = append(want, "P/"+m.MetricName)
	}
	// A metric the filter skips must not break paging.
	batch = append(batch, sample(metrics.Metric{Namespace: "Q", MetricName: "skip"}, t0, 1))
	add(t, s, batch...)
	var got []string
	after := ""
	pages := 0
	for {
		page, next, err := s.ListMetrics(context.Background(), scope, metrics.ListQuery{Namespace: "P", Limit: 5, After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page) > 5 {
			t.Fatalf("page of %d > limit 5", len(page))
		}
		got = append(got, names(page)...)
		if next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		after = next
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || pages != 5 {
		t.Errorf("paged %d pages: %q, want 5 pages of %q", pages, got, want)
	}
	// A page that takes exactly what is left carries no cursor.
	page, next, err := s.ListMetrics(context.Background(), scope, metrics.ListQuery{Namespace: "P", Limit: 23})
	if err != nil || len(page) != 23 || next != "" {
		t.Errorf("exact page: %d metrics, next %q, err %v; want 23, no cursor", len(page), next, err)
	}
}

func testListInvalidCursor(t *testing.T, s metrics.Store) {
	_, _, err := s.ListMetrics(context.Background(), scope, metrics.ListQuery{Limit: 5, After: "not a cursor"})
	if !errors.Is(err, metrics.ErrInvalidCursor) {
		t.Errorf("ListMetrics with a foreign cursor: err %v, want ErrInvalidCursor", err)
	}
}

func testEmptyBatch(t *testing.T, s metrics.Store) {
	if err := s.AddSamples(context.Background(), nil); err != nil {
		t.Errorf("AddSamples(nil): %v", err)
	}
}

func testNonFinite(t *testing.T, s metrics.Store) {
	nan := sample(cpu, t0, math.NaN())
	inf := sample(cpu, t0, math.Inf(1))
	def := sample(cpu, t0.Add(time.Minute), math.Inf(-1))
	def.Default = true
	set := sample(cpu, t0, 0)
	set.Stats = &metrics.StatisticSet{SampleCount: 1, Sum: math.NaN(), Minimum: 1, Maximum: 1}
	// The batch still stores its finite samples.
	add(t, s, nan, sample(cpu, t0, 2), inf, def, set)
	var real []metrics.Aggregate
	for _, a := range query(t, s, scope, cpu, t0, t0.Add(time.Hour)) {
		if a.HasData() || a.HasDefault {
			real = append(real, a)
		}
	}
	check(t, real, "12:00:00 None n=1 sum=2 min=2 max=2 dist=[{2 1}]")
	// A metric that only ever received ignored samples does not exist.
	only := metrics.Metric{Namespace: "App", MetricName: "OnlyNaN"}
	add(t, s, sample(only, t0, math.NaN()))
	if got := list(t, s, metrics.ListQuery{MetricName: "OnlyNaN"}); len(got) != 0 {
		t.Errorf("metric with only non-finite samples is listed: %q", got)
	}
}

// testConcurrentAdds checks that concurrent batches on the same metric-minutes never lose an
// update (each batch reads and rewrites the stored aggregate).
func testConcurrentAdds(t *testing.T, s metrics.Store) {
	const writers, batches = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				b := []metrics.Sample{sample(cpu, t0, float64(w)), sample(cpu, t0.Add(time.Minute), float64(i))}
				if err := s.AddSamples(context.Background(), b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AddSamples: %v", err)
	}
	got := query(t, s, scope, cpu, t0, t0.Add(time.Hour))
	if len(got) != 2 || got[0].SampleCount != writers*batches || got[1].SampleCount != writers*batches ||
		got[0].Sum != batches*(0+1+2+3) || got[1].Sum != writers*(batches*(batches-1)/2) {
		var lines []string
		for _, a := range got {
			lines = append(lines, summary(a))
		}
		t.Errorf("after %d concurrent batches: %q", writers*batches, lines)
	}
}

// testCompactKeepsAnswers stores 500 days of one metric (several samples a minute here and there, two
// units, defaults alone and beside real samples, fractional values for percentiles and sums whose
// rounding depends on the order they are added in), compacts it as
// CloudWatch's retention schedule says, and checks that every GetMetricStatistics question AWS
// allows for those ages gets the same answer before and after, that data past 455 days is gone from
// the answers before and after, that far fewer aggregates remain, and that compacting again
// changes nothing.
func testCompactKeepsAnswers(t *testing.T, s metrics.Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	svc := metrics.NewService(s, func() time.Time { return now })
	m := metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}
	var batch []metrics.Sample
	for i := 0; i < 500*24*6; i++ { // every 10 minutes for 500 days
		ts := now.Add(-500*24*time.Hour + time.Duration(i)*10*time.Minute + time.Duration(i%7)*time.Second)
		switch {
		case i%11 == 0: // a default alone in its minute: counts as one datapoint
			smp := sample(m, ts, 0)
			smp.Default = true
			batch = append(batch, smp)
		case i%13 == 0: // a default beside a real sample: does not count
			smp := sample(m, ts, 0)
			smp.Default = true
			batch = append(batch, smp, sample(m, ts.Add(time.Second), float64(i%5)))
		case i%17 == 0: // another unit
			smp := sample(m, ts, float64(i%9))
			smp.Unit = "Count"
			batch = append(batch, smp)
		default: // fractions, so that the order sums are added up in shows
			batch = append(batch, sample(m, ts, float64(i%23)/10+0.1), sample(m, ts.Add(20*time.Second), float64(i%4)/3))
		}
		if len(batch) >= 5000 {
			add(t, s, batch...)
			batch = nil
		}
	}
	add(t, s, batch...)

	day := 24 * time.Hour
	questions := []struct {
		from, to time.Duration // ages of StartTime and EndTime
		period   int32
	}{
		{14 * day, 13 * day, 60},     // minutes: untouched
		{20 * day, 16 * day, 300},    // five-minute data
		{20 * day, 16 * day, 900},    // five-minute data, coarser period
		{40 * day, 0, 3600},          // five-minute data and minutes in one answer
		{100 * day, 64 * day, 3600},  // hours
		{300 * day, 64 * day, 86400}, // hours, by day
		{460 * day, 300 * day, 86400},
		// An EndTime inside a slot (found in review): the slot counts whole, compacted or not.
		{20 * day, 16*day - 7*time.Minute, 300},
		{100 * day, 64*day - 17*time.Minute, 3600},
	}
	answers := func() []string {
		var out []string
		f := func(p *float64) string {
			if p == nil {
				return "-"
			}
			return fmt.Sprint(*p)
		}
		for _, q := range questions {
			for _, in := range []metrics.GetMetricStatisticsInput{
				{Statistics: []string{"SampleCount", "Sum", "Minimum", "Maximum", "Average"}},
				{ExtendedStatistics: []string{"p50", "p99"}},
			} {
				start, end := now.Add(-q.from), now.Add(-q.to)
				in.Namespace, in.MetricName, in.StartTime, in.EndTime, in.Period = m.Namespace, m.MetricName, &start, &end, &q.period
				res, err := svc.GetMetricStatistics(ctx, scope, in)
				if err != nil {
					t.Fatalf("GetMetricStatistics %+v: %v", q, err)
				}
				if len(res.Datapoints) == 0 {
					t.Fatalf("GetMetricStatistics %+v: no datapoints; the question asks nothing", q)
				}
				for _, d := range res.Datapoints {
					if d.Timestamp.Before(now.Add(-metrics.ExpireAfter)) {
						t.Fatalf("datapoint at %v is past 455 days", d.Timestamp)
					}
					out = append(out, fmt.Sprintf("%d %v %s n=%s sum=%s min=%s max=%s avg=%s %v", q.period, d.Timestamp.Format(time.RFC3339), d.Unit,
						f(d.SampleCount), f(d.Sum), f(d.Minimum), f(d.Maximum), f(d.Average), d.ExtendedStatistics))
				}
			}
		}
		return out
	}
	stored := func() int {
		return len(query(t, s, scope, m, now.Add(-1000*day), now.Add(day)))
	}
	before, rowsBefore := answers(), stored()
	removed, err := svc.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, rowsAfter := answers(), stored()
	if len(before) != len(after) {
		t.Fatalf("%d datapoints before compaction, %d after", len(before), len(after))
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("datapoint %d changed:\nbefore %s\nafter  %s", i, before[i], after[i])
		}
	}
	if int(removed) != rowsBefore-rowsAfter || rowsAfter > rowsBefore/3 {
		t.Fatalf("compaction removed %d: %d stored aggregates before, %d after", removed, rowsBefore, rowsAfter)
	}
	if again, err := svc.Compact(ctx); err != nil || again != 0 {
		t.Fatalf("compacting again removed %d, %v", again, err)
	}
	t.Logf("%d aggregates -> %d; %d datapoints compared", rowsBefore, rowsAfter, len(before))
}
