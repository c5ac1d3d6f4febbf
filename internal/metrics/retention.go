package metrics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// CloudWatch's retention schedule for metric data (Amazon CloudWatch concepts, "Metrics retention"):
// one-minute data points are available for 15 days, five-minute ones for 63 days, one-hour ones for
// 455 days (15 months), each rolled up from the finer one as it ages out. GetMetricStatistics already
// applies the matching period rules by the age of StartTime (alignStart), which is what makes a
// rollup invisible to every query AWS allows.
const (
	FiveMinuteAfter = 15 * 24 * time.Hour
	HourAfter       = 63 * 24 * time.Hour
	ExpireAfter     = 455 * 24 * time.Hour
)

// Rollup is one compaction of stored metric data, as Service.Compact computes it from the clock: the
// minutes before FiveMinutesBefore are merged into five-minute slots, those before HoursBefore into
// hours, and those before DeleteBefore are deleted. Each cutoff is aligned to its slot.
type Rollup struct {
	FiveMinutesBefore time.Time
	HoursBefore       time.Time
	DeleteBefore      time.Time
}

// RollupAt is the compaction due at now.
func RollupAt(now time.Time) Rollup {
	now = now.UTC()
	return Rollup{
		FiveMinutesBefore: now.Add(-FiveMinuteAfter).Truncate(5 * time.Minute),
		HoursBefore:       now.Add(-HourAfter).Truncate(time.Hour),
		DeleteBefore:      now.Add(-ExpireAfter).Truncate(time.Hour),
	}
}

// view is what Compact would leave of raw, the stored aggregates of one metric: those past
// DeleteBefore dropped, those before FiveMinutesBefore rolled up into five-minute slots, then those
// before HoursBefore into hours, in the same steps (and so the same floating-point sums) as Compact.
// Reads use it, so that whether Compact has run yet never shows.
func (r Rollup) view(raw []Aggregate) []Aggregate {
	raw = slices.DeleteFunc(raw, func(a Aggregate) bool { return a.Time.Before(r.DeleteBefore) })
	if len(raw) == 0 || !raw[0].Time.Before(r.FiveMinutesBefore) { // sorted by time: nothing old
		return raw
	}
	for _, st := range r.Stages() {
		i := sort.Search(len(raw), func(i int) bool { return !raw[i].Time.Before(st.Before) })
		if i == 0 {
			continue
		}
		rolled, changed := RollUp(raw[:i], st.Slot)
		if changed {
			raw = append(rolled, raw[i:]...)
		}
	}
	return raw
}

// Stage is one step of a compaction: the aggregates before Before are rolled up into Slot-long
// slots.
type Stage struct {
	Before time.Time
	Slot   time.Duration
}

// Stages are r's steps in the order Compact must take them: five-minute slots first, then hours
// (which merge five-minute slots), so that an hour's sums are added up the same way whether its
// minutes aged into it one stage at a time or were compacted late, all at once.
func (r Rollup) Stages() []Stage {
	return []Stage{{r.FiveMinutesBefore, 5 * time.Minute}, {r.HoursBefore, time.Hour}}
}

// slotEnd is end, moved to the end of the slot it falls in when the data there is kept in slots: a
// slot starting before end is read whole.
func (r Rollup) slotEnd(end time.Time) time.Time {
	switch {
	case !end.After(r.HoursBefore):
		return ceil(end, time.Hour)
	case !end.After(r.FiveMinutesBefore):
		return ceil(end, 5*time.Minute)
	}
	return end
}

// ceil rounds t up to a multiple of d.
func ceil(t time.Time, d time.Duration) time.Time {
	if f := t.Truncate(d); f.Before(t) {
		return f.Add(d)
	}
	return t
}

// DropLateDefaults returns samples without the metric-filter defaults timestamped before
// RollupAt(now).FiveMinutesBefore, and how many it dropped. Data that old is kept in five-minute
// slots, where a default can no longer be weighed against the real samples of its own minute (it
// counts only when its minute has none), so storing one would make answers depend on whether
// Compact had run. Real samples merge the same in any grouping and are all kept. Only a backfill
// publishes samples that old (PutMetricData and log ingestion refuse timestamps older than 14 days).
func DropLateDefaults(samples []Sample, now time.Time) ([]Sample, int) {
	cutoff := RollupAt(now).FiveMinutesBefore
	kept := slices.DeleteFunc(slices.Clone(samples), func(s Sample) bool { return s.Default && s.Timestamp.Before(cutoff) })
	return kept, len(samples) - len(kept)
}

// RollUp merges the stored aggregates of one metric into one aggregate per (slot, unit), Time the slot's
// start, and reports whether anything changed. Defaults are resolved minute by minute first
// (ResolveDefaults), as a read would: a slot's aggregate then holds exactly the datapoints its minutes
// counted for, so any period that is a multiple of slot, aligned to it, reads the same statistics
// before and after. A slot already reduced to one aggregate per unit at its start, without a default,
// is left as it is, so rolling up again changes nothing.
//
// What is lost is the minute of each datapoint within its slot: a default stored later into a
// rolled-up slot would be weighed against the slot, not its minute, which is why the backfill does not
// publish defaults that old (DropLateDefaults).
func RollUp(aggs []Aggregate, slot time.Duration) ([]Aggregate, bool) {
	groups := map[time.Time][]Aggregate{}
	var order []time.Time
	for _, a := range aggs {
		s := a.Time.UTC().Truncate(slot)
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], a)
	}
	var out []Aggregate
	changed := false
	for _, s := range order {
		g := groups[s]
		if rolled(g, s) {
			out = append(out, g...)
			continue
		}
		changed = true
		byUnit := map[string]int{}
		for _, a := range ResolveDefaults(g) {
			i, ok := byUnit[a.Unit]
			if !ok {
				i = len(out)
				byUnit[a.Unit] = i
				out = append(out, Aggregate{Time: s, Unit: a.Unit})
			}
			out[i].Merge(&a)
		}
	}
	sortAggregates(out)
	return out, changed
}

// rolled reports whether g, the aggregates of slot s, is already one per unit at s without defaults.
func rolled(g []Aggregate, s time.Time) bool {
	units := map[string]bool{}
	for _, a := range g {
		if !a.Time.Equal(s) || a.HasDefault || units[a.Unit] {
			return false
		}
		units[a.Unit] = true
	}
	return true
}

// Compact rolls up and expires stored metric data as CloudWatch's retention schedule says
// (RollupAt), and returns how many stored aggregates it removed. The server runs it periodically;
// reads never depend on it having run (they apply the same cutoffs).
func (s *Service) Compact(ctx context.Context) (int64, error) {
	n, err := s.store.Compact(ctx, RollupAt(s.now()))
	if err != nil {
		return 0, fmt.Errorf("compact metric data: %w", err)
	}
	return n, nil
}
