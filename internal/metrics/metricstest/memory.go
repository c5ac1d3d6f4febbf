package metricstest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Memory is an in-memory metrics.Store: the reference implementation the conformance suite is
// checked against, and a fast store for the domain's own tests. Its zero value is not usable; call
// NewMemory.
type Memory struct {
	mu     sync.Mutex
	series []*memSeries
	index  map[string]int // scope + metric key -> position in series (cursor = position + 1)
}

type memSeries struct {
	scope   metrics.Scope
	metric  metrics.Metric
	lastTS  time.Time
	minutes map[memMinute]*metrics.Aggregate
}

type memMinute struct {
	minute int64
	unit   string
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{index: map[string]int{}} }

var _ metrics.Store = (*Memory)(nil)

func memKey(sc metrics.Scope, m metrics.Metric) string {
	return sc.AccountID + "\x00" + sc.Region + "\x00" + m.Key()
}

// AddSamples implements metrics.Store.
func (s *Memory) AddSamples(_ context.Context, samples []metrics.Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range samples {
		smp := &samples[i]
		var probe metrics.Aggregate
		if probe.AddSample(smp); !probe.HasData() && !probe.HasDefault {
			continue // ignored sample (non-finite): it must not create the metric
		}
		k := memKey(smp.Scope(), smp.Metric())
		pos, ok := s.index[k]
		if !ok {
			pos = len(s.series)
			s.index[k] = pos
			s.series = append(s.series, &memSeries{scope: smp.Scope(), metric: smp.Metric().Normalized(),
				lastTS: smp.Timestamp, minutes: map[memMinute]*metrics.Aggregate{}})
		}
		sr := s.series[pos]
		if smp.Timestamp.After(sr.lastTS) {
			sr.lastTS = smp.Timestamp
		}
		t := smp.Timestamp.UTC().Truncate(time.Minute)
		mk := memMinute{minute: t.Unix(), unit: metrics.NormalizeUnit(smp.Unit)}
		a := sr.minutes[mk]
		if a == nil {
			a = &metrics.Aggregate{Time: t, Unit: mk.unit}
			sr.minutes[mk] = a
		}
		a.AddSample(smp)
	}
	return nil
}

// ListMetrics implements metrics.Store; the cursor is a position in creation order.
func (s *Memory) ListMetrics(_ context.Context, scope metrics.Scope, q metrics.ListQuery) ([]metrics.Metric, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := 0
	if q.After != "" {
		n, err := strconv.Atoi(q.After)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("list metrics: %w", metrics.ErrInvalidCursor)
		}
		from = n
	}
	var out []metrics.Metric
	for i := from; i < len(s.series); i++ {
		sr := s.series[i]
		m := sr.metric
		if sr.scope != scope || (q.Namespace != "" && m.Namespace != q.Namespace) ||
			(q.MetricName != "" && m.MetricName != q.MetricName) || sr.lastTS.Before(q.ActiveSince) ||
			!m.MatchesFilters(q.Dimensions) {
			continue
		}
		if len(out) == q.Limit {
			return out, strconv.Itoa(i), nil
		}
		out = append(out, m)
	}
	return out, "", nil
}

// QueryAggregates implements metrics.Store.
func (s *Memory) QueryAggregates(_ context.Context, scope metrics.Scope, m metrics.Metric, start, end time.Time) ([]metrics.Aggregate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pos, ok := s.index[memKey(scope, m)]
	if !ok {
		return nil, nil
	}
	var out []metrics.Aggregate
	for _, a := range s.series[pos].minutes {
		if a.Time.Before(start) || !a.Time.Before(end) {
			continue
		}
		c := *a
		c.Dist = append([]metrics.ValueCount(nil), a.Dist...)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b metrics.Aggregate) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Unit, b.Unit)
	})
	return out, nil
}

// Compact implements metrics.Store.
func (s *Memory) Compact(_ context.Context, r metrics.Rollup) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var removed int64
	for _, sr := range s.series {
		before := len(sr.minutes)
		for mk, a := range sr.minutes {
			if a.Time.Before(r.DeleteBefore) {
				delete(sr.minutes, mk)
			}
		}
		for _, stage := range r.Stages() {
			var old []metrics.Aggregate
			for mk, a := range sr.minutes {
				if a.Time.Before(stage.Before) {
					old = append(old, *a)
					delete(sr.minutes, mk)
				}
			}
			rolled, _ := metrics.RollUp(old, stage.Slot)
			for i := range rolled {
				a := rolled[i]
				sr.minutes[memMinute{minute: a.Time.Unix(), unit: a.Unit}] = &a
			}
		}
		removed += int64(before - len(sr.minutes))
	}
	return removed, nil
}
