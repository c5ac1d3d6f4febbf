package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

// fakeLogs serves one metric filter and a fixed list of events, recording the queries.
type fakeLogs struct {
	events  []logs.Event
	queries []logs.FilterLogEventsInput
}

func (f *fakeLogs) DescribeMetricFilters(_ context.Context, _ logs.Scope, in logs.DescribeMetricFiltersInput) (logs.DescribeMetricFiltersOutput, error) {
	if in.MetricName != "RootAccountUsageCount" || in.MetricNamespace != "CloudTrailMetrics" {
		return logs.DescribeMetricFiltersOutput{}, nil
	}
	return logs.DescribeMetricFiltersOutput{MetricFilters: []logs.MetricFilter{{LogGroupName: "CloudTrail/DefaultLogGroup", FilterName: "RootAccountUsage", FilterPattern: "{ $.userIdentity.type = \"Root\" }"}}}, nil
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, _ logs.Scope, in logs.FilterLogEventsInput) (logs.FilterLogEventsOutput, error) {
	f.queries = append(f.queries, in)
	var out []logs.Event
	for _, e := range f.events {
		if e.Timestamp >= in.StartTime && e.Timestamp < in.EndTime {
			out = append(out, e)
		}
	}
	return logs.FilterLogEventsOutput{Events: out}, nil
}

func rootEvent(i int, ts time.Time) logs.Event {
	msg := fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d","userAgent":"Mozilla/5.0\r\nBcc: x@y","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
		ts.UTC().Format(time.RFC3339), i)
	return logs.Event{LogStreamName: "111122223333_CloudTrail_us-east-1", Timestamp: ts.UnixMilli(), Message: msg}
}

