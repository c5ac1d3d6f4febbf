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
	// StartTime is inclusive and EndTime exclusive, epoch ms. EndTime 0 means the filter's creation
	// time: the filter counted what arrived since, so a default backfill never counts twice.
	StartTime, EndTime int64
}

// BackfillOutput is what applying the filter to stored events produced.
type BackfillOutput struct {
	// Events counts the events examined; Skipped those of them stored after the filter was created,
	// which it counted when they arrived (see Backfiller.Add).
	Events, Skipped int
	Samples         []metrics.Sample
	// EndTime is the end the backfill used (the filter's creation time unless the input set one),
	// and CreationTime the filter's.
	EndTime, CreationTime int64
}

// Backfill applies one metric filter to the events stored in its group between StartTime and
// EndTime and returns the samples the filter would have published had it existed when they
// arrived ("Filters do not retroactively filter data" is AWS's behaviour; this is trailwatch's
// extension), aggregated by a Backfiller. The caller publishes them.
//
// The end defaults to the filter's creation time, and events stored after the filter was created
// are skipped whatever their timestamp (a CloudTrail record is delivered minutes after its
// eventTime), since the filter counted them live. An explicit EndTime later than the creation time
// is allowed: it reaches events stored before the filter with later timestamps.
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
	out := BackfillOutput{EndTime: in.EndTime, CreationTime: f.CreationTime}
	if out.EndTime == 0 {
		out.EndTime = f.CreationTime
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
// known (non-zero), is when the event was stored: an event stored after the filter's creation time
// was counted by the filter when it arrived and is skipped (an event stored in the very millisecond
// the filter was created is counted, since it may have been stored just before it).
func (b *Backfiller) Add(timestamp, ingestionTime int64, message []byte) {
	b.events++
	if ingestionTime != 0 && ingestionTime > b.f.CreationTime {
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
