package alarm

import (
	"strings"
	"time"
)

// ChildState is what a composite alarm knows about one alarm its rule references.
type ChildState struct {
	ARN   string
	State State
	// Since is the child's StateTransitionedTimestamp.
	Since time.Time
}

// CompositeCause says why a composite alarm is being evaluated; it selects the reason text.
type CompositeCause uint8

// The causes of a composite evaluation.
const (
	// CauseChild: a referenced alarm changed state (CompositeInput.Trigger names it).
	CauseChild CompositeCause = iota
	// CauseCreated: PutCompositeAlarm created the alarm.
	CauseCreated
	// CauseUpdated: PutCompositeAlarm replaced the configuration.
	CauseUpdated
)

// CompositeInput is everything EvaluateComposite needs.
type CompositeInput struct {
	// ARN is the composite alarm's own ARN.
	ARN  string
	Rule *Rule
	// Children maps every reference of the rule (as written: name or ARN) to the child's state.
	// A reference with no entry (a deleted alarm) counts as INSUFFICIENT_DATA.
	Children map[string]ChildState
	Cause    CompositeCause
	// Trigger is the reference of the child whose transition caused a CauseChild evaluation.
	Trigger string
}

// EvaluateComposite computes a composite alarm's state: ALARM when the rule is true, OK otherwise
// (a composite is INSUFFICIENT_DATA only between creation and its first evaluation, §1.12). The
// reason texts are AWS's [AWS EventBridge examples, docs "alarm-state-change" events]:
//
//	arn:…:alarm:Main was created and its alarm rule evaluates to OK
//	arn:…:alarm:FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC
//
// and ReasonData is {"triggeringAlarms":[{"arn":…,"state":{"value":…,"timestamp":…}}]} listing the
// triggering child, or every child for creation and update. "was updated and …" is a decision
// by analogy. Evaluation never returns Retained.
func EvaluateComposite(in CompositeInput) Result {
	lookup := func(ref string) ChildState {
		if c, ok := in.Children[ref]; ok {
			return c
		}
		return ChildState{ARN: ref, State: StateInsufficientData}
	}
	state := alarmIf(in.Rule.Eval(func(ref string) State { return lookup(ref).State }))
	var reason string
	var triggering []ChildState
	switch in.Cause {
	case CauseCreated, CauseUpdated:
		verb := "created"
		if in.Cause == CauseUpdated {
			verb = "updated"
		}
		reason = in.ARN + " was " + verb + " and its alarm rule evaluates to " + state.String()
		for _, ref := range in.Rule.Children() {
			triggering = append(triggering, lookup(ref))
		}
	default:
		c := lookup(in.Trigger)
		reason = c.ARN + " transitioned to " + c.State.String() + " at " + longTime(c.Since)
		triggering = []ChildState{c}
	}
	items := make([]string, len(triggering))
	for i, c := range triggering {
		st := newObject().str("value", c.State.String()).str("timestamp", javaTime(c.Since))
		items[i] = newObject().str("arn", c.ARN).raw("state", st.String()).String()
	}
	data := newObject().raw("triggeringAlarms", "["+strings.Join(items, ",")+"]")
	return Result{State: state, Reason: reason, ReasonData: data.String()}
}

// CompositeTransition is one state change of a composite alarm, for its SNS message.
type CompositeTransition struct {
	AlarmName, AlarmDescription, AlarmRule string
	OKActions, AlarmActions                []string
	InsufficientDataActions                []string
	AccountID, Region                      string
	OldState, NewState                     State
	NewStateReason                         string
	StateChangeTime, ConfigUpdated         time.Time
	TriggeringChildren                     []ChildState
}