func TestAlarmPublisherEnrichesAndDedups(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 20, 7, 30, 0, time.UTC)
	st := snstest.NewMemory()
	svc := snstest.NewService(st, func() time.Time { return now })
	sc := snstest.Scope
	topic, _ := svc.CreateTopic(ctx, sc, "alerts", nil, nil)
	for _, p := range []struct{ proto, endpoint string }{{"email", "ops@example.com"}, {"https", "https://hooks.example/x"}} {
		svc.Subscribe(ctx, sc, sns.SubscribeInput{TopicARN: topic, Protocol: p.proto, Endpoint: p.endpoint})
	}
	ds, _ := st.Deliveries(ctx, 0, 100)
	for _, d := range ds {
		body := d.Body
		i := strings.Index(body, "Token=")
		tok := body[i+6:]
		tok = tok[:strings.IndexAny(tok, "&\"\n")]
		if _, err := svc.ConfirmSubscription(ctx, sc, topic, tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	period, n, thr := int32(300), int32(1), 1.0
	ma := &alarm.MetricAlarm{AlarmName: "root-usage", AlarmActions: []string{topic}, MetricName: "RootAccountUsageCount", Namespace: "CloudTrailMetrics",
		Statistic: "Sum", Period: &period, EvaluationPeriods: &n, Threshold: &thr, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	tr := alarm.Transition{Alarm: ma, AccountID: sc.AccountID, Region: sc.Region, OldState: alarm.StateOK, NewState: alarm.StateAlarm,
		NewStateReason: "Threshold Crossed", StateChangeTime: now, ConfigUpdated: now}
	act := alarm.Action{ID: 7, Scope: alarm.Scope{AccountID: sc.AccountID, Region: sc.Region}, AlarmName: "root-usage", ActionARN: topic,
		NewState: alarm.StateAlarm, Subject: alarm.Subject(alarm.StateAlarm, "root-usage", sc.Region), Message: alarm.PublishedMessage(tr), StateUpdated: now}
	fl := &fakeLogs{}
	for i := range 12 {
		fl.events = append(fl.events, rootEvent(i, now.Add(-time.Duration(i)*time.Second)))
	}
	fl.events = append(fl.events, rootEvent(99, now.Add(-time.Hour))) // outside the window
	p := &AlarmPublisher{SNS: svc, Logs: fl}
	if err := p.PublishAction(ctx, act); err != nil {
		t.Fatal(err)
	}
	if err := p.PublishAction(ctx, act); err != nil { // republished after a crash
		t.Fatal(err)
	}
	all, _ := st.Deliveries(ctx, 0, 100)
	notes := all[2:]
	if len(notes) != 2 {
		t.Fatalf("%d notifications, want 2 (one per subscription, once)", len(notes))
	}
	start, end := Window(now, 300, 1)
	if q := fl.queries[0]; q.StartTime != start.UnixMilli() || q.EndTime != end.UnixMilli() || q.LogGroupName != "CloudTrail/DefaultLogGroup" {
		t.Errorf("query %+v", q)
	}
	if !start.Equal(time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)) {
		t.Errorf("window start %v", start)
	}
	for _, d := range notes {
		switch d.Protocol {
		case "email":
			if d.Subject != `ALARM: "root-usage" in EU (Ireland)` {
				t.Errorf("subject %q", d.Subject)
			}
			for _, want := range []string{
				"You are receiving this email because your Amazon CloudWatch Alarm \"root-usage\"",
				"- Who:    Root arn:aws:iam::111122223333:root",
				"- What:   signin.amazonaws.com ConsoleLogin, outcome Success",
				"- Where:  source IP 203.0.113.0, user agent Mozilla/5.0  Bcc: x@y, region us-east-1, account 111122223333",
				"- MFA:    No",
				"... and 2 more matching events (10 shown).",
				"\n--\nIf you wish to stop receiving notifications",
			} {
				if !strings.Contains(d.Body, want) {
					t.Errorf("email lacks %q:\n%s", want, d.Body)
				}
			}
		case "https":
			var env struct{ Message string }
			json.Unmarshal([]byte(d.Body), &env)
			if !strings.HasPrefix(env.Message, alarm.Message(tr)[:len(alarm.Message(tr))-1]+`,"`+EvidenceKey+`":{"LogEvents":[{`) {
				t.Errorf("JSON message does not extend CloudWatch's:\n%s", env.Message)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(env.Message), &m); err != nil {
				t.Fatal(err)
			}
			ev := m[EvidenceKey].(map[string]any)
			if len(ev["LogEvents"].([]any)) != ShownEvents || ev["Omitted"].(float64) != 2 {
				t.Errorf("evidence %v", ev)
			}
		}
	}

	// An OK transition is published unchanged.
	tr.NewState, tr.OldState = alarm.StateOK, alarm.StateAlarm
	act.ID, act.NewState, act.Message = 8, alarm.StateOK, alarm.PublishedMessage(tr)
	if err := p.PublishAction(ctx, act); err != nil {
		t.Fatal(err)
	}
	all, _ = st.Deliveries(ctx, 0, 100)
	for _, d := range all[4:] {
		if strings.Contains(d.Body, EvidenceKey) || strings.Contains(d.Body, "Log events that crossed") {
			t.Errorf("OK notification enriched:\n%s", d.Body)
		}
	}
}

// lockedStore is an SNS store whose reads fail as a busy database's do.
type lockedStore struct{ *snstest.Memory }

func (lockedStore) GetTopic(context.Context, string) (*sns.Topic, error) {
	return nil, errors.New("database is locked")
}

// SNS's client errors are permanent for the alarm dispatcher (the action fails at once with the
// error's message, as CloudWatch records it); other errors are transient and the action is
// retried (issue 11, item 5).
func TestAlarmPublisherClassifiesErrors(t *testing.T) {
	scope := alarm.Scope{AccountID: snstest.Scope.AccountID, Region: snstest.Scope.Region}
	act := func(arn string) alarm.Action {
		return alarm.Action{ID: 1, Scope: scope, ActionARN: arn, Subject: "ALARM: \"é\" in x", Message: `{"default":"{}"}`}
	}
	p := &AlarmPublisher{SNS: snstest.NewService(snstest.NewMemory(), time.Now)}
	for arn, reason := range map[string]string{
		"arn:aws:sns:eu-west-1:111122223333:gone": "Topic does not exist",
		"not-an-arn": "Invalid parameter: TopicArn",
	} {
		err := p.PublishAction(context.Background(), act(arn))
		var perm *alarm.PermanentError
		if !errors.As(err, &perm) || !strings.HasPrefix(perm.Reason, reason) {
			t.Errorf("%s: got %v, want a permanent error %q", arn, err, reason)
		}
	}
	busy := &AlarmPublisher{SNS: snstest.NewService(lockedStore{snstest.NewMemory()}, time.Now)}
	err := busy.PublishAction(context.Background(), act("arn:aws:sns:eu-west-1:111122223333:alerts"))
	var perm *alarm.PermanentError
	if err == nil || errors.As(err, &perm) || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("locked database: got %v, want a transient error", err)
	}
}

