package alarm

import (
	"context"
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// futureSlack bounds how far in the future a datapoint may be stamped (PutMetricData and
// PutLogEvents both reject more than two hours), plus a margin.
const futureSlack = 2*time.Hour + 10*time.Minute

// highResStep is the evaluation interval of alarms with periods below a minute [§1.4].
const highResStep = 10 * time.Second

// Run is the scheduler. It evaluates every alarm once at start (catching up on anything a crash
// interrupted: a transition either committed with its actions or is recomputed now), then runs a
// regular round at every minute boundary (and every 10 s for alarms with periods below a
// minute), and early evaluations whenever OnSamples or OnMetricData report new datapoints. It
// returns when ctx is cancelled.
func (s *Service) Run(ctx context.Context) error {
	s.Round(ctx, s.now(), false)
	s.earlyAll(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				s.drainDirty(ctx)
			}
		}
	}()
	defer func() { <-done }()
	for {
		now := s.now()
		next := now.Truncate(highResStep).Add(highResStep)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		at := s.now()
		if at.Before(next) {
			at = next // a timer may fire a hair early by the wall clock
		}
		s.Round(ctx, at, at.Truncate(time.Minute) != at.Truncate(highResStep))
	}
}

// TakeOver is what a replica that has just gained the evaluation lease (Leader) runs, as Run does
// at start: a regular round, then an early evaluation of every metric alarm. The early pass matters:
// datapoints stored while no replica held the lease fall in the current minute, outside the regular
// round's window, and their early marks were dropped by the replicas that heard of them (they do not
// evaluate), so without it they would wait for the round after the next minute boundary.
func (s *Service) TakeOver(ctx context.Context) {
	s.Round(ctx, s.now(), false)
	s.earlyAll(ctx)
}

// Round is one regular evaluation round at now: every metric alarm is evaluated with Evaluate
// (only high-resolution ones when highResOnly), transitions applied, and composites whose
// suppression may have ended re-checked. It returns the number of transitions.
func (s *Service) Round(ctx context.Context, now time.Time, highResOnly bool) int {
	if s.Leader != nil {
		if _, ok := s.Leader.Fence(); !ok {
			return 0 // another replica runs the rounds, composites' suppression included
		}
	}
	s.mu.RLock()
	entries := make([]*entry, 0, len(s.alarms))
	for _, e := range s.alarms {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		r := e.rec.Load()
		if r == nil {
			continue
		}
		if r.Metric != nil {
			if highResOnly && r.Metric.PeriodSeconds() >= 60 {
				continue
			}
			changed, err := s.evaluate(ctx, e, now, false)
			s.report(err)
			if changed {
				n++
			}
		} else if r.ActionsWaiting && !highResOnly {
			e.mu.Lock()
			s.report(s.releaseSuppressed(ctx, e, now))
			e.mu.Unlock()
		}
	}
	return n
}

// OnSamples is the hook for logs.Service.OnSamples and PutMetricData: it marks the samples'
// metrics for an early evaluation and returns at once.
func (s *Service) OnSamples(samples []metrics.Sample) {
	if len(samples) == 0 {
		return
	}
	var keys []string
	for i := range samples {
		sm := &samples[i]
		k := sampleKey(sm.AccountID, sm.Region, sm.Metric())
		if len(keys) == 0 || keys[len(keys)-1] != k {
			keys = append(keys, k)
		}
	}
	s.markDirty(keys)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// OnMetricData is OnSamples for callers that know only the metrics written (PutMetricData).
func (s *Service) OnMetricData(scope metrics.Scope, ms []metrics.Metric) {
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = sampleKey(scope.AccountID, scope.Region, m)
	}
	s.markDirty(keys)
}

