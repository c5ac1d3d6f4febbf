package alarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// MetricSource answers the queries of evaluations; *metrics.Service implements it. Aggregates
// serves alarms on one metric; QuerySeries serves alarms on a metric math expression, through
// the same evaluation as GetMetricData.
type MetricSource interface {
	Aggregates(ctx context.Context, scope metrics.Scope, q metrics.AggregateQuery) ([]metrics.Aggregate, error)
	QuerySeries(ctx context.Context, scope metrics.Scope, queries []metrics.MetricDataQuery, start, end time.Time) ([]metrics.QuerySeries, error)
}

// Service implements the CloudWatch alarm operations and runs the scheduler (see Run). It keeps
// every alarm in memory, loaded from the Store at Open and written through it on every change.
// It is safe for concurrent use; evaluations and updates of one alarm are serialised.
type Service struct {
	store   Store
	metrics MetricSource
	now     func() time.Time
	// OnError, when non-nil, receives errors of background evaluations (the scheduler has no
	// caller to return them to).
	OnError func(error)
	// OnActions, when non-nil, is called after a change that recorded outbox actions has
	// committed (the Dispatcher's Notify).
	OnActions func()
	// OnEvaluated, when non-nil, is told of every metric alarm evaluation (regular, or early on
	// new data), how long it took on the service's clock and its error: the server's evaluation
	// metrics. It must not block.
	OnEvaluated func(early bool, took time.Duration, err error)
	// Leader, when non-nil, gates the scheduler: its evaluations run only while Leader says this
	// replica holds the evaluation lease, and each transition they write carries the lease's
	// Fence, so the store refuses it once another replica holds the lease (see Fence). API calls
	// (SetAlarmState, PutMetricAlarm) are not gated. Nil means this process is the only evaluator.
	Leader Leader

	mu       sync.RWMutex
	alarms   map[AlarmKey]*entry
	byMetric map[string]map[AlarmKey]struct{}   // metric identity → metric alarms on it
	parents  map[AlarmKey]map[AlarmKey]struct{} // alarm → composites whose rule or suppressor names it

	dirtyMu sync.Mutex
	dirty   map[string]struct{} // metric identities with new data since the last early pass
	wake    chan struct{}

	// emptyMu guards empty and gen: empty[mk][unit] = t records that metric mk had no datapoint
	// (in the alarm's Unit filter, "" for any) at or after t when last queried (every write reaches the service through OnSamples or
	// OnMetricData, which drop the entry), so evaluations of windows starting at or after t need
	// no query. gen counts hook calls, so that a query racing a write never caches.
	emptyMu sync.Mutex
	empty   map[string]map[string]time.Time
	gen     uint64
}

// entry is one alarm. mu serialises its evaluations and updates; rec is replaced, never
// modified, so readers need no lock.
type entry struct {
	mu   sync.Mutex
	rec  atomic.Pointer[Record]
	rule *Rule // composite alarms; guarded by mu
}

// NewService loads every alarm from store. now is the clock (nil means time.Now).
func NewService(ctx context.Context, store Store, source MetricSource, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	s := &Service{
		store: store, metrics: source, now: now,
		alarms: map[AlarmKey]*entry{}, byMetric: map[string]map[AlarmKey]struct{}{},
		parents: map[AlarmKey]map[AlarmKey]struct{}{},
		dirty:   map[string]struct{}{}, wake: make(chan struct{}, 1), empty: map[string]map[string]time.Time{},
	}
	recs, err := store.LoadAlarms(ctx)
	if err != nil {
		return nil, fmt.Errorf("load alarms: %w", err)
	}
	for _, r := range recs {
		e := &entry{}
		if r.Composite != nil {
			rule, err := ParseRule(r.Composite.AlarmRule)
			if err != nil {
				return nil, fmt.Errorf("load alarm %q: %w", r.Name, err)
			}
			e.rule = rule
		}
		e.rec.Store(r)
		k := AlarmKey{r.Scope, r.Name}
		s.alarms[k] = e
		s.index(k, nil, r, e.rule)
	}
	return s, nil
}

