package alarm

import (
	"encoding/json"
	"unicode/utf8"
)

// InitialReason is the StateReason of every new alarm, which starts in INSUFFICIENT_DATA
// [§1.3, LS-CW-SNAP; moto's initial OK is wrong].
const InitialReason = "Unchecked: Initial alarm creation"

// SetStateRequest is a SetAlarmState call for one alarm.
type SetStateRequest struct {
	StateValue      string
	StateReason     string
	StateReasonData string
}

// Validate checks a SetAlarmState request and returns the requested state. The state must be one
// of the three values (message of §1.2 [LS-CW-SNAP]); the reason is 0..1023 characters and the
// data 0..4000 characters of valid JSON ("Data was not syntactically valid JSON." is the model's
// InvalidFormat description [BOTO-2.9.19], used verbatim as the message).
//
// Applying it is the caller's: when the state differs from the current one the alarm
// transitions (history, actions) with StateReason as given, and StateReasonData only if given
// (§1.10); setting the current state again does nothing. The next evaluation may move a metric
// alarm back — or keep the forced state when it retains (e.g. ignore without data).
func (r SetStateRequest) Validate() (State, error) {
	var c constraints
	if r.StateValue == "" {
		c.null("stateValue")
	}
	if r.StateReason == "" {
		c.null("stateReason")
	} else if utf8.RuneCountInString(r.StateReason) > 1023 {
		c.length("stateReason", r.StateReason, 0, 1023)
	}
	if utf8.RuneCountInString(r.StateReasonData) > 4000 {
		c.length("stateReasonData", r.StateReasonData, 0, 4000)
	}
	if err := c.err(); err != nil {
		return 0, err
	}
	s, err := ParseState(r.StateValue)
	if err != nil {
		return 0, err
	}
	if r.StateReasonData != "" && !json.Valid([]byte(r.StateReasonData)) {
		return 0, &Error{Code: CodeInvalidFormat, Message: "Data was not syntactically valid JSON."}
	}
	return s, nil
}

// CompositeAlarm is the configuration of a composite alarm (PutCompositeAlarm without Tags).
type CompositeAlarm struct {
	AlarmName               string
	AlarmDescription        string
	AlarmRule               string
	ActionsEnabled          bool
	OKActions               []string
	AlarmActions            []string
	InsufficientDataActions []string
	// ActionsSuppressor is an alarm name or ARN; the two periods (seconds) are then required.
	ActionsSuppressor                string
	ActionsSuppressorWaitPeriod      *int32
	ActionsSuppressorExtensionPeriod *int32
}

// Validate reproduces PutCompositeAlarm's validation and returns the parsed rule. The suppressor
// messages are unverified.
func (a *CompositeAlarm) Validate() (*Rule, error) {
	var c constraints
	if a.AlarmName == "" {
		c.null("alarmName")
	} else {
		c.length("alarmName", a.AlarmName, 1, 255)
	}
	c.length("alarmDescription", a.AlarmDescription, 0, 1024)
	if a.AlarmRule == "" {
		c.null("alarmRule")
	}
	c.list("oKActions", a.OKActions, 5)
	c.list("alarmActions", a.AlarmActions, 5)
	c.list("insufficientDataActions", a.InsufficientDataActions, 5)
	if a.ActionsSuppressor != "" {
		c.length("actionsSuppressor", a.ActionsSuppressor, 1, 1600)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	rule, err := ParseRule(a.AlarmRule)
	if err != nil {
		return nil, err
	}
	if a.ActionsSuppressor != "" {
		for _, p := range []struct {
			name string
			v    *int32
		}{{"ActionsSuppressorWaitPeriod", a.ActionsSuppressorWaitPeriod}, {"ActionsSuppressorExtensionPeriod", a.ActionsSuppressorExtensionPeriod}} {
			if p.v == nil {
				return nil, invalid(CodeValidationError, "%s is required when ActionsSuppressor is specified.", p.name)
			}
			if *p.v < 0 {
				return nil, invalid(CodeValidationError, "%s must not be negative.", p.name)
			}
		}
	} else if a.ActionsSuppressorWaitPeriod != nil || a.ActionsSuppressorExtensionPeriod != nil {
		return nil, invalid(CodeValidationError, "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod require ActionsSuppressor.")
	}
	if RefName(a.ActionsSuppressor) == a.AlarmName && a.ActionsSuppressor != "" {
		return nil, invalid(CodeValidationError, "The alarm %s cannot be its own ActionsSuppressor.", a.AlarmName)
	}
	return rule, nil
}