// CompositeMessage is the SNS message of a composite alarm transition, in the member order of AWS's
// documented schema ("Schema when a composite alarm changes state", CloudWatch user guide,
// AlarmThatSendsEmail) and of real composite messages (2021 and 2022 captures): no
// AlarmConfigurationUpdatedTimestamp and no Trigger; the three action lists before OldStateValue;
// then AlarmRule and TriggeringChildren [§1.12]. ActionExecutedAfterMuteWindow (false: trailwatch
// has no mute rules) follows OldStateValue as in current metric-alarm messages; its place in a
// composite message is a decision, AWS shows none.
func CompositeMessage(t CompositeTransition) string {
	children := make([]string, len(t.TriggeringChildren))
	for i, c := range t.TriggeringChildren {
		st := newObject().str("Value", c.State.String()).str("Timestamp", javaTime(c.Since))
		children[i] = newObject().str("Arn", c.ARN).raw("State", st.String()).String()
	}
	return newObject().
		str("AlarmName", t.AlarmName).
		strOrNull("AlarmDescription", t.AlarmDescription).
		str("AWSAccountId", t.AccountID).
		str("NewStateValue", t.NewState.String()).
		str("NewStateReason", t.NewStateReason).
		str("StateChangeTime", javaTime(t.StateChangeTime)).
		str("Region", RegionName(t.Region)).
		str("AlarmArn", AlarmARN(t.Region, t.AccountID, t.AlarmName)).
		strs("OKActions", nonNil(t.OKActions)).
		strs("AlarmActions", nonNil(t.AlarmActions)).
		strs("InsufficientDataActions", nonNil(t.InsufficientDataActions)).
		str("OldStateValue", t.OldState.String()).
		boolean("ActionExecutedAfterMuteWindow", false).
		str("AlarmRule", t.AlarmRule).
		raw("TriggeringChildren", "["+strings.Join(children, ",")+"]").
		String()
}

// Values of ActionsSuppressedBy.
const (
	SuppressedByWaitPeriod      = "WaitPeriod"
	SuppressedByExtensionPeriod = "ExtensionPeriod"
	SuppressedByAlarm           = "Alarm"
)

// Suppressor is a composite alarm's ActionsSuppressor configuration and the suppressor's state.
type Suppressor struct {
	// WaitPeriod is how long, after the composite goes into ALARM, its actions wait for the
	// suppressor to go into ALARM; ExtensionPeriod is how long they stay suppressed after the
	// suppressor leaves ALARM.
	WaitPeriod, ExtensionPeriod time.Duration
	// State and Since are the suppressor's state and when it entered it.
	State State
	Since time.Time
	// LeftAlarm is when the suppressor last left ALARM (zero if never).
	LeftAlarm time.Time
}

// Suppression is the outcome of Suppress.
type Suppression struct {
	// Suppressed reports that the composite's actions must not run now.
	Suppressed bool
	// By is the ActionsSuppressedBy value ("" when not suppressed).
	By string
	// Reason is ActionsSuppressedReason, "Actions suppressed by WaitPeriod" [EventBridge example].
	Reason string
	// Until is when to ask again if the composite is still in the state that wants actions; zero
	// when the answer is final (actions run now, or the suppressor is in ALARM and only its
	// transition can change the answer).
	Until time.Time
}

// Suppress decides whether the actions of a composite alarm that transitioned at changed may run
// at now, given its suppressor [API CompositeAlarm.ActionsSuppressedBy]:
//   - the suppressor in ALARM suppresses them ("Alarm");
//   - within WaitPeriod after the transition, they wait for the suppressor to go into ALARM
//     ("WaitPeriod");
//   - within ExtensionPeriod after the suppressor left ALARM, they stay suppressed
//     ("ExtensionPeriod");
//   - otherwise they run.
//
// The scheduler calls it on the transition, again at Until, and whenever the suppressor changes
// state; actions run once, the first time Suppressed is false while the composite is still in the
// state it transitioned to.
func Suppress(s Suppressor, changed, now time.Time) Suppression {
	by := func(kind string, until time.Time) Suppression {
		return Suppression{Suppressed: true, By: kind, Reason: "Actions suppressed by " + kind, Until: until}
	}
	if s.State == StateAlarm {
		return by(SuppressedByAlarm, time.Time{})
	}
	if !s.LeftAlarm.IsZero() {
		if end := s.LeftAlarm.Add(s.ExtensionPeriod); now.Before(end) {
			return by(SuppressedByExtensionPeriod, end)
		}
	}
	if end := changed.Add(s.WaitPeriod); now.Before(end) && (s.LeftAlarm.IsZero() || s.LeftAlarm.Before(changed)) {
		return by(SuppressedByWaitPeriod, end)
	}
	return Suppression{}
}
