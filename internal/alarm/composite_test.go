package alarm

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const acct = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"

// TestCompositeReasons reproduces the composite reason texts of the AWS EventBridge examples
// ("CloudWatch Alarm State Change" with a suppressor, 2022-07-22).
func TestCompositeReasons(t *testing.T) {
	rule, err := ParseRule("ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)")
	if err != nil {
		t.Fatal(err)
	}
	children := map[string]ChildState{
		"ServerCpuTooHigh":           {ARN: acct + "ServerCpuTooHigh", State: StateOK, Since: at("2022-07-14T16:28:54.191")},
		"TotalNetworkTrafficTooHigh": {ARN: acct + "TotalNetworkTrafficTooHigh", State: StateOK, Since: at("2022-07-14T16:28:57.770")},
	}
	in := CompositeInput{ARN: acct + "SuppressionDemo.EventBridge.Main", Rule: rule, Children: children, Cause: CauseCreated}
	r := EvaluateComposite(in)
	if r.State != StateOK || r.Reason != acct+"SuppressionDemo.EventBridge.Main was created and its alarm rule evaluates to OK" {
		t.Fatalf("created: %v %q", r.State, r.Reason)
	}
	wantData := `{"triggeringAlarms":[{"arn":"` + acct + `ServerCpuTooHigh","state":{"value":"OK","timestamp":"2022-07-14T16:28:54.191+0000"}},` +
		`{"arn":"` + acct + `TotalNetworkTrafficTooHigh","state":{"value":"OK","timestamp":"2022-07-14T16:28:57.770+0000"}}]}`
	if r.ReasonData != wantData {
		t.Fatalf("created data\n got %s\nwant %s", r.ReasonData, wantData)
	}

	children["ServerCpuTooHigh"] = ChildState{ARN: acct + "ServerCpuTooHigh", State: StateAlarm, Since: at("2022-07-22T15:57:45.394")}
	in.Cause, in.Trigger = CauseChild, "ServerCpuTooHigh"
	r = EvaluateComposite(in)
	if r.State != StateAlarm || r.Reason != acct+"ServerCpuTooHigh transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC" {
		t.Fatalf("child: %v %q", r.State, r.Reason)
	}
	if want := `{"triggeringAlarms":[{"arn":"` + acct + `ServerCpuTooHigh","state":{"value":"ALARM","timestamp":"2022-07-22T15:57:45.394+0000"}}]}`; r.ReasonData != want {
		t.Fatalf("child data %s", r.ReasonData)
	}

	in.Cause = CauseUpdated
	if r := EvaluateComposite(in); r.Reason != acct+"SuppressionDemo.EventBridge.Main was updated and its alarm rule evaluates to ALARM" {
		t.Fatalf("updated: %q", r.Reason)
	}
	// A deleted child counts as INSUFFICIENT_DATA.
	nd, _ := ParseRule("INSUFFICIENT_DATA(gone)")
	if r := EvaluateComposite(CompositeInput{ARN: acct + "c", Rule: nd, Cause: CauseCreated}); r.State != StateAlarm {
		t.Fatalf("deleted child: %v", r.State)
	}
}

