package metrics

import (
	"math"
	"slices"
	"sort"
	"time"
)

// MaxDistinctValues caps the value distribution kept per aggregate. Metric-filter metrics publish a
// handful of distinct values (usually just 1), so the cap is never reached on the alerting path;
// a PutMetricData client that sends more distinct values than this in one minute of one metric and
// unit loses exact percentiles for that minute (the aggregate becomes Inexact and percentile
// statistics are omitted from any period containing it) while SampleCount, Sum, Minimum and Maximum
// stay exact.
const MaxDistinctValues = 1000

// ValueCount is one entry of a value distribution: Value occurred Count times.
type ValueCount struct {
	Value float64
	Count float64
}

// Aggregate is the statistics of one metric over one time slot (a stored minute, or a period bucket
// of a query) for one unit.
//
// Real samples and the metric filter's default value are kept apart: SampleCount, Sum, Minimum,
// Maximum and Dist describe real samples only, while HasDefault/DefaultValue remember that a default
// was published for the minute. ResolveDefaults decides, per minute and metric, whether the default
// counts (only when no real sample exists in that minute, in any unit), and turns it into exactly one
// datapoint.
type Aggregate struct {
	// Time is the start of the slot, in UTC.
	Time time.Time
	// Unit is the StandardUnit the values were published with; "" means None.
	Unit string

	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
	// Dist is the distribution of real values, sorted by Value, when known. It is what makes
	// percentiles exact.
	Dist []ValueCount
	// Inexact reports that Dist is incomplete: a statistic set with spread was merged in, or the
	// distribution outgrew MaxDistinctValues. Percentiles are then unavailable.
	Inexact bool

	HasDefault   bool
	DefaultValue float64
}

// AddSample folds one sample into a. A Default sample only sets the default (the first one wins, so a
// minute has at most one default datapoint); real samples update the statistics.
//
// A sample with a NaN or infinite value (or statistic set) is ignored: CloudWatch cannot store one
// (PutMetricData rejects it), and a metric filter extracting such a value must not make the log
// events it came with fail to store.
func (a *Aggregate) AddSample(s *Sample) {
	if !s.finite() {
		return
	}
	if s.Default {
		if !a.HasDefault {
			a.HasDefault = true
			a.DefaultValue = s.Value
		}
		return
	}
	if s.Stats != nil {
		st := s.Stats
		o := Aggregate{SampleCount: st.SampleCount, Sum: st.Sum, Minimum: st.Minimum, Maximum: st.Maximum}
		// CloudWatch can give percentiles for a statistic set only when its values are all equal.
		if st.SampleCount == 1 || st.Minimum == st.Maximum {
			o.Dist = []ValueCount{{Value: st.Minimum, Count: st.SampleCount}}
		} else {
			o.Inexact = true
		}
		a.mergeReal(&o)
		return
	}
	w := s.weight()
	if w <= 0 {
		return
	}
	v := s.Value
	if a.SampleCount <= 0 {
		a.SampleCount, a.Sum, a.Minimum, a.Maximum = w, v*w, v, v
		a.Dist = append(a.Dist[:0], ValueCount{Value: v, Count: w})
		a.Inexact = false
		return
	}
	a.SampleCount += w
	a.Sum += v * w
	a.Minimum = math.Min(a.Minimum, v)
	a.Maximum = math.Max(a.Maximum, v)
	if a.Inexact {
		return
	}
	a.Dist = mergeDist(a.Dist, []ValueCount{{Value: v, Count: w}})
	if len(a.Dist) > MaxDistinctValues {
		a.Inexact = true
		a.Dist = nil
	}
}

// Merge folds b into a: real statistics add up, and a's default is kept if it has one, otherwise b's
// is taken. Time and Unit of a are kept.
func (a *Aggregate) Merge(b *Aggregate) {
	a.mergeReal(b)
	if !a.HasDefault && b.HasDefault {
		a.HasDefault = true
		a.DefaultValue = b.DefaultValue
	}
}

func (a *Aggregate) mergeReal(b *Aggregate) {
	if b.SampleCount <= 0 {
		return
	}
	if a.SampleCount <= 0 {
		a.SampleCount, a.Sum, a.Minimum, a.Maximum = b.SampleCount, b.Sum, b.Minimum, b.Maximum
		a.Dist = slices.Clone(b.Dist)
		a.Inexact = b.Inexact
		return
	}
	a.SampleCount += b.SampleCount
	a.Sum += b.Sum
	a.Minimum = math.Min(a.Minimum, b.Minimum)
	a.Maximum = math.Max(a.Maximum, b.Maximum)
	if a.Inexact || b.Inexact {
		a.Inexact = true
		a.Dist = nil
		return
	}
	a.Dist = mergeDist(a.Dist, b.Dist)
	if len(a.Dist) > MaxDistinctValues {
		a.Inexact = true
		a.Dist = nil
	}
}