// markDirty records new data on the metrics keys: it drops their "no data" cache entries and
// queues their alarms for an early evaluation.
func (s *Service) markDirty(keys []string) {
	s.emptyMu.Lock()
	s.gen++
	for _, k := range keys {
		delete(s.empty, k)
	}
	s.emptyMu.Unlock()
	s.dirtyMu.Lock()
	for _, k := range keys {
		s.dirty[k] = struct{}{}
	}
	s.dirtyMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drainDirty runs the early evaluations of the alarms on the metrics marked dirty.
func (s *Service) drainDirty(ctx context.Context) {
	for {
		s.dirtyMu.Lock()
		if len(s.dirty) == 0 {
			s.dirtyMu.Unlock()
			return
		}
		dirty := s.dirty
		s.dirty = map[string]struct{}{}
		s.dirtyMu.Unlock()
		var entries []*entry
		s.mu.RLock()
		for mk := range dirty {
			for k := range s.byMetric[mk] {
				entries = append(entries, s.alarms[k])
			}
		}
		s.mu.RUnlock()
		for _, e := range entries {
			if e == nil {
				continue
			}
			_, err := s.evaluate(ctx, e, s.now(), true)
			s.report(err)
		}
	}
}

// earlyAll runs an early evaluation of every metric alarm.
func (s *Service) earlyAll(ctx context.Context) {
	s.mu.RLock()
	entries := make([]*entry, 0, len(s.alarms))
	for _, e := range s.alarms {
		entries = append(entries, e)
	}
	s.mu.RUnlock()
	for _, e := range entries {
		if r := e.rec.Load(); r != nil && r.Metric != nil {
			_, err := s.evaluate(ctx, e, s.now(), true)
			s.report(err)
		}
	}
}

// evaluateMetric is evaluate for callers that only need the error.
func (s *Service) evaluateMetric(ctx context.Context, e *entry, now time.Time, early bool) error {
	_, err := s.evaluate(ctx, e, now, early)
	return err
}

// evaluate evaluates a metric alarm at now: regularly (Evaluate over the window ending at the
// current evaluation minute) or early (EvaluateEarly over the window of the next regular
// evaluation, applied only when final). A transition is applied and composites referencing the
// alarm re-evaluated.
func (s *Service) evaluate(ctx context.Context, e *entry, now time.Time, early bool) (changed bool, err error) {
	if s.OnEvaluated != nil {
		start := s.now()
		defer func() { s.OnEvaluated(early, s.now().Sub(start), err) }()
	}
	var fence *Fence
	if s.Leader != nil {
		f, ok := s.Leader.Fence()
		if !ok {
			return false, nil // another replica evaluates
		}
		fence = &f
	}
	e.mu.Lock()
	rec := e.rec.Load()
	if rec == nil || rec.Metric == nil {
		e.mu.Unlock()
		return false, nil
	}
	a := rec.Metric
	if _, ok := alarmMetric(a); !ok && !a.WatchesExpression() {
		// No query returns data (an alarm stored by a version that did not validate it): there
		// is nothing to judge, so it keeps its state rather than being judged on no data.
		e.mu.Unlock()
		return false, nil
	}
	if !early && now.Before(rec.HeldUntil) {
		// A SetAlarmState holds until the next minute boundary's round.
		e.mu.Unlock()
		return false, nil
	}
	at := now
	if early {
		at = a.NextEvaluation(now)
	}
	start, end := a.Range(at)
	// A window older than the state's deciding evaluation, or ending before the configuration
	// existed, is one AWS never evaluated after what the alarm already shows.
	if end.Before(rec.DecidedThrough) || end.Before(rec.ConfigUpdated) {
		e.mu.Unlock()
		return false, nil
	}
	points, nonNeg, err := s.points(ctx, rec, start, end)
	if err != nil {
		e.mu.Unlock()
		return false, fmt.Errorf("evaluate alarm %q: %w", rec.Name, err)
	}
	var res Result
	if early {
		r, final := EvaluateEarly(a, points, rec.State, now, nonNeg)
		if !final {
			e.mu.Unlock()
			return false, nil
		}
		res = r
	} else {
		res = Evaluate(a, points, rec.State, now)
	}
	if !res.Changed(rec.State) {
		e.mu.Unlock()
		return false, nil
	}
	err = s.fencedTransition(ctx, e, rec, res, now, end, nil, fence)
	e.mu.Unlock()
	if err != nil {
		return false, err
	}
	s.afterTransition(ctx, AlarmKey{rec.Scope, rec.Name})
	return true, nil
}

// points fetches the datapoints of rec's metric over [start, end) in its period and statistic.
// nonNeg reports that no real value in the range is negative, which is how the scheduler vouches
// for Sum's monotonicity in EvaluateEarly (a decision: a negative sample arriving later in the
// same period would make the early ALARM premature; metric-filter metrics never have one).
func (s *Service) points(ctx context.Context, rec *Record, start, end time.Time) ([]Datapoint, bool, error) {
	a := rec.Metric
	if a.WatchesExpression() {
		points, err := s.expressionPoints(ctx, rec, start, end)
		return points, false, err
	}
	m, ok := alarmMetric(a)
	if !ok {
		return nil, false, nil
	}
	stat, ok := metrics.ParseStat(a.StatisticName())
	if !ok {
		return nil, false, nil
	}
	unit := a.Unit
	if unit == "" {
		for _, q := range a.Metrics {
			if q.returns() && q.MetricStat != nil {
				unit = q.MetricStat.Unit
			}
		}
	}
	// The cache key carries the unit filter: data in another unit is invisible to this query but
	// not to an alarm on the same metric without a Unit.
	mk := metricKey(rec.Scope, a)
	s.emptyMu.Lock()
	since, known := s.empty[mk][unit]
	gen := s.gen
	s.emptyMu.Unlock()
	if known && !start.Before(since) {
		return nil, true, nil
	}
	// The query reaches past end (by the furthest a datapoint may be stamped in the future, 2 h
	// for PutMetricData and log events) so that an empty answer proves the metric empty from start
	// on, which the cache above remembers.
	aggs, err := s.metrics.Aggregates(ctx, metrics.Scope{AccountID: rec.Scope.AccountID, Region: rec.Scope.Region},
		metrics.AggregateQuery{Metric: m, Start: start, End: end.Add(futureSlack), Period: a.PeriodSeconds(), Unit: unit})
	if err != nil {
		return nil, false, err
	}
	if len(aggs) == 0 {
		s.emptyMu.Lock()
		if s.gen == gen {
			if s.empty[mk] == nil {
				s.empty[mk] = map[string]time.Time{}
			}
			s.empty[mk][unit] = start
		}
		s.emptyMu.Unlock()
	}
	out := make([]Datapoint, 0, len(aggs))
	nonNeg := true
	for i := range aggs {
		ag := &aggs[i]
		if !ag.Time.Before(end) {
			break
		}
		if ag.Minimum < 0 {
			nonNeg = false
		}
		if v, ok := ag.Value(stat); ok {
			out = append(out, Datapoint{Timestamp: ag.Time, Value: v, SampleCount: ag.SampleCount})
		}
	}
	return out, nonNeg, nil
}

// expressionPoints evaluates the Metrics of an alarm that watches an expression over [start, end)
// with metrics.Service.QuerySeries, GetMetricData's evaluation, and returns the datapoints of the
// query that returns data. They carry no sample count: an expression has none.
func (s *Service) expressionPoints(ctx context.Context, rec *Record, start, end time.Time) ([]Datapoint, error) {
	a := rec.Metric
	queries := make([]metrics.MetricDataQuery, len(a.Metrics))
	returned := -1
	for i, q := range a.Metrics {
		mq := metrics.MetricDataQuery{ID: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData, Period: q.Period}
		if ms := q.MetricStat; ms != nil {
			p := ms.Period
			mq.MetricStat = &metrics.MetricStat{Period: &p, Stat: ms.Stat, Unit: ms.Unit,
				Metric: &metrics.Metric{Namespace: ms.Namespace, MetricName: ms.MetricName, Dimensions: ms.Dimensions}}
		}
		queries[i] = mq
		if q.returns() {
			returned = i
		}
	}
	res, err := s.metrics.QuerySeries(ctx, metrics.Scope{AccountID: rec.Scope.AccountID, Region: rec.Scope.Region}, queries, start, end)
	if err != nil {
		return nil, err
	}
	if returned < 0 || len(res[returned].Series) != 1 {
		return nil, fmt.Errorf("expression of alarm %q does not produce one time series", rec.Name)
	}
	pts := res[returned].Series[0].Points
	out := make([]Datapoint, 0, len(pts))
	for _, p := range pts {
		out = append(out, Datapoint{Timestamp: p.Time, Value: p.Value})
	}
	return out, nil
}
