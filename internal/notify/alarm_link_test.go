package notify

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// rootAction is an ALARM action of a root-usage alarm whose name needs escaping in a URL.
func rootAction(topic, name string, now time.Time) alarm.Action {
	sc := snstest.Scope
	period, n, thr := int32(300), int32(1), 1.0
	ma := &alarm.MetricAlarm{AlarmName: name, AlarmActions: []string{topic}, MetricName: "RootAccountUsageCount", Namespace: "CloudTrailMetrics",
		Statistic: "Sum", Period: &period, EvaluationPeriods: &n, Threshold: &thr, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	tr := alarm.Transition{Alarm: ma, AccountID: sc.AccountID, Region: sc.Region, OldState: alarm.StateOK, NewState: alarm.StateAlarm,
		NewStateReason: "Threshold Crossed", StateChangeTime: now, ConfigUpdated: now}
	return alarm.Action{ID: 9, Scope: alarm.Scope{AccountID: sc.AccountID, Region: sc.Region}, AlarmName: name, ActionARN: topic,
		NewState: alarm.StateAlarm, Subject: alarm.Subject(alarm.StateAlarm, name, sc.Region), Message: alarm.PublishedMessage(tr), StateUpdated: now}
}

// TestAlarmEmailConsoleLink: the evidence trailwatch adds to an alarm email ends with the link to
// the alarm's console page (issue 13: "the receivers' and emails' 'open in trailwatch' links
// point here"), path-escaped as the console's routes expect; the section is compared with
// testdata/alarm_email_evidence.golden (go test -run TestAlarmEmailConsoleLink -update rewrites
// it). The link goes into trailwatch's email text only: the JSON message keeps CloudWatch's
// members as they were, and without a public URL there is no link.
func TestAlarmEmailConsoleLink(t *testing.T) {
	const name = "Root usage/é"
	const want = "Open in trailwatch: https://trailwatch.example.com/console/alarms/" + "111122223333/eu-west-1/Root%20usage%2F%C3%A9\n"
	for _, base := range []string{"https://trailwatch.example.com/", ""} {
		ctx := context.Background()
		now := time.Date(2026, 11, 25, 20, 7, 30, 0, time.UTC)
		st := snstest.NewMemory()
		svc := snstest.NewService(st, func() time.Time { return now })
		topic := confirmedTopic(t, svc, st)
		fl := &fakeLogs{}
		for i := range 2 {
			fl.events = append(fl.events, rootEvent(i, now.Add(-time.Duration(i)*time.Second)))
		}
		p := &AlarmPublisher{SNS: svc, Logs: fl, PublicURL: base}
		if err := p.PublishAction(ctx, rootAction(topic, name, now)); err != nil {
			t.Fatal(err)
		}
		all, _ := st.Deliveries(ctx, 0, 100)
		var email, message string
		for _, d := range all[2:] {
			switch d.Protocol {
			case "email":
				email = d.Body
			case "https":
				var env struct{ Message string }
				if err := json.Unmarshal([]byte(d.Body), &env); err != nil {
					t.Fatal(err)
				}
				message = env.Message
			}
		}
		if strings.Contains(message, "/console/alarms/") || strings.Contains(message, "Open in trailwatch") {
			t.Errorf("base %q: the JSON message carries the console link:\n%s", base, message)
		}
		start := strings.Index(email, "Log events that crossed the threshold (trailwatch):")
		end := strings.Index(email, "\n--\n")
		if start < 0 || end < start {
			t.Fatalf("base %q: no evidence section before the footer:\n%s", base, email)
		}
		section := email[start:end]
		if base == "" {
			if strings.Contains(email, "Open in trailwatch") || strings.Contains(email, "/console/") {
				t.Errorf("without a public URL the email has a console link:\n%s", section)
			}
			continue
		}
		if !strings.HasSuffix(strings.TrimRight(section, "\n")+"\n", "\n\n"+want) {
			t.Errorf("the evidence section does not end with %q:\n%s", want, section)
		}
		golden := filepath.Join("testdata", "alarm_email_evidence.golden")
		if *update {
			if err := os.WriteFile(golden, []byte(section), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if section != string(g) {
			t.Errorf("evidence section differs from %s:\n--- got\n%s\n--- want\n%s", golden, section, g)
		}
	}
}