// metricKey is the identity of the metric a metric alarm evaluates, "" for alarms that evaluate
// none (math expressions, which are evaluated in the regular rounds only).
func metricKey(scope Scope, a *MetricAlarm) string {
	m, ok := alarmMetric(a)
	if !ok {
		return ""
	}
	return sampleKey(scope.AccountID, scope.Region, m)
}

func sampleKey(account, region string, m metrics.Metric) string {
	return account + "\x00" + region + "\x00" + m.Key()
}

// alarmMetric is the metric whose datapoints an alarm evaluates.
func alarmMetric(a *MetricAlarm) (metrics.Metric, bool) {
	if len(a.Metrics) == 0 {
		return metrics.Metric{Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions}, true
	}
	for _, q := range a.Metrics {
		if q.returns() && q.MetricStat != nil {
			ms := q.MetricStat
			return metrics.Metric{Namespace: ms.Namespace, MetricName: ms.MetricName, Dimensions: ms.Dimensions}, true
		}
	}
	return metrics.Metric{}, false
}

// index moves k's entries in byMetric and parents from old to new (either may be nil). The
// caller holds s.mu for writing, or is NewService.
func (s *Service) index(k AlarmKey, old, new *Record, rule *Rule) {
	if old != nil {
		if old.Metric != nil {
			if mk := metricKey(old.Scope, old.Metric); mk != "" {
				delete(s.byMetric[mk], k)
				if len(s.byMetric[mk]) == 0 {
					delete(s.byMetric, mk)
				}
			}
		}
		for child, ps := range s.parents {
			delete(ps, k)
			if len(ps) == 0 {
				delete(s.parents, child)
			}
		}
	}
	if new == nil {
		return
	}
	if new.Metric != nil {
		if mk := metricKey(new.Scope, new.Metric); mk != "" {
			if s.byMetric[mk] == nil {
				s.byMetric[mk] = map[AlarmKey]struct{}{}
			}
			s.byMetric[mk][k] = struct{}{}
		}
	}
	if new.Composite != nil && rule != nil {
		refs := rule.Children()
		if new.Composite.ActionsSuppressor != "" {
			refs = append(refs, new.Composite.ActionsSuppressor)
		}
		for _, ref := range refs {
			ck := AlarmKey{new.Scope, RefName(ref)}
			if s.parents[ck] == nil {
				s.parents[ck] = map[AlarmKey]struct{}{}
			}
			s.parents[ck][k] = struct{}{}
		}
	}
}

// get returns the entry of k, or nil.
func (s *Service) get(k AlarmKey) *entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.alarms[k]
}

// Get returns the current record of an alarm, or nil. The record must not be modified.
func (s *Service) Get(scope Scope, name string) *Record {
	if e := s.get(AlarmKey{scope, name}); e != nil {
		return e.rec.Load()
	}
	return nil
}

