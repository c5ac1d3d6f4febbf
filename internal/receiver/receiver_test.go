package receiver_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
	"github.com/trailwatch/trailwatch/internal/sns"
)

func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		r     receiver.Receiver
		field string // "" means valid
	}{
		{receiver.Receiver{Name: "a", Type: "slack", URL: "https://hooks.slack.com/services/x"}, ""},
		{receiver.Receiver{Name: "a", Type: "slack", BotToken: "xoxb-1", Channel: "#sec"}, ""},
		{receiver.Receiver{Name: "a", Type: "slack"}, "url"},
		{receiver.Receiver{Name: "a", Type: "slack", BotToken: "xoxb-1"}, "channel"},
		{receiver.Receiver{Name: "a", Type: "slack", Channel: "#x"}, "botToken"},
		{receiver.Receiver{Name: "a", Type: "slack", URL: "ftp://x/y"}, "url"},
		{receiver.Receiver{Name: "a", Type: "slack", URL: "https://h/x", RoutingKey: "k"}, "routingKey"},
		{receiver.Receiver{Name: "a", Type: "pagerduty", RoutingKey: "R0123456789abcdef0123456789abcde"}, ""},
		{receiver.Receiver{Name: "a", Type: "pagerduty"}, "routingKey"},
		{receiver.Receiver{Name: "a", Type: "pagerduty", RoutingKey: "k", Severity: "high"}, "severity"},
		{receiver.Receiver{Name: "a", Type: "teams", URL: "https://prod-1.westeurope.logic.azure.com/workflows/x"}, ""},
		{receiver.Receiver{Name: "a", Type: "teams", URL: "https://contoso.webhook.office.com/webhookb2/x"}, "url"},
		{receiver.Receiver{Name: "a", Type: "teams"}, "url"},
		{receiver.Receiver{Name: "a", Type: "webhook", URL: "https://h.example/x", SigningSecret: "s"}, ""},
		{receiver.Receiver{Name: "a", Type: "webhook", URL: "https://h.example/x", Channel: "c"}, "channel"},
		{receiver.Receiver{Name: "a", Type: "email"}, "type"},
		{receiver.Receiver{Name: "a"}, "type"},
		{receiver.Receiver{Name: "", Type: "webhook", URL: "https://h/x"}, "name"},
		{receiver.Receiver{Name: "a/b", Type: "webhook", URL: "https://h/x"}, "name"},
	} {
		err := c.r.Validate()
		var e *receiver.Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: %v", c.r, err)
		case c.field != "" && (!errors.As(err, &e) || e.Code != "InvalidParameterException" || !strings.Contains(e.Message, " "+c.field+":")):
			t.Errorf("%+v: %v, want the field %s named", c.r, err, c.field)
		}
	}
}

// memOutbox is an Outbox with SNS's dedup-key semantics.
type memOutbox struct {
	mu   sync.Mutex
	keys map[string]string
	ds   []sns.Delivery
}

func (o *memOutbox) Enqueue(_ context.Context, key, id string, ds []sns.Delivery) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if prev, ok := o.keys[key]; ok {
		return prev, nil
	}
	o.keys[key] = id
	o.ds = append(o.ds, ds...)
	return id, nil
}

type confirmer struct{ got []receiver.Inbound }

func (c *confirmer) Confirm(_ context.Context, in receiver.Inbound) error {
	c.got = append(c.got, in)
	return nil
}

const alarmMsg = `{"AlarmName":"root","AWSAccountId":"111122223333","NewStateValue":"ALARM","OldStateValue":"OK","NewStateReason":"r","StateChangeTime":"2026-12-01T10:00:00.000+0000","Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:root"}`

// TestAcceptOnePerTransition: a notification becomes one receiver message; the same alarm
// transition arriving again (another topic, a redelivery) is not queued twice; OK is dropped when
// sendResolved is false; confirmations go to the Confirmer; an unknown receiver is a 404.
func TestAcceptOnePerTransition(t *testing.T) {
	ctx := context.Background()
	st := receivertest.NewMemory()
	ob := &memOutbox{keys: map[string]string{}}
	svc := receiver.NewService(st, ob, receivertest.Account, "https://tw.example", func() time.Time { return time.Unix(1796000000, 0) })
	cf := &confirmer{}
	svc.Confirmer = cf
	woken := 0
	svc.OnEnqueue = func() { woken++ }
	for _, r := range []receiver.Receiver{
		{Name: "hook", Type: "webhook", URL: "https://h.example/x", SendResolved: true},
		{Name: "quiet", Type: "webhook", URL: "https://h.example/y", SendResolved: false},
	} {
		if _, err := svc.Put(ctx, receivertest.Account, r); err != nil {
			t.Fatal(err)
		}
	}
	in := receiver.Inbound{Type: sns.TypeNotification, MessageID: "m1", TopicARN: "arn:aws:sns:us-east-1:111122223333:a", Message: alarmMsg, Origin: receiver.OriginTrailwatch}
	if _, err := svc.Accept(ctx, "hook", in); err != nil {
		t.Fatal(err)
	}
	in2 := in
	in2.MessageID, in2.TopicARN = "m2", "arn:aws:sns:us-east-1:111122223333:b"
	detail, err := svc.Accept(ctx, "hook", in2)
	if err != nil || !strings.Contains(detail, "duplicate") {
		t.Fatalf("second topic: %q %v", detail, err)
	}
	if _, err := svc.Accept(ctx, "quiet", in); err != nil {
		t.Fatal(err)
	}
	ok := in
	ok.MessageID, ok.Message = "m3", strings.NewReplacer(`"NewStateValue":"ALARM"`, `"NewStateValue":"OK"`, `"OldStateValue":"OK"`, `"OldStateValue":"ALARM"`).Replace(alarmMsg)
	if d, err := svc.Accept(ctx, "quiet", ok); err != nil || !strings.Contains(d, "sendResolved") {
		t.Fatalf("quiet OK: %q %v", d, err)
	}
	if _, err := svc.Accept(ctx, "hook", ok); err != nil {
		t.Fatal(err)
	}
	if len(ob.ds) != 3 || woken != 3 {
		t.Fatalf("%d messages queued, %d wakes; want 3", len(ob.ds), woken)
	}
	d := ob.ds[0]
	if d.Protocol != receiver.Protocol || d.Type != receiver.MessageType || d.Endpoint != "https://tw.example/receivers/hook" || d.Scope.Region != "us-east-1" || strings.Contains(d.Body, "h.example") {
		t.Errorf("delivery %+v", d)
	}
	conf := receiver.Inbound{Type: sns.TypeSubscriptionConfirmation, MessageID: "c", TopicARN: in.TopicARN, Token: "tok", Origin: receiver.OriginTrailwatch}
	if _, err := svc.Accept(ctx, "hook", conf); err != nil || len(cf.got) != 1 || cf.got[0].Token != "tok" {
		t.Fatalf("confirmation: %v %+v", err, cf.got)
	}
	var e *receiver.Error
	if _, err := svc.Accept(ctx, "nope", in); !errors.As(err, &e) || e.HTTPStatusCode() != 404 {
		t.Fatalf("unknown receiver: %v", err)
	}
}