// mergeDist merges two sorted distributions.
func mergeDist(x, y []ValueCount) []ValueCount {
	if len(y) == 0 {
		return x
	}
	if len(y) == 1 {
		// The common case (one value per sample): binary search and insert in place.
		v := y[0]
		i := sort.Search(len(x), func(i int) bool { return x[i].Value >= v.Value })
		if i < len(x) && x[i].Value == v.Value {
			x[i].Count += v.Count
			return x
		}
		return slices.Insert(x, i, v)
	}
	out := make([]ValueCount, 0, len(x)+len(y))
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i].Value < y[j].Value:
			out = append(out, x[i])
			i++
		case x[i].Value > y[j].Value:
			out = append(out, y[j])
			j++
		default:
			out = append(out, ValueCount{Value: x[i].Value, Count: x[i].Count + y[j].Count})
			i++
			j++
		}
	}
	out = append(out, x[i:]...)
	return append(out, y[j:]...)
}

// HasData reports whether a holds at least one real sample.
func (a *Aggregate) HasData() bool { return a.SampleCount > 0 }

// ResolveDefaults applies the metric-filter default rule to the stored minutes of one metric and
// returns only datapoints that count, sorted by time then unit:
//
//   - a minute with at least one real sample (in any unit) keeps its real samples and drops every
//     default;
//   - a minute with no real sample but a default becomes exactly one datapoint of the default value
//     (SampleCount 1); if defaults were stored under several units, the smallest unit name wins so
//     the choice is deterministic;
//   - a minute with neither is dropped.
//
// The input aggregates must all belong to the same metric; their order does not matter.
func ResolveDefaults(aggs []Aggregate) []Aggregate {
	sorted := slices.Clone(aggs)
	sortAggregates(sorted)
	out := make([]Aggregate, 0, len(sorted))
	for i := 0; i < len(sorted); {
		j := i
		real := false
		for j < len(sorted) && sorted[j].Time.Equal(sorted[i].Time) {
			real = real || sorted[j].HasData()
			j++
		}
		if real {
			for _, a := range sorted[i:j] {
				if a.HasData() {
					a.HasDefault, a.DefaultValue = false, 0
					out = append(out, a)
				}
			}
		} else {
			for _, a := range sorted[i:j] {
				if a.HasDefault {
					v := a.DefaultValue
					out = append(out, Aggregate{Time: a.Time, Unit: a.Unit, SampleCount: 1, Sum: v,
						Minimum: v, Maximum: v, Dist: []ValueCount{{Value: v, Count: 1}}})
					break
				}
			}
		}
		i = j
	}
	return out
}

// Value returns the statistic st of a. ok is false when a has no data, or when st is a percentile
// that cannot be computed: the distribution is inexact, or a value is negative ("Percentile
// statistics are not available for metrics when any of the metric values are negative numbers",
// GetMetricStatistics API reference).
func (a *Aggregate) Value(st Stat) (v float64, ok bool) {
	if !a.HasData() {
		return 0, false
	}
	switch st.kind {
	case statSum:
		return a.Sum, true
	case statAverage:
		return a.Sum / a.SampleCount, true
	case statMinimum:
		return a.Minimum, true
	case statMaximum:
		return a.Maximum, true
	case statSampleCount:
		return a.SampleCount, true
	case statPercentile:
		if a.Inexact || len(a.Dist) == 0 || a.Minimum < 0 {
			return 0, false
		}
		return percentile(a.Dist, st.p), true
	}
	return 0, false
}

// percentile is the nearest-rank percentile of a sorted distribution: the smallest value v such that
// at least p percent of the samples are less than or equal to v (p0 is the minimum, p100 the
// maximum). CloudWatch documents pNN as "NN percent of the data within the period is lower than this
// value" but not its interpolation; nearest rank always answers a value that was actually published,
// which is what a threshold on metric-filter counts expects.
func percentile(dist []ValueCount, p float64) float64 {
	var total float64
	for _, vc := range dist {
		total += vc.Count
	}
	rank := math.Ceil(p / 100 * total)
	if rank < 1 {
		rank = 1
	}
	var cum float64
	for _, vc := range dist {
		cum += vc.Count
		if cum >= rank {
			return vc.Value
		}
	}
	return dist[len(dist)-1].Value
}

// sortAggregates orders aggregates by time, then unit.
func sortAggregates(aggs []Aggregate) {
	slices.SortStableFunc(aggs, func(a, b Aggregate) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		switch {
		case a.Unit < b.Unit:
			return -1
		case a.Unit > b.Unit:
			return 1
		}
		return 0
	})
}