// snapshot returns every current record of scope, sorted by name.
func (s *Service) snapshot(scope Scope) []*Record {
	s.mu.RLock()
	out := make([]*Record, 0, len(s.alarms))
	for k, e := range s.alarms {
		if k.Scope != scope {
			continue
		}
		if r := e.rec.Load(); r != nil {
			out = append(out, r)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ErrAlarmNotFound is SetAlarmState's error for an unknown alarm: AWS sends ResourceNotFound
// with no message at all [§1.2, LS-CW-SNAP].
var ErrAlarmNotFound = &NotFoundError{}

// NotFoundError is CloudWatch's ResourceNotFound (404 over awsQuery).
type NotFoundError struct{ Message string }

// Error implements error.
func (e *NotFoundError) Error() string { return "ResourceNotFound" }

// ErrorCode returns "ResourceNotFound".
func (e *NotFoundError) ErrorCode() string { return "ResourceNotFound" }

// ErrorMessage returns the message, empty as AWS sends it.
func (e *NotFoundError) ErrorMessage() string { return e.Message }

// HTTPStatusCode is 404, the model's status for ResourceNotFound.
func (e *NotFoundError) HTTPStatusCode() int { return 404 }

// PutMetricAlarm creates or replaces a metric alarm. A new alarm starts in INSUFFICIENT_DATA with
// "Unchecked: Initial alarm creation"; an update keeps the state and ignores tags [§1.1]. The
// alarm is then evaluated at once when the outcome is already final (EvaluateEarly).
func (s *Service) PutMetricAlarm(ctx context.Context, scope Scope, a MetricAlarm, tags []Tag) error {
	if err := a.Validate(); err != nil {
		return err
	}
	cfg := a
	k := AlarmKey{scope, a.AlarmName}
	e, err := s.put(ctx, k, TypeMetric, func(old *Record, now time.Time) (*Record, HistoryItem) {
		r := &Record{Scope: scope, Name: a.AlarmName, Type: TypeMetric, Metric: &cfg, ConfigUpdated: now}
		change := ConfigCreate
		if old != nil {
			change = ConfigUpdate
			r.State, r.Reason, r.ReasonData = old.State, old.Reason, old.ReasonData
			r.StateUpdated, r.StateTransitioned, r.LeftAlarm, r.Tags = old.StateUpdated, old.StateTransitioned, old.LeftAlarm, old.Tags
		} else {
			r.State, r.Reason, r.StateUpdated, r.StateTransitioned, r.Tags = StateInsufficientData, InitialReason, now, now, tags
		}
		return r, ConfigurationHistory(change, now, AlarmSnapshot{Alarm: &cfg, ARN: r.ARN(), ConfigUpdated: now, StateValue: r.State, StateUpdatedAt: r.StateUpdated})
	}, nil)
	if err != nil {
		return err
	}
	return s.evaluateMetric(ctx, e, s.now(), true)
}

// PutCompositeAlarm creates or replaces a composite alarm and evaluates it at once, as AWS does
// ("was created and its alarm rule evaluates to …").
func (s *Service) PutCompositeAlarm(ctx context.Context, scope Scope, a CompositeAlarm, tags []Tag) error {
	rule, err := a.Validate()
	if err != nil {
		return err
	}
	cfg := a
	k := AlarmKey{scope, a.AlarmName}
	cause := CauseCreated
	e, err := s.put(ctx, k, TypeComposite, func(old *Record, now time.Time) (*Record, HistoryItem) {
		r := &Record{Scope: scope, Name: a.AlarmName, Type: TypeComposite, Composite: &cfg, ConfigUpdated: now}
		verb, key, change := "created", "createdAlarm", ConfigCreate
		if old != nil {
			cause = CauseUpdated
			verb, key, change = "updated", "updatedAlarm", ConfigUpdate
			r.State, r.Reason, r.ReasonData = old.State, old.Reason, old.ReasonData
			r.StateUpdated, r.StateTransitioned, r.LeftAlarm, r.Tags = old.StateUpdated, old.StateTransitioned, old.LeftAlarm, old.Tags
		} else {
			r.State, r.Reason, r.StateUpdated, r.StateTransitioned, r.Tags = StateInsufficientData, InitialReason, now, now, tags
		}
		return r, compositeConfigHistory(change, verb, key, now, r)
	}, rule)
	if err != nil {
		return err
	}
	return s.evaluateComposite(ctx, e, cause, "", 0)
}

// compositeConfigHistory is the ConfigurationUpdate item of a composite alarm, shaped like the
// metric alarm's (the composite variant is unobserved).
func compositeConfigHistory(change ConfigChange, verb, key string, now time.Time, r *Record) HistoryItem {
	c := r.Composite
	body := newObject().str("alarmName", c.AlarmName)
	if c.AlarmDescription != "" {
		body.str("alarmDescription", c.AlarmDescription)
	}
	body.str("alarmArn", r.ARN()).str("alarmConfigurationUpdatedTimestamp", javaTime(now)).
		str("alarmRule", c.AlarmRule).
		str("stateValue", r.State.String()).str("stateUpdatedTimestamp", javaTime(r.StateUpdated)).
		boolean("actionsEnabled", c.ActionsEnabled).
		strs("alarmActions", nonNil(c.AlarmActions)).
		strs("insufficientDataActions", nonNil(c.InsufficientDataActions)).
		strs("okactions", nonNil(c.OKActions))
	if c.ActionsSuppressor != "" {
		body.str("actionsSuppressor", c.ActionsSuppressor)
	}
	data := newObject().str("version", "1.0").str("type", string(change)).raw(key, body.String())
	return HistoryItem{AlarmName: c.AlarmName, AlarmType: TypeComposite, Timestamp: now, HistoryItemType: HistoryConfigurationUpdate,
		HistorySummary: `Alarm "` + c.AlarmName + `" ` + verb, HistoryData: data.String()}
}

// put creates or replaces the record of k under its lock.
func (s *Service) put(ctx context.Context, k AlarmKey, typ string, build func(old *Record, now time.Time) (*Record, HistoryItem), rule *Rule) (*entry, error) {
	s.mu.Lock()
	e := s.alarms[k]
	created := e == nil
	if created {
		e = &entry{}
		s.alarms[k] = e
	}
	s.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.rec.Load()
	if old != nil && old.Type != typ {
		return nil, &Error{Code: CodeInvalidParameterValue, Message: fmt.Sprintf(
			"The alarm %s already exists as a %s and cannot be replaced by a %s.", k.Name, old.Type, typ)}
	}
	now := s.now()
	rec, item := build(old, now)
	err := s.store.Apply(ctx, Change{Put: []*Record{rec}, History: []HistoryRecord{{k.Scope, item}}, Expect: []Expectation{{k, old}}})
	if loader, ok := s.store.(AlarmLoader); ok && errors.Is(err, ErrConflict) {
		// Another replica changed the alarm since this one last heard: build again from the
		// stored record, once.
		if err = s.refreshLocked(ctx, loader, k, e); err == nil {
			old = e.rec.Load()
			if old != nil && old.Type != typ {
				return nil, &Error{Code: CodeInvalidParameterValue, Message: fmt.Sprintf(
					"The alarm %s already exists as a %s and cannot be replaced by a %s.", k.Name, old.Type, typ)}
			}
			rec, item = build(old, now)
			err = s.store.Apply(ctx, Change{Put: []*Record{rec}, History: []HistoryRecord{{k.Scope, item}}, Expect: []Expectation{{k, old}}})
		}
	}
	if err != nil {
		if created && old == nil {
			s.mu.Lock()
			if s.alarms[k] == e && e.rec.Load() == nil {
				delete(s.alarms, k)
			}
			s.mu.Unlock()
		}
		return nil, fmt.Errorf("store alarm: %w", err)
	}
	e.rule = rule
	e.rec.Store(rec)
	s.mu.Lock()
	s.index(k, old, rec, rule)
	s.mu.Unlock()
	return e, nil
}

// DeleteAlarms deletes up to 100 alarms. Names that do not exist are ignored, as CloudWatch does
// (panther-labs/panther#925: "it's not an error to delete an alarm that doesn't exist";
// aws-cloudformation/cloudformation-cli#456). Each deletion writes a ConfigurationUpdate item;
// history survives the alarm [§1.11]. Composites naming a deleted alarm are re-evaluated, a
// missing child counting as INSUFFICIENT_DATA.
func (s *Service) DeleteAlarms(ctx context.Context, scope Scope, names []string) error {
	var c constraints
	if len(names) > 100 {
		c.add("Value '[%s]' at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100", joinNames(names))
	}
	for i, n := range names {
		c.length(fmt.Sprintf("alarmNames.%d.member", i+1), n, 1, 255)
	}
	if err := c.err(); err != nil {
		return err
	}
	composites := 0
	for _, n := range names {
		if r := s.Get(scope, n); r != nil && r.Composite != nil {
			composites++
		}
	}
	if composites > 1 {
		return &Error{Code: CodeValidationError, Message: "You can delete only one composite alarm per request."}
	}
	var entries []*entry
	var keys []AlarmKey
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		k := AlarmKey{scope, n}
		if e := s.get(k); e != nil {
			entries = append(entries, e)
			keys = append(keys, k)
		}
	}
	// Lock in name order so that two concurrent deletions cannot deadlock.
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return keys[order[i]].Name < keys[order[j]].Name })
	for _, i := range order {
		entries[i].mu.Lock()
		defer entries[i].mu.Unlock()
	}
	now := s.now()
	var change Change
	var olds []*Record
	for i, e := range entries {
		old := e.rec.Load()
		olds = append(olds, old)
		if old == nil {
			continue
		}
		change.Delete = append(change.Delete, keys[i])
		var item HistoryItem
		if old.Metric != nil {
			item = ConfigurationHistory(ConfigDelete, now, AlarmSnapshot{Alarm: old.Metric, ARN: old.ARN(), ConfigUpdated: old.ConfigUpdated, StateValue: old.State, StateUpdatedAt: old.StateUpdated})
		} else {
			item = compositeConfigHistory(ConfigDelete, "deleted", "deletedAlarm", now, old)
		}
		change.History = append(change.History, HistoryRecord{scope, item})
	}
	if len(change.Delete) == 0 {
		return nil
	}
	if err := s.store.Apply(ctx, change); err != nil {
		return fmt.Errorf("delete alarms: %w", err)
	}
	var affected []AlarmKey
	s.mu.Lock()
	for i, e := range entries {
		if olds[i] == nil {
			continue
		}
		e.rec.Store(nil)
		s.index(keys[i], olds[i], nil, nil)
		delete(s.alarms, keys[i])
		for p := range s.parents[keys[i]] {
			affected = append(affected, p)
		}
	}
	s.mu.Unlock()
	s.childrenChanged(context.WithoutCancel(ctx), affected, "")
	return nil
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// SetActionsEnabled is EnableAlarmActions / DisableAlarmActions: unknown names are ignored.
func (s *Service) SetActionsEnabled(ctx context.Context, scope Scope, names []string, enabled bool) error {
	var c constraints
	if len(names) > 100 {
		c.add("Value '[%s]' at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100", joinNames(names))
	}
	for i, n := range names {
		c.length(fmt.Sprintf("alarmNames.%d.member", i+1), n, 1, 255)
	}
	if err := c.err(); err != nil {
		return err
	}
	for _, n := range names {
		e := s.get(AlarmKey{scope, n})
		if e == nil {
			continue
		}
		if err := s.setEnabled(ctx, e, enabled); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) setEnabled(ctx context.Context, e *entry, enabled bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.rec.Load()
	if old == nil || old.ActionsEnabled() == enabled {
		return nil
	}
	r := old.clone()
	if r.Metric != nil {
		r.Metric.ActionsEnabled = enabled
	} else {
		r.Composite.ActionsEnabled = enabled
	}
	if err := s.store.Apply(ctx, Change{Put: []*Record{r}}); err != nil {
		return fmt.Errorf("store alarm: %w", err)
	}
	e.rec.Store(r)
	return nil
}

// SetAlarmState forces an alarm's state for testing [§1.10]: a different state is a transition
// (history, actions when enabled) with the caller's reason and, only if given, reason data; the
// same state does nothing. A metric alarm returns to its evaluated state at the next regular
// evaluation (or the next final early one); a composite keeps the forced state until a child
// changes or it is updated.
func (s *Service) SetAlarmState(ctx context.Context, scope Scope, name string, req SetStateRequest) error {
	state, err := req.Validate()
	if err != nil {
		return err
	}
	if name == "" {
		return (&constraints{"Value null at 'alarmName' failed to satisfy constraint: Member must not be null"}).err()
	}
	e := s.get(AlarmKey{scope, name})
	if e == nil {
		return ErrAlarmNotFound
	}
	e.mu.Lock()
	rec := e.rec.Load()
	if rec == nil {
		e.mu.Unlock()
		return ErrAlarmNotFound
	}
	if rec.State == state {
		e.mu.Unlock()
		return nil
	}
	now := s.now()
	res := Result{State: state, Reason: req.StateReason, ReasonData: req.StateReasonData}
	if rec.Metric != nil {
		// The forced state holds until the regular round at the next minute boundary, for every
		// period: a 10-second alarm's rounds in between see the same minute data and would undo
		// it within seconds (TestSubMinuteSetAlarmStateHolds).
		res.heldUntil = now.Truncate(time.Minute).Add(time.Minute)
	}
	err = s.transition(ctx, e, rec, res, now, time.Time{}, nil)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	s.afterTransition(ctx, AlarmKey{scope, name})
	return nil
}

// transition applies a state change of e (whose lock the caller holds): the new record, its
// StateUpdate item and, when actions are enabled (and not suppressed), one outbox action per
// configured action of the new state, all in one Change.
func (s *Service) transition(ctx context.Context, e *entry, old *Record, res Result, now, through time.Time, triggering []ChildState) error {
	return s.fencedTransition(ctx, e, old, res, now, through, triggering, nil)
}

// fencedTransition is transition whose write carries fence (nil: none).
func (s *Service) fencedTransition(ctx context.Context, e *entry, old *Record, res Result, now, through time.Time, triggering []ChildState, fence *Fence) error {
	r := old.clone()
	if !through.IsZero() {
		r.DecidedThrough = through
	}
	r.State, r.Reason, r.ReasonData = res.State, res.Reason, res.ReasonData
	r.HeldUntil = res.heldUntil
	r.StateUpdated, r.StateTransitioned = now, now
	if old.State == StateAlarm {
		r.LeftAlarm = now
	}
	r.SuppressedBy, r.SuppressedReason, r.ActionsWaiting = "", "", false
	item := StateUpdateHistory(r.Name, r.Type, now,
		StateSnapshot{Value: old.State, Reason: old.Reason, ReasonData: old.ReasonData},
		StateSnapshot{Value: r.State, Reason: r.Reason, ReasonData: r.ReasonData})
	k := AlarmKey{r.Scope, r.Name}
	change := Change{Put: []*Record{r}, History: []HistoryRecord{{r.Scope, item}}, Fence: fence, Expect: []Expectation{{k, old}}}
	if r.ActionsEnabled() && len(r.actionsFor(r.State)) > 0 && !res.silent {
		if sup, ok := s.suppression(r, now, now); ok && sup.Suppressed {
			r.SuppressedBy, r.SuppressedReason, r.ActionsWaiting, r.WaitingFrom = sup.By, sup.Reason, true, old.State
		} else {
			change.Actions = s.actions(r, old.State, now, triggering)
		}
	}
	if err := s.store.Apply(ctx, change); err != nil {
		if loader, ok := s.store.(AlarmLoader); ok && errors.Is(err, ErrConflict) {
			// Evaluated from a stale view: take the stored record; the next evaluation starts there.
			if rerr := s.refreshLocked(ctx, loader, k, e); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return fmt.Errorf("store transition: %w", err)
	}
	e.rec.Store(r)
	if len(change.Actions) > 0 && s.OnActions != nil {
		s.OnActions()
	}
	return nil
}

// actions builds the outbox entries of r's transition from oldState.
func (s *Service) actions(r *Record, oldState State, at time.Time, triggering []ChildState) []Action {
	var msg string
	if r.Metric != nil {
		msg = PublishedMessage(Transition{Alarm: r.Metric, AccountID: r.Scope.AccountID, Region: r.Scope.Region,
			OldState: oldState, NewState: r.State, NewStateReason: r.Reason, StateChangeTime: r.StateTransitioned, ConfigUpdated: r.ConfigUpdated})
	} else {
		c := r.Composite
		msg = newObject().str("default", CompositeMessage(CompositeTransition{
			AlarmName: c.AlarmName, AlarmDescription: c.AlarmDescription, AlarmRule: c.AlarmRule,
			OKActions: c.OKActions, AlarmActions: c.AlarmActions, InsufficientDataActions: c.InsufficientDataActions,
			AccountID: r.Scope.AccountID, Region: r.Scope.Region, OldState: oldState, NewState: r.State,
			NewStateReason: r.Reason, StateChangeTime: r.StateTransitioned, ConfigUpdated: r.ConfigUpdated,
			TriggeringChildren: triggering,
		})).String()
	}
	subject := Subject(r.State, r.Name, r.Scope.Region)
	var out []Action
	for _, arn := range r.actionsFor(r.State) {
		out = append(out, Action{
			Scope: r.Scope, AlarmName: r.Name, AlarmType: r.Type, AlarmARN: r.ARN(), ActionARN: arn,
			OldState: oldState, NewState: r.State, Reason: r.Reason, Subject: subject, Message: msg,
			StateUpdated: r.StateTransitioned, Created: at, Status: ActionPending,
		})
	}
	return out
}

// suppression evaluates a composite alarm's ActionsSuppressor; ok is false when it has none.
func (s *Service) suppression(r *Record, changed, now time.Time) (Suppression, bool) {
	if r.Composite == nil || r.Composite.ActionsSuppressor == "" {
		return Suppression{}, false
	}
	c := r.Composite
	sup := Suppressor{State: StateInsufficientData}
	if c.ActionsSuppressorWaitPeriod != nil {
		sup.WaitPeriod = time.Duration(*c.ActionsSuppressorWaitPeriod) * time.Second
	}
	if c.ActionsSuppressorExtensionPeriod != nil {
		sup.ExtensionPeriod = time.Duration(*c.ActionsSuppressorExtensionPeriod) * time.Second
	}
	if o := s.Get(r.Scope, RefName(c.ActionsSuppressor)); o != nil {
		sup.State, sup.Since, sup.LeftAlarm = o.State, o.StateTransitioned, o.LeftAlarm
	}
	return Suppress(sup, changed, now), true
}

// afterTransition re-evaluates the composites that reference k.
func (s *Service) afterTransition(ctx context.Context, k AlarmKey) {
	s.mu.RLock()
	var ps []AlarmKey
	for p := range s.parents[k] {
		ps = append(ps, p)
	}
	s.mu.RUnlock()
	s.childrenChanged(ctx, ps, k.Name)
}

func (s *Service) childrenChanged(ctx context.Context, parents []AlarmKey, child string) {
	sort.Slice(parents, func(i, j int) bool { return parents[i].Name < parents[j].Name })
	for _, p := range parents {
		if e := s.get(p); e != nil {
			if err := s.evaluateComposite(ctx, e, CauseChild, child, 0); err != nil {
				s.report(err)
			}
		}
	}
}

func (s *Service) report(err error) {
	if err != nil && s.OnError != nil {
		s.OnError(err)
	}
}

// maxCompositeDepth bounds the cascade of composite re-evaluations (a rule cycle is also
// detected with Cycle, this is a second fence).
const maxCompositeDepth = 16

// evaluateComposite evaluates a composite alarm after cause; child names the child that changed
// (CauseChild). A child change that is only the rule's suppressor re-checks waiting actions.
func (s *Service) evaluateComposite(ctx context.Context, e *entry, cause CompositeCause, child string, depth int) error {
	if depth > maxCompositeDepth {
		return nil
	}
	e.mu.Lock()
	rec := e.rec.Load()
	if rec == nil || rec.Composite == nil || e.rule == nil {
		e.mu.Unlock()
		return nil
	}
	if cyc := Cycle(rec.Name, func(name string) []string {
		if name == rec.Name {
			return e.rule.Children()
		}
		other := s.get(AlarmKey{rec.Scope, name})
		if other == nil {
			return nil
		}
		if r := other.rec.Load(); r != nil && r.Composite != nil {
			if rule, err := ParseRule(r.Composite.AlarmRule); err == nil {
				return rule.Children()
			}
		}
		return nil
	}); cyc != nil {
		e.mu.Unlock()
		return nil
	}
	now := s.now()
	children := map[string]ChildState{}
	trigger := ""
	for _, ref := range e.rule.Children() {
		if o := s.Get(rec.Scope, RefName(ref)); o != nil {
			children[ref] = ChildState{ARN: o.ARN(), State: o.State, Since: o.StateTransitioned}
		} else {
			children[ref] = ChildState{ARN: AlarmARN(rec.Scope.Region, rec.Scope.AccountID, RefName(ref)), State: StateInsufficientData}
		}
		if cause == CauseChild && RefName(ref) == child && trigger == "" {
			trigger = ref
		}
	}
	if cause == CauseChild && trigger == "" {
		// Only the suppressor changed.
		err := s.releaseSuppressed(ctx, e, now)
		e.mu.Unlock()
		return err
	}
	res := EvaluateComposite(CompositeInput{ARN: rec.ARN(), Rule: e.rule, Children: children, Cause: cause, Trigger: trigger})
	// A composite created with its rule false leaves INSUFFICIENT_DATA for OK silently: the OK
	// actions run from its first later transition to OK, not at creation (decision, see doc.go).
	res.silent = cause == CauseCreated && res.State == StateOK
	if !res.Changed(rec.State) {
		err := s.releaseSuppressed(ctx, e, now)
		e.mu.Unlock()
		return err
	}
	var triggering []ChildState
	if cause == CauseChild {
		triggering = []ChildState{children[trigger]}
	} else {
		for _, ref := range e.rule.Children() {
			triggering = append(triggering, children[ref])
		}
	}
	err := s.transition(ctx, e, rec, res, now, time.Time{}, triggering)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	k := AlarmKey{rec.Scope, rec.Name}
	s.mu.RLock()
	var ps []AlarmKey
	for p := range s.parents[k] {
		ps = append(ps, p)
	}
	s.mu.RUnlock()
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	for _, p := range ps {
		if pe := s.get(p); pe != nil {
			if err := s.evaluateComposite(ctx, pe, CauseChild, rec.Name, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseSuppressed runs a composite's waiting actions once its suppression has ended, or updates
// the suppression shown by DescribeAlarms. The caller holds e.mu.
func (s *Service) releaseSuppressed(ctx context.Context, e *entry, now time.Time) error {
	rec := e.rec.Load()
	if rec == nil || !rec.ActionsWaiting {
		return nil
	}
	sup, ok := s.suppression(rec, rec.StateTransitioned, now)
	r := rec.clone()
	var change Change
	if !ok || !sup.Suppressed {
		r.SuppressedBy, r.SuppressedReason, r.ActionsWaiting = "", "", false
		change.Actions = s.actions(r, rec.WaitingFrom, now, nil)
	} else {
		if sup.By == rec.SuppressedBy {
			return nil
		}
		r.SuppressedBy, r.SuppressedReason = sup.By, sup.Reason
	}
	change.Put = []*Record{r}
	if err := s.store.Apply(ctx, change); err != nil {
		return fmt.Errorf("store suppression: %w", err)
	}
	e.rec.Store(r)
	if len(change.Actions) > 0 && s.OnActions != nil {
		s.OnActions()
	}
	return nil
}

// StateCounts counts the alarms, metric and composite, of every account and region by state. It
// reads the alarms kept in memory, so it costs no store query (the metrics endpoint asks it at
// every scrape).
func (s *Service) StateCounts() map[State]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[State]int{}
	for _, e := range s.alarms {
		if r := e.rec.Load(); r != nil {
			out[r.State]++
		}
	}
	return out
}