// bigLogs serves, for any metric, one metric filter with a 512-character name of '<' and fixed
// events.
type bigLogs struct{ events []logs.Event }

func (f *bigLogs) DescribeMetricFilters(context.Context, logs.Scope, logs.DescribeMetricFiltersInput) (logs.DescribeMetricFiltersOutput, error) {
	return logs.DescribeMetricFiltersOutput{MetricFilters: []logs.MetricFilter{{LogGroupName: "app", FilterName: strings.Repeat("<", 512), FilterPattern: "x"}}}, nil
}

func (f *bigLogs) FilterLogEvents(context.Context, logs.Scope, logs.FilterLogEventsInput) (logs.FilterLogEventsOutput, error) {
	return logs.FilterLogEventsOutput{Events: f.events}, nil
}

// confirmedTopic creates the topic "alerts" with a confirmed email and https subscription.
func confirmedTopic(t *testing.T, svc *sns.Service, st *snstest.Memory) string {
	t.Helper()
	ctx := context.Background()
	topic, err := svc.CreateTopic(ctx, snstest.Scope, "alerts", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ proto, endpoint string }{{"email", "ops@example.com"}, {"https", "https://hooks.example/x"}} {
		if _, err := svc.Subscribe(ctx, snstest.Scope, sns.SubscribeInput{TopicARN: topic, Protocol: p.proto, Endpoint: p.endpoint}); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := st.Deliveries(ctx, 0, 100)
	for _, d := range ds {
		i := strings.Index(d.Body, "Token=")
		tok := d.Body[i+6:]
		tok = tok[:strings.IndexAny(tok, "&\"\n")]
		if _, err := svc.ConfirmSubscription(ctx, snstest.Scope, topic, tok, ""); err != nil {
			t.Fatal(err)
		}
	}
	return topic
}

// bigAction is an ALARM action of the alarm "errors" (metric Errors) to topic.
func bigAction(topic string, now time.Time) alarm.Action {
	sc := snstest.Scope
	period, n, thr := int32(300), int32(1), 1.0
	ma := &alarm.MetricAlarm{AlarmName: "errors", AlarmActions: []string{topic}, MetricName: "Errors", Namespace: "App",
		Statistic: "Sum", Period: &period, EvaluationPeriods: &n, Threshold: &thr, ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	tr := alarm.Transition{Alarm: ma, AccountID: sc.AccountID, Region: sc.Region, OldState: alarm.StateOK, NewState: alarm.StateAlarm,
		NewStateReason: "Threshold Crossed", StateChangeTime: now, ConfigUpdated: now}
	return alarm.Action{ID: 7, Scope: alarm.Scope{AccountID: sc.AccountID, Region: sc.Region}, AlarmName: "errors", ActionARN: topic,
		NewState: alarm.StateAlarm, Subject: alarm.Subject(alarm.StateAlarm, "errors", sc.Region), Message: alarm.PublishedMessage(tr), StateUpdated: now}
}

// The evidence is bounded by its encoded size: ten 1,000-byte events of '<' with 512-character
// stream and filter names (each '<' costs 13 bytes once escaped as \u003c in the default
// member, escaped again in the published document, and once more in the email member) used to
// push the message past SNS's 256 KiB; SNS answered "Message too long", the action failed
// permanently and nobody was notified (issue 11 review). Now the events that do not fit are
// left out, the email says so, and the alarm is published.
func TestAlarmPublisherBoundsEvidenceBySize(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 20, 7, 30, 0, time.UTC)
	st := snstest.NewMemory()
	svc := snstest.NewService(st, func() time.Time { return now })
	topic := confirmedTopic(t, svc, st)
	act := bigAction(topic, now)
	fl := &bigLogs{}
	for i := range ShownEvents {
		fl.events = append(fl.events, logs.Event{LogStreamName: strings.Repeat("<", 512), Timestamp: now.Add(-time.Duration(i) * time.Second).UnixMilli(),
			Message: strings.Repeat("<", 1000)})
	}
	p := &AlarmPublisher{SNS: svc, Logs: fl}
	if err := p.PublishAction(ctx, act); err != nil {
		t.Fatalf("publish: %v", err)
	}
	all, _ := st.Deliveries(ctx, 0, 100)
	notes := all[2:]
	if len(notes) != 2 {
		t.Fatalf("%d notifications, want 2", len(notes))
	}
	for _, d := range notes {
		switch d.Protocol {
		case "email":
			for _, want := range []string{
				"You are receiving this email because your Amazon CloudWatch Alarm \"errors\"",
				"Log events that crossed the threshold (trailwatch):",
				"[1] ", "... and 1 more matching events (9 shown).",
				"1 more events not shown: with them the message would exceed SNS's 256 KiB limit.",
			} {
				if !strings.Contains(d.Body, want) {
					t.Errorf("email lacks %q", want)
				}
			}
		case "https":
			var env struct{ Message string }
			if err := json.Unmarshal([]byte(d.Body), &env); err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(env.Message), &m); err != nil {
				t.Fatal(err)
			}
			var ev evidenceDoc
			if err := json.Unmarshal(m[EvidenceKey], &ev); err != nil {
				t.Fatal(err)
			}
			if len(ev.LogEvents) != 9 || ev.Omitted != 1 || ev.OmittedForSize != 1 {
				t.Errorf("evidence: %d events, Omitted %d, OmittedForSize %d; want 9, 1, 1", len(ev.LogEvents), ev.Omitted, ev.OmittedForSize)
			}
		}
	}
}

