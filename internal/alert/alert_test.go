package alert

import (
	"strings"
	"testing"
	"time"
)

func TestParseAlarmMessage(t *testing.T) {
	msg := `{"AlarmName":"Root usage/é","AlarmDescription":null,"AWSAccountId":"111122223333","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed","StateChangeTime":"2026-11-25T20:00:01.123+0000","Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:Root usage/é","OldStateValue":"OK","Trigger":{},"TrailwatchLogEvidence":{"LogEvents":[{"logGroupName":"g","logStreamName":"s","filterName":"f","timestamp":1,"cloudTrail":{"eventName":"ConsoleLogin","userIdentityArn":"arn:aws:iam::111122223333:root","sourceIPAddress":"203.0.113.7"}}],"Omitted":2,"OmittedIsLowerBound":false}}`
	a := Parse("m1", "arn:aws:sns:us-east-1:111122223333:t", `ALARM: "Root usage/é" in US East (N. Virginia)`, msg, "https://tw.example/")
	if !a.IsAlarm || a.Region != "us-east-1" || a.AccountID != "111122223333" || a.NewState != "ALARM" || a.OldState != "OK" {
		t.Fatalf("%+v", a)
	}
	if want := time.Date(2026, 11, 25, 20, 0, 1, 123e6, time.UTC); !a.StateChangeTime.Equal(want) {
		t.Errorf("time %v", a.StateChangeTime)
	}
	if a.Link != "https://tw.example/console/alarms/111122223333/us-east-1/Root%20usage%2F%C3%A9" {
		t.Errorf("link %q", a.Link)
	}
	if len(a.Evidence) != 1 || a.Omitted != 2 {
		t.Errorf("evidence %+v", a.Evidence)
	}
	if s := a.Summary(); s != `ALARM: "Root usage/é" in US East (N. Virginia): ConsoleLogin by arn:aws:iam::111122223333:root from 203.0.113.7 (+2 more)` {
		t.Errorf("summary %q", s)
	}
}

func TestParsePlain(t *testing.T) {
	for _, msg := range []string{"hello\nworld", `{"not":"an alarm"}`, `{"AlarmName":"x"}`, ""} {
		a := Parse("m", "t", "", msg, "https://tw.example")
		if a.IsAlarm || a.Text != msg || a.Link != "" {
			t.Errorf("%q parsed as %+v", msg, a)
		}
	}
	if got := Parse("m", "t", "", "first line\nsecond", "").Title(); got != "first line" {
		t.Errorf("title %q", got)
	}
	if got := Parse("m", "t", "Subj", "x", "").Title(); got != "Subj" {
		t.Errorf("title %q", got)
	}
}

func TestEvidenceTextFormat(t *testing.T) {
	e := Evidence{LogGroupName: "g", LogStreamName: "s", FilterName: "f", Timestamp: 0, CloudTrail: &CloudTrailSummary{
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Outcome: "Success", UserIdentityType: "Root",
		UserIdentityARN: "arn", SourceIPAddress: "1.2.3.4", UserAgent: "ua", AWSRegion: "us-east-1", RecipientAccountID: "1", MFAUsed: "No", EventTime: "t"}}
	got := EvidenceText([]Evidence{e, {LogGroupName: "g", Message: "raw"}}, 3, true)
	for _, want := range []string{"- Who:    Root arn\n", "- What:   signin.amazonaws.com ConsoleLogin, outcome Success\n", "- Where:  source IP 1.2.3.4, user agent ua, region us-east-1, account 1\n", "- MFA:    No\n", "- When:   t\n", "- Event:  raw\n", "... and at least 3 more matching events (2 shown).\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestCleanCutsOnRuneBoundary(t *testing.T) {
	if got := Clean("aé\x00b", 2); got != "a…" {
		t.Errorf("%q", got)
	}
	if got := Clean("a\nb", 10); got != "a b" {
		t.Errorf("%q", got)
	}
}

// FuzzParse: any SNS message parses without panicking, as an alarm with a state and a name or as
// text that keeps the message whole.
func FuzzParse(f *testing.F) {
	f.Add(`{"AlarmName":"a","NewStateValue":"ALARM","AlarmArn":"arn:aws:cloudwatch:us-east-1:1:alarm:a","StateChangeTime":"2026-11-25T20:00:01.123+0000","TrailwatchLogEvidence":{"LogEvents":[{"message":"x"}],"Omitted":-5}}`)
	f.Add("plain\ntext")
	f.Add(`{"AlarmName":"a","NewStateValue":"OK","AlarmArn":"::::::"}`)
	f.Fuzz(func(t *testing.T, msg string) {
		a := Parse("m", "t", "", msg, "https://tw.example")
		if a.IsAlarm && (a.AlarmName == "" || a.NewState == "" || a.Title() == "") {
			t.Fatalf("alarm without name or state: %+v", a)
		}
		if !a.IsAlarm && a.Text != msg {
			t.Fatalf("text changed")
		}
		_ = a.Summary()
		_ = EvidenceText(a.Evidence, a.Omitted, a.OmittedIsLowerBound)
	})
}

// TestLinkText: the email's link line is the shared label and the link alone, nothing without one.
func TestLinkText(t *testing.T) {
	for _, tc := range []struct{ link, want string }{
		{"", ""},
		{ConsoleLink("https://tw.example/", "111122223333", "us-east-1", "a b"), "Open in trailwatch: https://tw.example/console/alarms/111122223333/us-east-1/a%20b\n"},
	} {
		if got := LinkText(tc.link); got != tc.want {
			t.Errorf("LinkText(%q) = %q, want %q", tc.link, got, tc.want)
		}
	}
}
