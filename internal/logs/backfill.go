package logs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// BackfillInput selects the events a metric filter is applied to after the fact.
type BackfillInput struct {
	LogGroupName, FilterName string
	// StartTime is inclusive and EndTime exclusive, epoch ms. EndTime 0 means DefaultEnd: the filter
	// counted what arrived since it went live, so a default backfill never counts twice.
	StartTime, EndTime int64
}

// BackfillOutput is what applying the filter to stored events produced.
type BackfillOutput struct {
	// Events counts the events examined; Skipped those of them the filter counted when they arrived
	// (MetricFilter.CountedLive, see Backfiller.Add).
	Events, Skipped int
	Samples         []metrics.Sample
	// EndTime is the end the backfill used (DefaultEnd unless the input set one); CreationTime,
	// LiveSince, PausedFrom and PausedUntil are the filter's.
	EndTime, CreationTime, LiveSince, PausedFrom, PausedUntil int64
}

// DefaultEnd is the end (exclusive, epoch ms) of a backfill of f over stored events when none is
// given: the time since which f has been live (MetricFilter.LiveSince), or the end of its paused
// period when it has one, so that the events stored while it was disabled are reached. Events
// stored while f was live are skipped whatever their timestamps (CountedLive), so the later end
// counts nothing twice. For events without an ingestion time (records read from files) only
// LiveSince is a safe end.
func DefaultEnd(f MetricFilter) int64 {
	return max(f.liveSince(), f.PausedUntil)
}

// Backfill applies one metric filter to the events stored in its group between StartTime and
// EndTime and returns the samples the filter would have published had it existed when they
// arrived ("Filters do not retroactively filter data" is AWS's behaviour; this is trailwatch's
// extension), aggregated by a Backfiller. The caller publishes them.
//
// The end defaults to DefaultEnd, and events the filter counted live (stored after it went live
// with its current definition, outside its paused period: MetricFilter.CountedLive) are skipped
// whatever their timestamp (a CloudTrail record is delivered minutes after its eventTime). An
// explicit later EndTime is allowed: it reaches events stored before the filter with later
// timestamps.
func (s *Service) Backfill(ctx context.Context, sc Scope, in BackfillInput) (BackfillOutput, error) {
	filters, err := s.store.ListMetricFilters(ctx, sc, FilterQuery{LogGroupName: in.LogGroupName, FilterNamePrefix: in.FilterName})
	if err != nil {
		return BackfillOutput{}, storeErr("list metric filters", err)
	}
	var f *MetricFilter
	for i := range filters {
		if filters[i].FilterName == in.FilterName {
			f = &filters[i]
		}
	}
	if f == nil {
		return BackfillOutput{}, &Error{CodeResourceNotFound, "The specified metric filter does not exist."}
	}
	b, err := NewBackfiller(sc, *f)
	if err != nil {
		return BackfillOutput{}, err
	}
	out := BackfillOutput{EndTime: in.EndTime, CreationTime: f.CreationTime, LiveSince: f.liveSince(),
		PausedFrom: f.PausedFrom, PausedUntil: f.PausedUntil}
	if out.EndTime == 0 {
		out.EndTime = DefaultEnd(*f)
	}
	if in.StartTime < out.EndTime {
		err = s.store.ScanEvents(ctx, sc, EventQuery{LogGroupName: in.LogGroupName, StartTime: in.StartTime, EndTime: out.EndTime}, func(e Event) bool {
			b.Add(e.Timestamp, e.IngestionTime, bytesOf(e.Message))
			return ctx.Err() == nil
		})
		if err != nil {
			return BackfillOutput{}, storeErr("scan log events", err)
		}
		if err := ctx.Err(); err != nil {
			return BackfillOutput{}, err
		}
	}
	out.Events, out.Skipped, out.Samples = b.Events(), b.Skipped(), b.Samples()
	return out, nil
}