// scriptedSNS records each Publish and answers with errs in order (nil once they run out).
type scriptedSNS struct {
	errs []error
	ins  []sns.PublishInput
}

func (s *scriptedSNS) Publish(_ context.Context, _ sns.Scope, in sns.PublishInput) (string, error) {
	s.ins = append(s.ins, in)
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	}
	return "id", err
}

// If SNS refuses the enriched message as an invalid parameter (its size counted differently
// from ours, say), the message CloudWatch would have sent is published instead, once, under the
// same dedup key: the alarm is never lost to trailwatch's additions (issue 11 review). Other
// errors are not retried here, and CloudWatch's own message is not retried at all.
func TestAlarmPublisherFallsBackToCloudWatchsMessage(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 7, 30, 0, time.UTC)
	topic := "arn:aws:sns:eu-west-1:111122223333:alerts"
	tooLong := &sns.Error{Code: "InvalidParameter", Message: "Invalid parameter: Message too long"}
	notFound := &sns.Error{Code: "NotFound", Message: "Topic does not exist", Status: 404}
	locked := errors.New("database is locked")
	fl := &bigLogs{}
	for i := range 3 {
		fl.events = append(fl.events, rootEvent(i, now.Add(-time.Duration(i)*time.Second)))
	}
	ok := bigAction(topic, now)
	ok.NewState = alarm.StateOK
	for _, c := range []struct {
		name      string
		act       alarm.Action
		errs      []error
		calls     int
		permanent string // the PermanentError's reason; "" for success or a transient error
		transient bool
	}{
		{name: "refused then plain", act: bigAction(topic, now), errs: []error{tooLong}, calls: 2},
		{name: "both refused", act: bigAction(topic, now), errs: []error{tooLong, tooLong}, calls: 2, permanent: "Invalid parameter: Message too long"},
		{name: "not found", act: bigAction(topic, now), errs: []error{notFound}, calls: 1, permanent: "Topic does not exist"},
		{name: "transient", act: bigAction(topic, now), errs: []error{locked}, calls: 1, transient: true},
		{name: "plain refused", act: ok, errs: []error{tooLong}, calls: 1, permanent: "Invalid parameter: Message too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &scriptedSNS{errs: c.errs}
			act := c.act
			err := (&AlarmPublisher{SNS: s, Logs: fl}).PublishAction(context.Background(), act)
			if len(s.ins) != c.calls {
				t.Fatalf("%d publishes, want %d", len(s.ins), c.calls)
			}
			if act.NewState == alarm.StateAlarm && !strings.Contains(s.ins[0].Message, EvidenceKey) {
				t.Fatalf("first publish is not enriched: %s", s.ins[0].Message)
			}
			if c.calls == 2 {
				if in := s.ins[1]; in.Message != act.Message || in.DedupKey != s.ins[0].DedupKey || in.DedupKey != "alarm-action/7" ||
					*in.Subject != *s.ins[0].Subject || in.MessageStructure != "json" || in.TopicARN != topic {
					t.Errorf("fallback publish %+v, want CloudWatch's message under the same key", in)
				}
			}
			var perm *alarm.PermanentError
			switch {
			case c.permanent != "":
				if !errors.As(err, &perm) || perm.Reason != c.permanent {
					t.Errorf("error %v, want a permanent error %q", err, c.permanent)
				}
			case c.transient:
				if err == nil || errors.As(err, &perm) {
					t.Errorf("error %v, want a transient error", err)
				}
			case err != nil:
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestASCIISubject(t *testing.T) {
	for in, want := range map[string]string{
		`ALARM: "root" in US East (N. Virginia)`: `ALARM: "root" in US East (N. Virginia)`,
		"ALARM: \"é\r\n\" in x":                  `ALARM: "???" in x`,
		strings.Repeat("a", 150):                 strings.Repeat("a", 99),
	} {
		if got := asciiSubject(in); got != want {
			t.Errorf("asciiSubject(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzEvidence: whatever a log event holds, its description is one line per field with no
// control characters, and the JSON evidence stays valid.
func FuzzEvidence(f *testing.F) {
	f.Add(rootEvent(1, time.Unix(0, 0)).Message)
	f.Add(`{"eventSource":"s","eventName":"n\r\nBcc: x","userIdentity":{"type":"Root\u2028x"},"additionalEventData":{"MFAUsed":true}}`)
	f.Add("plain text\x00\x1b[2J")
	f.Fuzz(func(t *testing.T, msg string) {
		ev := describe(logs.MetricFilter{LogGroupName: "g", FilterName: "f"}, logs.Event{LogStreamName: "s", Message: msg})
		text := EvidenceText([]Evidence{ev}, 0, false)
		for _, r := range text {
			if r != '\n' && (r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029) {
				t.Fatalf("control character %U in:\n%q", r, text)
			}
		}
		if ev.CloudTrail != nil && strings.Count(text, "\n") != 10 {
			t.Fatalf("CloudTrail description spans %d lines:\n%s", strings.Count(text, "\n"), text)
		}
		if _, err := json.Marshal(evidenceDoc{LogEvents: []Evidence{ev}}); err != nil {
			t.Fatal(err)
		}
	})
}
