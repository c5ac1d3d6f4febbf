package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Real-looking secrets: each must never appear on a page, in whole or in part (only the last four
// characters of keys and tokens may, as the receiver package masks them).
const (
	slackHookURL  = "https://hooks.slack.com/services/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"
	pdRoutingKey  = "R0a1b2c3d4e5f60718293a4b5c6d7e8f"
	slackBotToken = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	signingSecret = "whsec_3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
	teamsURL      = "https://prod-42.westeurope.logic.azure.com:443/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sig=S3cr3tS1gnatureValue0123456789"
)

// confirm subscribes topic to endpoint over http and confirms the subscription with the token
// of the SubscriptionConfirmation in the outbox (what the receiver endpoint does in the server).
func (r *rig) confirm(topic, endpoint string) {
	r.t.Helper()
	ctx := context.Background()
	_, err := r.sns.Subscribe(ctx, sns.Scope(home), sns.SubscribeInput{TopicARN: topic, Protocol: "http", Endpoint: endpoint})
	must(r.t, err)
	ds, err := r.db.RecentDeliveries(ctx, 0, 10)
	must(r.t, err)
	for _, d := range ds {
		if d.Endpoint != endpoint || !strings.Contains(d.Body, "Token=") {
			continue
		}
		tok := d.Body[strings.Index(d.Body, "Token=")+6:]
		tok = tok[:strings.IndexAny(tok, "&\"\n")]
		_, err := r.sns.ConfirmSubscription(ctx, sns.Scope(home), topic, tok, "")
		must(r.t, err)
		return
	}
	r.t.Fatalf("no confirmation delivery to %s", endpoint)
}

// TestNotificationsShowReceivers: the notifications page lists every receiver with its type, its
// settings masked (no secret of any type appears, in whole or beyond the last four characters),
// its endpoint, the subscriptions pointing at it (confirmed or pending), and its newest message
// with the last attempt's status and error; a subscription to a receiver endpoint without a
// receiver is flagged. The coverage matrix counts a confirmed subscription to an existing receiver
// as reaching someone, and one to a missing receiver as reaching nobody.
func TestNotificationsShowReceivers(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	ctx := context.Background()
	c := r.client()
	r.login(c)
	acct := testAccount
	for _, rc := range []receiver.Receiver{
		{Name: "sec-slack", Type: receiver.TypeSlack, URL: slackHookURL, SendResolved: true},
		{Name: "oncall", Type: receiver.TypePagerDuty, RoutingKey: pdRoutingKey, SendResolved: true},
		{Name: "slack-bot", Type: receiver.TypeSlack, BotToken: slackBotToken, Channel: "#sec", SendResolved: true},
		{Name: "siem", Type: receiver.TypeWebhook, URL: "https://siem.example.com/hooks/trailwatch?token=QueryT0kenValue99", SigningSecret: signingSecret},
		{Name: "teams", Type: receiver.TypeTeams, URL: teamsURL, SendResolved: true},
	} {
		if _, err := r.receivers.Put(ctx, acct, rc); err != nil {
			t.Fatalf("put %s: %v", rc.Name, err)
		}
	}
	topic := "arn:aws:sns:us-east-1:111122223333:security-alerts"

	// Only a subscription to a receiver endpoint without a receiver: nobody is notified.
	r.confirm(topic, "http://127.0.0.1/receivers/ghost")
	_, body := r.get(c, "/console/coverage")
	if !strings.Contains(body, "points at receiver ghost, which does not exist") {
		t.Errorf("coverage does not flag the subscription to a missing receiver")
	}
	if strings.Contains(body, "topic has a confirmed subscription") {
		t.Errorf("coverage counts a subscription to a missing receiver as confirmed")
	}

	r.confirm(topic, r.receivers.Endpoint("sec-slack"))
	_, err := r.sns.Subscribe(ctx, sns.Scope(home), sns.SubscribeInput{TopicARN: topic, Protocol: "http", Endpoint: r.receivers.Endpoint("oncall")})
	must(t, err)
	_, body = r.get(c, "/console/coverage")
	if !strings.Contains(body, "topic reaches receiver sec-slack (slack)") {
		t.Errorf("coverage does not count the confirmed subscription to receiver sec-slack")
	}

	// A message to sec-slack whose one attempt failed with the provider's answer.
	if _, err := r.receivers.Accept(ctx, "sec-slack", receiver.Inbound{Type: sns.TypeNotification, MessageID: "m-1", TopicARN: topic,
		Message: "hello", Origin: receiver.OriginTrailwatch}); err != nil {
		t.Fatal(err)
	}
	d, ok, err := r.db.LastReceiverDelivery(ctx, r.receivers.Endpoint("sec-slack"))
	if err != nil || !ok {
		t.Fatalf("no receiver message: %v", err)
	}
	must(t, r.db.RecordAttempt(ctx, sns.Attempt{DeliveryID: d.ID, N: 1, At: r.clock.now(), Outcome: "retry", Detail: "HTTP 500: invalid_payload"}, sns.DeliveryPending, r.clock.now().Add(time.Minute)))

	code, body := r.get(c, "/console/notifications")
	if code != 200 {
		t.Fatalf("notifications: %d", code)
	}
	section := body[strings.Index(body, "<h2>Receivers</h2>"):strings.Index(body, "<h2>Delivery log</h2>")]
	for _, want := range []string{
		"sec-slack", "https://hooks.slack.com/****", "http://127.0.0.1/receivers/sec-slack", "✓ confirmed</span> " + topic,
		"! pending, next", "1 attempt(s); last #1", "HTTP 500: invalid_payload",
		"oncall", "pagerduty", "****7e8f", "critical", "https://events.pagerduty.com/v2/enqueue", "! pending confirmation</span> " + topic,
		"slack-bot", "#sec", "****UvWx", "siem", "https://siem.example.com/****", "****6b5c", "not sent",
		"teams", "https://prod-42.westeurope.logic.azure.com/****", "no topic's subscription points here", "none yet",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("receivers section lacks %q:\n%s", want, section)
		}
	}
	for _, secret := range []string{slackHookURL, "T0A1B2C3D4E", "Xk3pQ9vR2sT7uW1yZ4aB6cD8", pdRoutingKey, pdRoutingKey[:len(pdRoutingKey)-4],
		slackBotToken, slackBotToken[:len(slackBotToken)-4], signingSecret, signingSecret[:len(signingSecret)-4], "QueryT0kenValue99",
		teamsURL, "S3cr3tS1gnatureValue", "/workflows/", "/services/"} {
		if strings.Contains(body, secret) {
			t.Errorf("the notifications page shows the secret %q", secret)
		}
	}
	if !strings.Contains(body, "✗ no receiver ghost: deliveries reach nobody") {
		t.Errorf("the subscription to a missing receiver is not flagged")
	}
}

// TestReceiverSettingsMaskUnmasked: whatever a source returns, the console shows no secret: values
// not in the receiver package's masked form are masked again.
func TestReceiverSettingsMaskUnmasked(t *testing.T) {
	raw := []*receiver.Receiver{
		{Name: "a", Type: receiver.TypeSlack, URL: slackHookURL},
		{Name: "b", Type: receiver.TypePagerDuty, RoutingKey: pdRoutingKey},
		{Name: "c", Type: receiver.TypeSlack, BotToken: slackBotToken, Channel: "#x"},
		{Name: "d", Type: receiver.TypeWebhook, URL: "https://x.example/h?token=QueryT0kenValue99", SigningSecret: signingSecret},
		{Name: "e", Type: receiver.TypeTeams, URL: teamsURL},
	}
	for _, rc := range raw {
		for _, s := range receiverSettings(rc) {
			for _, secret := range []string{slackHookURL, "/services/", pdRoutingKey, slackBotToken, signingSecret, "QueryT0kenValue99", "/workflows/", "S3cr3t"} {
				if strings.Contains(s.Value, secret) {
					t.Errorf("receiver %s: setting %s = %q shows a secret", rc.Name, s.Name, s.Value)
				}
			}
		}
	}
}
