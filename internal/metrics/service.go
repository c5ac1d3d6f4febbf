package metrics

import (
	"context"
	"fmt"
	"time"
)

// Store is the persistence the metrics service needs. Implementations keep one aggregate per
// (scope, metric, minute, unit), built with Aggregate.AddSample/Merge so that the statistics and the
// default-value bookkeeping are the same in every backend; internal/metrics/metricstest is the
// conformance suite.
type Store interface {
	// AddSamples stores samples (each carries its own account and region), truncating each
	// timestamp to its minute. It is atomic: on error nothing is stored.
	AddSamples(ctx context.Context, samples []Sample) error
	// ListMetrics returns, in a stable order, up to q.Limit metrics of scope matching q, and a cursor
	// for the next page ("" when there is none). A cursor the store did not produce yields an error
	// wrapping ErrInvalidCursor.
	ListMetrics(ctx context.Context, scope Scope, q ListQuery) (metrics []Metric, next string, err error)
	// QueryAggregates returns the stored minute aggregates of exactly metric m (same namespace, name
	// and dimension set) whose minute start lies in [start, end), in every unit, each with the real
	// statistics and the default bookkeeping as stored, ordered by minute then unit.
	QueryAggregates(ctx context.Context, scope Scope, m Metric, start, end time.Time) ([]Aggregate, error)
	// Compact applies r to every metric of every scope: it deletes the aggregates before
	// r.DeleteBefore, replaces those before each of r.Stages(), in that order, with RollUp's, and
	// returns how many stored aggregates are gone.
	Compact(ctx context.Context, r Rollup) (int64, error)
}

// ListQuery selects metrics for Store.ListMetrics. Empty strings match anything.
type ListQuery struct {
	Namespace  string
	MetricName string
	Dimensions []DimensionFilter
	// ActiveSince excludes metrics whose newest datapoint timestamp is before it.
	ActiveSince time.Time
	// After is the cursor returned with the previous page, or "".
	After string
	// Limit is the page size; it is always positive.
	Limit int
}

// Service implements the CloudWatch metric operations on top of a Store.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store; now is the clock (nil means time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// AggregateQuery asks for the statistics of one metric over [Start, End) in buckets of Period
// seconds aligned on Start, the shape of question an alarm evaluation asks.
type AggregateQuery struct {
	Metric Metric
	Start  time.Time
	End    time.Time
	// Period is the bucket length in seconds; it must be positive.
	Period int
	// Unit, when set, keeps only data published with that unit ("None" matches data published
	// without one). When empty, data of every unit is merged into one series.
	Unit string
}

// Aggregates answers an AggregateQuery: one Aggregate per period bucket that has data (Time is the
// bucket start), oldest first, with metric-filter defaults already resolved. Empty buckets are
// absent, which is how an alarm sees missing data. Call Aggregate.Value to get a statistic.
//
// Unlike GetMetricStatistics, no API validation or start-time rounding is applied: the caller (the
// alarm engine) picks aligned windows itself.
func (s *Service) Aggregates(ctx context.Context, scope Scope, q AggregateQuery) ([]Aggregate, error) {
	if q.Period <= 0 {
		return nil, fmt.Errorf("aggregate metric: period %d is not positive", q.Period)
	}
	if !q.Start.Before(q.End) {
		return nil, nil
	}
	return s.buckets(ctx, scope, q.Metric, q.Start, q.End, q.Period, q.Unit, false)
}

// buckets loads the minutes of m in [start, end), resolves defaults, and folds them into period
// buckets aligned on start. With splitUnits each unit gets its own aggregates (GetMetricStatistics
// without Unit returns one datapoint per unit); otherwise units are merged.
func (s *Service) buckets(ctx context.Context, scope Scope, m Metric, start, end time.Time, period int, unit string, splitUnits bool) ([]Aggregate, error) {
	// Data is stored per minute, or per slot once old enough (Rollup); a minute or slot belongs to
	// the bucket that contains its start. Old data is read as Compact stores it (Rollup.view), so
	// that an answer never depends on whether Compact has run: a slot that starts before end counts
	// whole, as in CloudWatch, whose older data only exists in slots.
	r := RollupAt(s.now())
	raw, err := s.store.QueryAggregates(ctx, scope, m.Normalized(), start, r.slotEnd(end))
	if err != nil {
		return nil, fmt.Errorf("query metric aggregates: %w", err)
	}
	minutes := ResolveDefaults(r.view(raw))
	if unit != "" {
		unit = NormalizeUnit(unit)
	}
	p := time.Duration(period) * time.Second
	type key struct {
		idx  int64
		unit string
	}
	index := map[key]int{}
	var out []Aggregate
	for i := range minutes {
		a := &minutes[i]
		if a.Time.Before(start) || !a.Time.Before(end) {
			continue
		}
		u := NormalizeUnit(a.Unit)
		if unit != "" && u != unit {
			continue
		}
		k := key{idx: int64(a.Time.Sub(start) / p)}
		if splitUnits {
			k.unit = u
		}
		j, ok := index[k]
		if !ok {
			j = len(out)
			index[k] = j
			b := Aggregate{Time: start.Add(time.Duration(k.idx) * p).UTC(), Unit: u}
			out = append(out, b)
		}
		// When units are merged the bucket reports the first unit seen.
		out[j].Merge(a)
	}
	sortAggregates(out)
	return out, nil
}