// Backfiller applies one metric filter to events after the fact and aggregates what the filter
// would have published. It is the one implementation of backfill aggregation: the server
// (Service.Backfill, over stored events) and the trailwatch backfill command (over FilterLogEvents
// pages or CloudTrail files) both use it, so they publish the same datapoints for the same events.
//
// Matches are aggregated per minute, dimension set and value into weighted samples (Value, Count),
// which keeps every statistic, percentiles included, while a busy minute costs one sample per
// distinct value. A filter with a defaultValue yields it, marked Default, for each minute in which
// events were examined but none matched, over the whole run (as the filter does per batch at
// ingestion). Dimension cardinality is not limited: a backfill is an explicit request.
type Backfiller struct {
	sc      Scope
	f       MetricFilter
	cf      *pattern.Filter
	r       pattern.Result
	aggs    map[backfillKey]*backfillAgg
	minutes map[int64]bool // minutes with events examined
	matched map[int64]bool // minutes with a match
	events  int
	skipped int
}

type backfillKey struct {
	minute int64
	dims   string // the dimension pairs, NUL-separated
	value  float64
}

type backfillAgg struct {
	dims  []metrics.Dimension
	count float64
}

// NewBackfiller compiles f for a backfill in scope sc (which only labels the samples).
func NewBackfiller(sc Scope, f MetricFilter) (*Backfiller, error) {
	cf, err := pattern.CompileFilter(f.FilterPattern, transformation(f.Transformation))
	if err != nil {
		return nil, fmt.Errorf("compile metric filter: %w", err)
	}
	return &Backfiller{sc: sc, f: f, cf: cf, aggs: map[backfillKey]*backfillAgg{}, minutes: map[int64]bool{}, matched: map[int64]bool{}}, nil
}

// Add applies the filter to one event; message is only read during the call. ingestionTime, when
// known (non-zero), is when the event was stored: an event the filter counted when it arrived
// (MetricFilter.CountedLive: stored after its LiveSince, outside its paused period) is skipped.
func (b *Backfiller) Add(timestamp, ingestionTime int64, message []byte) {
	b.events++
	if ingestionTime != 0 && b.f.CountedLive(ingestionTime) {
		b.skipped++
		return
	}
	m := minuteMillis(timestamp)
	b.minutes[m] = true
	if !b.cf.Eval(message, &b.r) {
		return
	}
	b.matched[m] = true
	if !b.r.Publish {
		return
	}
	var sb strings.Builder
	for _, d := range b.r.Dimensions {
		sb.WriteString(d.Name)
		sb.WriteByte(0)
		sb.WriteString(d.Value)
		sb.WriteByte(0)
	}
	k := backfillKey{m, sb.String(), b.r.Value}
	a := b.aggs[k]
	if a == nil {
		a = &backfillAgg{dims: dimensions(b.r.Dimensions)}
		b.aggs[k] = a
	}
	a.count++
}

// Events counts the events passed to Add; Skipped those of them counted live.
func (b *Backfiller) Events() int { return b.events }

// Skipped counts the events Add skipped because the filter counted them when they arrived.
func (b *Backfiller) Skipped() int { return b.skipped }

// Samples returns what the filter would have published, ordered by minute, dimensions and value,
// defaults after the matches of their minute. Each sample's Timestamp is its minute and Count the
// number of matches with that value.
func (b *Backfiller) Samples() []metrics.Sample {
	t := b.f.Transformation
	keys := make([]backfillKey, 0, len(b.aggs))
	for k := range b.aggs {
		keys = append(keys, k)
	}
	if t.DefaultValue != nil {
		for m := range b.minutes {
			if !b.matched[m] {
				keys = append(keys, backfillKey{minute: m})
			}
		}
	}
	slices.SortFunc(keys, func(x, y backfillKey) int {
		return cmp.Or(cmp.Compare(x.minute, y.minute), strings.Compare(x.dims, y.dims), cmp.Compare(x.value, y.value))
	})
	out := make([]metrics.Sample, 0, len(keys))
	for _, k := range keys {
		smp := metrics.Sample{AccountID: b.sc.AccountID, Region: b.sc.Region, Namespace: t.MetricNamespace, MetricName: t.MetricName,
			Unit: t.Unit, Timestamp: millisTime(k.minute)}
		if a := b.aggs[k]; a != nil {
			smp.Dimensions, smp.Value, smp.Count = a.dims, k.value, a.count
		} else {
			smp.Value, smp.Default = *t.DefaultValue, true
		}
		out = append(out, smp)
	}
	return out
}