func TestCompositeMessage(t *testing.T) {
	msg := CompositeMessage(CompositeTransition{
		AlarmName: "ServiceAggregatedAlarm", AlarmRule: "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
		AccountID: "123456789012", Region: "us-east-1", OldState: StateOK, NewState: StateAlarm,
		NewStateReason:  acct + "ServerCpuTooHigh transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC",
		StateChangeTime: at("2022-07-22T15:57:45.394"), ConfigUpdated: at("2022-03-03T17:06:22.289"),
		TriggeringChildren: []ChildState{{ARN: acct + "ServerCpuTooHigh", State: StateAlarm, Since: at("2022-07-22T15:57:45.394")}},
	})
	for _, want := range []string{`"AlarmRule":"ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)"`,
		`"TriggeringChildren":[{"Arn":"` + acct + `ServerCpuTooHigh","State":{"Value":"ALARM","Timestamp":"2022-07-22T15:57:45.394+0000"}}]`,
		`"Region":"US East (N. Virginia)"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %s", want)
		}
	}
	if strings.Contains(msg, `"Trigger"`) {
		t.Errorf("composite message must not carry Trigger")
	}
	// Member order of AWS's documented composite schema and of the real 2022 message
	// {"AlarmName",…,"AlarmArn","OKActions","AlarmActions","InsufficientDataActions","OldStateValue","AlarmRule","TriggeringChildren"}.
	var keys []string
	dec := json.NewDecoder(strings.NewReader(msg))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && dec.More() {
				keys = append(keys, v)
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want := "AlarmName AlarmDescription AWSAccountId NewStateValue NewStateReason StateChangeTime Region AlarmArn " +
		"OKActions AlarmActions InsufficientDataActions OldStateValue ActionExecutedAfterMuteWindow AlarmRule TriggeringChildren"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("members\n got %s\nwant %s", got, want)
	}
	golden(t, "message_composite.golden.json", msg+"\n")
}

// TestSuppress walks the actions-suppression cases of the API reference (ActionsSuppressedBy) with
// WaitPeriod 120 s and ExtensionPeriod 180 s, the values of the AWS EventBridge example.
func TestSuppress(t *testing.T) {
	changed := at("2022-07-22T15:57:45.394")
	s := Suppressor{WaitPeriod: 120 * time.Second, ExtensionPeriod: 180 * time.Second, State: StateOK}
	sec := func(n int) time.Time { return changed.Add(time.Duration(n) * time.Second) }

	// Suppressor stays OK: wait 120 s, then act.
	got := Suppress(s, changed, sec(0))
	if !got.Suppressed || got.By != SuppressedByWaitPeriod || got.Reason != "Actions suppressed by WaitPeriod" || !got.Until.Equal(sec(120)) {
		t.Fatalf("at 0 s: %+v", got)
	}
	if got := Suppress(s, changed, sec(120)); got.Suppressed {
		t.Fatalf("at 120 s: %+v", got)
	}
	// Suppressor goes into ALARM within the wait: suppressed by Alarm, no deadline.
	s.State, s.Since = StateAlarm, sec(60)
	if got := Suppress(s, changed, sec(60)); got.By != SuppressedByAlarm || !got.Until.IsZero() {
		t.Fatalf("suppressor in ALARM: %+v", got)
	}
	// It leaves ALARM at 300 s: suppressed by ExtensionPeriod until 480 s, then act.
	s.State, s.Since, s.LeftAlarm = StateOK, sec(300), sec(300)
	if got := Suppress(s, changed, sec(400)); got.By != SuppressedByExtensionPeriod || !got.Until.Equal(sec(480)) {
		t.Fatalf("extension: %+v", got)
	}
	if got := Suppress(s, changed, sec(480)); got.Suppressed {
		t.Fatalf("after extension: %+v", got)
	}
	// A suppressor that left ALARM long before the transition only imposes the wait.
	old := Suppressor{WaitPeriod: 120 * time.Second, ExtensionPeriod: 180 * time.Second, State: StateOK, LeftAlarm: sec(-3600)}
	if got := Suppress(old, changed, sec(10)); got.By != SuppressedByWaitPeriod {
		t.Fatalf("old suppressor: %+v", got)
	}
}

func TestCycle(t *testing.T) {
	graph := map[string][]string{
		"a": {"b", "m"}, "b": {acct + "c"}, "c": {"a"}, "m": nil,
		"x": {"y"}, "y": {"y2"}, "y2": {"y"},
	}
	children := func(n string) []string { return graph[n] }
	if got := strings.Join(Cycle("a", children), " -> "); got != "a -> b -> c -> a" {
		t.Errorf("cycle through a: %q", got)
	}
	if got := Cycle("x", children); got != nil {
		t.Errorf("x only feeds a cycle it is not part of: %q", got)
	}
	if got := Cycle("m", children); got != nil {
		t.Errorf("metric alarm: %q", got)
	}
}
