package alarm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSetStateValidate(t *testing.T) {
	s, err := SetStateRequest{StateValue: "ALARM", StateReason: "testing alarm"}.Validate()
	if err != nil || s != StateAlarm {
		t.Fatalf("valid request: %v %v", s, err)
	}
	for _, tc := range []struct {
		req  SetStateRequest
		code string
		msg  string
	}{
		{SetStateRequest{StateValue: "INVALID", StateReason: "r"}, CodeValidationError,
			"1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"},
		{SetStateRequest{StateValue: "OK", StateReason: "r", StateReasonData: "{"}, CodeInvalidFormat, "Data was not syntactically valid JSON."},
		{SetStateRequest{StateValue: "OK"}, CodeValidationError,
			"1 validation error detected: Value null at 'stateReason' failed to satisfy constraint: Member must not be null"},
		{SetStateRequest{StateValue: "OK", StateReason: strings.Repeat("r", 1024)}, CodeValidationError,
			"1 validation error detected: Value '" + strings.Repeat("r", 1024) + "' at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023"},
	} {
		_, err := tc.req.Validate()
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%+v: got %v, want %s %q", tc.req, err, tc.code, tc.msg)
		}
	}
}

// TestSetStateThenEvaluate pins §1.10: a forced state lasts until the next evaluation decides
// otherwise; with ignore and no data it sticks [LS-CW-SNAP].
func TestSetStateThenEvaluate(t *testing.T) {
	a := testAlarm(1, 0, TreatIgnore)
	forced := StateOK
	if r := Evaluate(a, nil, forced, evalNow); r.Changed(forced) {
		t.Fatalf("ignore without data moved the forced state to %v", r.State)
	}
	a.TreatMissingData = TreatMissing
	forced = StateAlarm
	if r := Evaluate(a, nil, forced, evalNow); !r.Changed(forced) || r.State != StateInsufficientData {
		t.Fatalf("missing without data: %v", r.State)
	}
	pts := pattern(t, a, evalNow, "0")
	if r := Evaluate(a, pts, forced, evalNow.Add(time.Second)); !r.Changed(forced) || r.State != StateOK {
		t.Fatalf("real data returns the alarm to its actual state: %v", r.State)
	}
}

func TestCompositeValidate(t *testing.T) {
	c := &CompositeAlarm{AlarmName: "c", AlarmRule: "ALARM(a) OR ALARM(b)", ActionsEnabled: true}
	rule, err := c.Validate()
	if err != nil || len(rule.Children()) != 2 {
		t.Fatalf("valid composite: %v", err)
	}
	c.ActionsSuppressor = "maintenance"
	if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ActionsSuppressorWaitPeriod is required") {
		t.Fatalf("suppressor without periods: %v", err)
	}
	c.ActionsSuppressorWaitPeriod, c.ActionsSuppressorExtensionPeriod = ptr(int32(120)), ptr(int32(180))
	if _, err := c.Validate(); err != nil {
		t.Fatalf("suppressor with periods: %v", err)
	}
	c.AlarmRule = "()"
	if _, err := c.Validate(); err == nil || err.(*Error).Message != "Error in AlarmRule [Unsupported token ')' at char 1]" {
		t.Fatalf("bad rule: %v", err)
	}
	c.AlarmRule = ""
	if _, err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Value null at 'alarmRule'") {
		t.Fatalf("missing rule: %v", err)
	}
}
