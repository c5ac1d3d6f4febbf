package alarm

import (
	"context"
	"errors"
	"time"
)

// Scope is the (account, region) pair every alarm belongs to; alarms of different scopes never see
// each other.
type Scope struct {
	AccountID string
	Region    string
}

// Alarm types as DescribeAlarms and DescribeAlarmHistory spell them. TypeLog (alarms on
// CloudWatch Logs queries, in the model's AlarmType enum since 2025) is accepted as a filter and
// matches nothing: trailwatch has no log alarms, and DescribeAlarms' LogAlarms list stays empty.
const (
	TypeMetric    = "MetricAlarm"
	TypeComposite = "CompositeAlarm"
	TypeLog       = "LogAlarm"
)

// Tag is one resource tag given at creation (Tags are ignored when an alarm is updated).
type Tag struct {
	Key   string
	Value string
}

// Record is one stored alarm: its configuration (exactly one of Metric and Composite) and its
// state. The service keeps every record in memory and writes each change through Store.Apply.
type Record struct {
	Scope     Scope
	Name      string
	Type      string
	Metric    *MetricAlarm    `json:",omitempty"`
	Composite *CompositeAlarm `json:",omitempty"`
	Tags      []Tag           `json:",omitempty"`

	ConfigUpdated     time.Time
	State             State
	Reason            string
	ReasonData        string `json:",omitempty"`
	StateUpdated      time.Time
	StateTransitioned time.Time
	// DecidedThrough is the evaluation instant (window end) of the evaluation that set the
	// current state. A regular evaluation of an older window (the catch-up round after a
	// restart, in the minute of an early transition) must not undo it: AWS made that
	// evaluation before the transition.
	DecidedThrough time.Time `json:",omitempty"`
	// HeldUntil is set by SetAlarmState on a metric alarm: regular evaluations before this
	// instant (the next minute boundary) keep the forced state; an early evaluation that is final
	// may still end it. Any transition clears it.
	HeldUntil time.Time `json:",omitempty"`
	// LeftAlarm is when the alarm last left ALARM (zero if never): a suppressor's
	// ExtensionPeriod runs from it.
	LeftAlarm time.Time `json:",omitempty"`

	// Composite alarms only: the suppression shown by DescribeAlarms, and whether the actions
	// of the current state still wait for the suppression to end.
	SuppressedBy     string `json:",omitempty"`
	SuppressedReason string `json:",omitempty"`
	ActionsWaiting   bool   `json:",omitempty"`
	// WaitingFrom is the state the transition with waiting actions left.
	WaitingFrom State `json:",omitempty"`
}

// ARN is the alarm's ARN.
func (r *Record) ARN() string { return AlarmARN(r.Scope.Region, r.Scope.AccountID, r.Name) }

// ActionsEnabled reports the alarm's ActionsEnabled.
func (r *Record) ActionsEnabled() bool {
	if r.Metric != nil {
		return r.Metric.ActionsEnabled
	}
	return r.Composite != nil && r.Composite.ActionsEnabled
}

// actionsFor returns the actions configured for state s.
func (r *Record) actionsFor(s State) []string {
	var ok, al, ins []string
	switch {
	case r.Metric != nil:
		ok, al, ins = r.Metric.OKActions, r.Metric.AlarmActions, r.Metric.InsufficientDataActions
	case r.Composite != nil:
		ok, al, ins = r.Composite.OKActions, r.Composite.AlarmActions, r.Composite.InsufficientDataActions
	}
	switch s {
	case StateOK:
		return ok
	case StateAlarm:
		return al
	case StateInsufficientData:
		return ins
	}
	return nil
}

// clone returns a deep enough copy for the service to modify without touching r.
func (r *Record) clone() *Record {
	c := *r
	if r.Metric != nil {
		m := *r.Metric
		c.Metric = &m
	}
	if r.Composite != nil {
		m := *r.Composite
		c.Composite = &m
	}
	return &c
}

// Action statuses in the outbox.
const (
	ActionPending   = "pending"
	ActionSucceeded = "succeeded"
	ActionFailed    = "failed"
)

// Action is one outbox entry: an alarm action (an SNS topic ARN) to invoke because of a state
// transition. It is written in the same transaction as the transition, so a transition that
// committed always has its actions, and a restart never loses or repeats one.
type Action struct {
	// ID is assigned by the store, increasing in creation order.
	ID        int64
	Scope     Scope
	AlarmName string
	AlarmType string
	AlarmARN  string
	ActionARN string
	OldState  State
	NewState  State
	Reason    string
	// Subject and Message are what CloudWatch publishes to the topic: Message is the
	// MessageStructure=json document {"default": …, "email": …} (PublishedMessage).
	Subject string
	Message string
	// StateUpdated is the transition time (the Action history item's stateUpdateTimestamp).
	StateUpdated time.Time
	Created      time.Time
	Status       string
	// Error is the delivery error of a failed action, or the last transient error of a pending
	// one that is being retried.
	Error string
	// Attempts counts the failed publish attempts of a pending action (0 until one fails), and
	// NextAttempt is when it may be tried again (zero: at once). Both are stored with the
	// action, so a restart resumes the backoff where it was.
	Attempts    int
	NextAttempt time.Time
}

