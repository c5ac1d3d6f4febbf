package alarm

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	states := map[string]State{
		"CPUUtilizationTooHigh": StateAlarm, "DiskReadOpsTooHigh": StateOK, "NetworkOutTooHigh": StateOK,
		"DeploymentInProgress": StateInsufficientData, "a b": StateAlarm,
		"arn:aws:cloudwatch:us-east-1:123456789012:alarm:x:y": StateAlarm,
	}
	lookup := func(ref string) State { return states[ref] }
	for _, tc := range []struct {
		rule     string
		want     bool
		children []string
		canon    string
	}{
		// The three examples of the user guide (Create_Composite_Alarm) and the API reference.
		{"ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)", false, []string{"CPUUtilizationTooHigh", "DiskReadOpsTooHigh"},
			`ALARM("CPUUtilizationTooHigh") AND ALARM("DiskReadOpsTooHigh")`},
		{"ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)", true, []string{"CPUUtilizationTooHigh", "DeploymentInProgress"}, ""},
		{"(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)", true, nil, ""},
		{"(ALARM(\"CPUUtilizationTooHigh\") OR \n   ALARM(\"DiskReadOpsTooHigh\")) AND \n   OK(\"NetworkOutTooHigh\")", true, nil,
			`(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")`},
		{"TRUE", true, nil, "TRUE"},
		{"False", false, nil, "FALSE"}, // CWUG: change the AlarmRule "to `False`"
		{"NOT NOT TRUE", true, nil, "NOT NOT TRUE"},
		{"TRUE OR FALSE AND FALSE", true, nil, ""},    // AND binds tighter than OR
		{"(TRUE OR FALSE) AND FALSE", false, nil, ""}, // parentheses override
		{"NOT FALSE AND FALSE", false, nil, ""},       // NOT binds tightest
		{`ALARM("a b")`, true, []string{"a b"}, `ALARM("a b")`},
		{`INSUFFICIENT_DATA(DeploymentInProgress)`, true, nil, ""},
		{`ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:x:y)`, true, nil, ""},
		{`ALARM(x) OR ALARM("x") OR OK(x)`, false, []string{"x"}, ""},
		{`alarm(OK)`, false, []string{"OK"}, `ALARM("OK")`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := ParseRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Eval(lookup); got != tc.want {
				t.Errorf("Eval = %v, want %v", got, tc.want)
			}
			if tc.children != nil && strings.Join(r.Children(), "|") != strings.Join(tc.children, "|") {
				t.Errorf("Children = %q, want %q", r.Children(), tc.children)
			}
			if tc.canon != "" && r.String() != tc.canon {
				t.Errorf("String = %q, want %q", r.String(), tc.canon)
			}
			again, err := ParseRule(r.String())
			if err != nil || again.String() != r.String() {
				t.Errorf("canonical form does not round-trip: %q, %v", r.String(), err)
			}
		})
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, tc := range []struct{ rule, msg string }{
		// Observed: aws/aws-cdk#34662 (AWS rejecting the rule "()").
		{"()", "Error in AlarmRule [Unsupported token ')' at char 1]"},
		// Observed shape: aws/aws-cdk#13953 ("must be: ')'" after an unquoted name with a blank).
		{"ALARM(SampleQueue Oldest Age Alarm)", "Error in AlarmRule [Unsupported token 'Oldest' at char 18, must be: ')']"},
		{"ALARM(x) XOR ALARM(y)", "Error in AlarmRule [Unsupported token 'XOR' at char 9]"},
		{"ALARM x", "Error in AlarmRule [Unsupported token 'x' at char 6, must be: '(']"},
		{"(TRUE", "Error in AlarmRule [Unsupported token '' at char 5, must be: ')']"},
		{"ALARM(\"x)", "Error in AlarmRule [Unterminated string at char 6]"},
		{"TRUE AND", "Error in AlarmRule [Unsupported token '' at char 8]"},
		{"", "1 validation error detected: Value '' at 'alarmRule' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := ParseRule(tc.rule)
			var e *Error
			if !errors.As(err, &e) || e.ErrorCode() != CodeValidationError || e.ErrorMessage() != tc.msg {
				t.Fatalf("got %v, want ValidationError %q", err, tc.msg)
			}
		})
	}
}

// TestParseRuleLimits pins the §1.12 limits: 10240 characters, 100 children, 500 elements (a pair
// of parentheses counts as one).
func TestParseRuleLimits(t *testing.T) {
	refs := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "ALARM(a" + strings.Repeat("x", i%3) + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)) + ")"
		}
		return strings.Join(parts, " OR ")
	}
	if _, err := ParseRule(refs(100)); err != nil {
		t.Errorf("100 children: %v", err)
	}
	if _, err := ParseRule(refs(101)); err == nil || !strings.Contains(err.Error(), "Too many alarms: 101") {
		t.Errorf("101 children: %v", err)
	}
	elems := strings.Repeat("(", 249) + "TRUE" + strings.Repeat(")", 249) + " OR TRUE" // 249+1+1 = 251
	if _, err := ParseRule(elems); err != nil {
		t.Errorf("251 elements: %v", err)
	}
	elems = strings.Repeat("(", 499) + "TRUE" + strings.Repeat(")", 499) + " OR TRUE" // 501
	if _, err := ParseRule(elems); err == nil || !strings.Contains(err.Error(), "Too many elements: 501") {
		t.Errorf("501 elements: %v", err)
	}
	if _, err := ParseRule(strings.Repeat(" ", 10237) + "TRUE"); err == nil || !strings.Contains(err.Error(), "less than or equal to 10240") {
		t.Errorf("10241 characters: %v", err)
	}
	if got := RefName("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a:b"); got != "a:b" {
		t.Errorf("RefName = %q", got)
	}
	if got := RefName("plain"); got != "plain" {
		t.Errorf("RefName = %q", got)
	}
}

// FuzzParseRule checks that the parser never panics, that accepted rules respect the limits, and
// that the canonical form round-trips to a rule with the same children and truth table.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"ALARM(a) AND NOT OK(\"b c\")", "(TRUE OR FALSE) AND INSUFFICIENT_DATA(x)", "()", "ALARM(", "NOT",
		`ALARM("a\"b")`, "((((ALARM(a)))))", "alarm(x) or ok(y)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if len(r.Children()) > MaxRuleChildren || r.elements > MaxRuleElements {
			t.Fatalf("limits not enforced: %d children, %d elements", len(r.Children()), r.elements)
		}
		again, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("canonical form %q rejected: %v", r.String(), err)
		}
		if strings.Join(again.Children(), "\x00") != strings.Join(r.Children(), "\x00") {
			t.Fatalf("children changed: %q vs %q", r.Children(), again.Children())
		}
		kids := r.Children()
		if len(kids) > 8 {
			kids = kids[:8]
		}
		for mask := 0; mask < 1<<len(kids); mask++ {
			st := func(ref string) State {
				for i, k := range kids {
					if k == ref && mask&(1<<i) != 0 {
						return StateAlarm
					}
				}
				return StateOK
			}
			if r.Eval(st) != again.Eval(st) {
				t.Fatalf("truth table differs for %q", s)
			}
		}
	})
}
