package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// CloudWatch Logs disables a metric filter whose dimensions generate too many distinct values. The
// PutMetricFilter API reference: "CloudWatch Logs might disable a metric filter if it generates 1,000
// different name/value pairs for your specified dimensions within one hour"; the CloudFormation
// reference (AWS::Logs::MetricFilter Dimension): "Amazon disables a metric filter if it generates
// 1000 different name/value pairs for the dimensions that you have specified within a certain amount
// of time" (also filter-patterns.md, "High cardinality"). Neither says whether the 1,000th pair
// itself trips it; trailwatch reads the limit as 1,000 pairs allowed (the "more than 1,000"):
// the sample that would make the 1,001st distinct pair within the last hour is not published and
// the filter is disabled, the 1,000th still counts. AWS's API has no member for the disabled state;
// see FilterStatus.
const (
	maxDimensionPairs = 1000
	dimensionWindow   = 60 * 60 * 1000 // ms
)

// filterKey identifies one version of a metric filter: PutMetricFilter replaces a filter with a new
// creation time, which starts its count afresh.
type filterKey struct {
	scope        Scope
	group, name  string
	creationTime int64
}

// dimLimit counts the distinct dimension name/value pairs one metric filter generated within the
// last hour, by the server's clock (the rate at which the filter creates metrics, whatever the
// events' own timestamps). It keeps at most maxDimensionPairs pairs with the time each was last
// generated; pairs not generated for an hour are dropped when room is needed. It is shared by the
// group states loaded for the filter, so a reload does not restart the count.
type dimLimit struct {
	mu       sync.Mutex
	seen     map[metrics.Dimension]int64
	disabled bool
}

// admit records the dimension pairs of one sample generated at now (epoch ms) and reports whether
// the sample may be published. trip is true for the one call that disables the filter.
func (d *dimLimit) admit(dims []pattern.DimensionValue, now int64) (ok, trip bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.disabled {
		return false, false
	}
	if d.seen == nil {
		d.seen = make(map[metrics.Dimension]int64)
	}
	if len(d.seen)+d.fresh(dims) > maxDimensionPairs {
		for k, t := range d.seen {
			if t <= now-dimensionWindow {
				delete(d.seen, k)
			}
		}
		if len(d.seen)+d.fresh(dims) > maxDimensionPairs {
			d.disabled, d.seen = true, nil
			return false, true
		}
	}
	for _, p := range dims {
		d.seen[metrics.Dimension{Name: p.Name, Value: p.Value}] = now
	}
	return true, false
}

// fresh counts the pairs of dims not seen yet. A filter's dimension names are distinct, so its
// pairs are too.
func (d *dimLimit) fresh(dims []pattern.DimensionValue) int {
	n := 0
	for _, p := range dims {
		if _, ok := d.seen[metrics.Dimension{Name: p.Name, Value: p.Value}]; !ok {
			n++
		}
	}
	return n
}

// isDisabled reports whether the limit has disabled the filter.
func (d *dimLimit) isDisabled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.disabled
}

// limitsFor returns the dimension limits of a group's filters (parallel to filters; nil for a filter
// without dimensions), reusing those of filters already tracked, and forgets the limits of the
// group's filters that are gone or replaced.
func (s *Service) limitsFor(sc Scope, group string, filters []MetricFilter) []*dimLimit {
	out := make([]*dimLimit, len(filters))
	keep := make(map[filterKey]bool, len(filters))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range filters {
		if len(f.Transformation.Dimensions) == 0 {
			continue
		}
		k := filterKey{sc, group, f.FilterName, f.CreationTime}
		keep[k] = true
		if s.limits[k] == nil {
			s.limits[k] = &dimLimit{}
		}
		out[i] = s.limits[k]
	}
	for k := range s.limits {
		if k.scope == sc && k.group == group && !keep[k] {
			delete(s.limits, k)
		}
	}
	return out
}

// dropLimits forgets the dimension limits of a deleted group's filters.
func (s *Service) dropLimits(sc Scope, group string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.limits {
		if k.scope == sc && k.group == group {
			delete(s.limits, k)
		}
	}
}

// disable records that the dimension limit disabled filters (indexes into st.filters): the store
// keeps the state, so it survives a restart, and the log says so once. A failure to store it is
// logged; the filter stays disabled in this process either way.
func (s *Service) disable(ctx context.Context, sc Scope, group string, st *groupState, tripped []int, now int64) {
	for _, i := range tripped {
		f := st.filters[i]
		reason := fmt.Sprintf("its dimensions generated more than %d different name/value pairs within one hour", maxDimensionPairs)
		status := FilterStatus{State: FilterStateDisabled, Reason: reason, Time: now}
		s.logger().LogAttrs(ctx, slog.LevelWarn, "metric filter disabled: "+reason+"; PutMetricFilter enables it again",
			slog.String("account", sc.AccountID), slog.String("region", sc.Region),
			slog.String("logGroup", group), slog.String("filter", f.FilterName))
		err := s.store.DisableMetricFilter(ctx, sc, group, f.FilterName, f.CreationTime, status)
		if err != nil && !errors.Is(err, context.Canceled) {
			s.logger().LogAttrs(ctx, slog.LevelError, "store disabled metric filter", slog.String("logGroup", group),
				slog.String("filter", f.FilterName), slog.Any("error", err))
		}
	}
}

// logger returns the service's Logger, or one that discards.
func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