// ActionRetry is a failed attempt of a pending action that will be retried: the action's new
// attempt count, when to try again, and the error, which Action.Error shows meanwhile.
type ActionRetry struct {
	Attempts    int
	NextAttempt time.Time
	Err         string
}

// ActionOutcome is how the consumer of the outbox (SNS) finished an action.
type ActionOutcome struct {
	// Err is empty on success, or the error text shown in the Action history item.
	Err string
	// At is when the action was executed.
	At time.Time
}

// Change is one atomic write: alarm records to upsert, alarms to delete, history items and
// outbox actions to append. A state transition is one Change, so its new state, its StateUpdate
// item and its actions commit together or not at all.
type Change struct {
	Put     []*Record
	Delete  []AlarmKey
	History []HistoryRecord
	Actions []Action
	// Fence, when set, makes the change conditional on the lease grant it names still being
	// current (see Fence): the scheduler's transitions carry one, API calls do not.
	Fence *Fence
	// Expect makes the change conditional on the stored alarms being the records it was computed
	// from: a store shared by replicas refuses it (ErrConflict) when another replica changed one
	// of them since, so that a write computed from a stale view never undoes a newer one. A
	// single-process store, where the service's lock on the alarm already orders every change,
	// may ignore it.
	Expect []Expectation
}

// Expectation is one condition of Change.Expect: alarm Key is stored as Record (nil: not stored).
type Expectation struct {
	Key    AlarmKey
	Record *Record
}

// ErrConflict is returned (wrapped) by Store.Apply for a change whose Expect no longer holds.
var ErrConflict = errors.New("alarm changed by another replica")

// AlarmKey names one alarm.
type AlarmKey struct {
	Scope Scope
	Name  string
}

// HistoryRecord is a history item with the scope it belongs to.
type HistoryRecord struct {
	Scope Scope
	Item  HistoryItem
}

// HistoryQuery selects DescribeAlarmHistory items of one scope.
type HistoryQuery struct {
	// AlarmName "" means every alarm.
	AlarmName string
	// AlarmTypes lists the accepted types; empty means MetricAlarm only.
	AlarmTypes []string
	// ItemType "" means every type.
	ItemType string
	// Start and End bound Timestamp (inclusive, exclusive); zero means unbounded.
	Start, End time.Time
	// Ascending selects TimestampAscending; the default is newest first.
	Ascending bool
	// After is the cursor of the previous page, "" for the first.
	After string
	Limit int
}

// ErrInvalidCursor is wrapped by Store.History for a cursor it did not produce.
var ErrInvalidCursor = errors.New("invalid history cursor")

// Store is the persistence of alarms, their history and their action outbox. Implementations
// live in internal/store/...; internal/alarm/alarmtest is the conformance suite.
type Store interface {
	// LoadAlarms returns every stored alarm of every scope.
	LoadAlarms(ctx context.Context) ([]*Record, error)
	// Apply writes c atomically: on error nothing is written.
	Apply(ctx context.Context, c Change) error
	// History returns up to q.Limit items of scope matching q, and the cursor of the next page
	// ("" when there is none).
	History(ctx context.Context, scope Scope, q HistoryQuery) ([]HistoryItem, string, error)
	// ExpireHistory deletes, across all scopes, the history items timestamped before before, and
	// returns how many it deleted.
	ExpireHistory(ctx context.Context, before time.Time) (int64, error)
	ActionQueue
}

// ActionQueue is the outbox interface the SNS component consumes: it takes pending actions in
// creation order and marks each done, which also appends the Action history item (one
// transaction), so an action is delivered at least once and recorded exactly once. An attempt
// that failed transiently is recorded with RetryAction and leaves the action pending.
type ActionQueue interface {
	// PendingActions returns up to limit actions still pending whose NextAttempt is not after
	// now, oldest first. Per alarm (scope and name) and ActionARN the queue is first in, first
	// out: an action is not returned while an older action of the same alarm to the same ARN is
	// pending, whether that one is due or waiting for its retry, so a retried action is never
	// overtaken by its alarm's newer one. Other alarms and other ARNs are not held back.
	PendingActions(ctx context.Context, now time.Time, limit int) ([]Action, error)
	// MarkActionDone records the outcome of action id and appends its Action history item.
	// Marking an action that is no longer pending does nothing and returns nil.
	MarkActionDone(ctx context.Context, id int64, outcome ActionOutcome) error
	// RetryAction records a failed attempt of action id, which stays pending: its Attempts,
	// NextAttempt and Error become r's. It writes no history item (CloudWatch shows one Action
	// item per action, for its outcome). An action that is no longer pending is left alone.
	RetryAction(ctx context.Context, id int64, r ActionRetry) error
}

// ActionHistoryItem is the DescribeAlarmHistory item for an action with the given outcome.
func ActionHistoryItem(a Action, o ActionOutcome) HistoryItem {
	return ActionHistory(a.AlarmName, a.AlarmType, o.At, a.ActionARN, a.StateUpdated, a.Message, o.Err)
}
