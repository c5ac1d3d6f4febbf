// Package snstest is the conformance suite of sns.Store implementations, run through the SNS
// service so that it checks the behaviour AWS clients see: idempotent CreateTopic, the
// "pending confirmation" / "PendingConfirmation" spellings, confirmation by token, fan-out to
// confirmed subscriptions only, filter policies, idempotent publishes, and the outbox contents.
// Every backend runs it: Run(t, open).
package snstest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// Store is what the suite needs: the sns.Store plus a view of the enqueued deliveries.
type Store interface {
	sns.Store
	// Deliveries returns up to limit enqueued deliveries with id > after, in id order.
	Deliveries(ctx context.Context, after int64, limit int) ([]sns.Delivery, error)
}

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// Scope is the scope the suite's requests run in.
var Scope = sns.Scope{AccountID: "111122223333", Region: "eu-west-1"}

// NewService returns a service over st at a fixed clock, as the suite uses it.
func NewService(st sns.Store, now func() time.Time) *sns.Service {
	return sns.NewService(st, sns.NewSigner(testKey, "https://tw.example/SimpleNotificationService-x.pem"), "https://tw.example", now)
}

func code(err error) string {
	var e *sns.Error
	if errors.As(err, &e) {
		return e.Code + ": " + e.Message
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

func deliveries(t *testing.T, st Store) []sns.Delivery {
	t.Helper()
	ds, err := st.Deliveries(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// tokenOf extracts the confirmation token from a confirmation delivery.
func tokenOf(t *testing.T, d sns.Delivery) string {
	t.Helper()
	i := strings.Index(d.Body, "Token=")
	if i < 0 {
		t.Fatalf("no token in %q", d.Body)
	}
	tok := d.Body[i+len("Token="):]
	if j := strings.IndexAny(tok, "&\n\""); j >= 0 {
		tok = tok[:j]
	}
	return tok
}

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	arn := "arn:aws:sns:eu-west-1:111122223333:alerts"

	t.Run("CreateTopicIdempotent", func(t *testing.T) {
		svc := NewService(open(t), clock)
		a, err := svc.CreateTopic(ctx, Scope, "alerts", map[string]string{"DisplayName": "Ops"}, nil)
		if err != nil || a != arn {
			t.Fatalf("CreateTopic = %q, %v", a, err)
		}
		b, err := svc.CreateTopic(ctx, Scope, "alerts", map[string]string{"DisplayName": "Ops"}, nil)
		if err != nil || b != a {
			t.Fatalf("second CreateTopic = %q, %v", b, err)
		}
		_, err = svc.CreateTopic(ctx, Scope, "alerts", map[string]string{"DisplayName": "Other"}, nil)
		if got := code(err); got != "InvalidParameter: Invalid parameter: Attributes Reason: Topic already exists with different attributes" {
			t.Fatalf("different attributes: %s", got)
		}
		_, err = svc.CreateTopic(ctx, Scope, "alerts", nil, map[string]string{"k": "v"})
		if got := code(err); got != "InvalidParameter: Invalid parameter: Tags Reason: Topic already exists with different tags" {
			t.Fatalf("different tags: %s", got)
		}
		for _, bad := range []string{"", "a b", "x.fifo", strings.Repeat("a", 257)} {
			if _, err := svc.CreateTopic(ctx, Scope, bad, nil, nil); !strings.HasPrefix(code(err), "InvalidParameter: Invalid parameter: Topic Name") {
				t.Errorf("CreateTopic(%q): %s", bad, code(err))
			}
		}
		arns, next, err := svc.ListTopics(ctx, Scope, "")
		if err != nil || len(arns) != 1 || arns[0] != arn || next != "" {
			t.Fatalf("ListTopics = %v %q %v", arns, next, err)
		}
	})

	t.Run("TopicAttributesAndErrors", func(t *testing.T) {
		svc := NewService(open(t), clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		attrs, err := svc.GetTopicAttributes(ctx, Scope, arn)
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"DisplayName": "", "Owner": "111122223333", "TopicArn": arn, "SubscriptionsConfirmed": "0",
			"SubscriptionsPending": "0", "SubscriptionsDeleted": "0"} {
			if attrs[k] != want {
				t.Errorf("%s = %q, want %q", k, attrs[k], want)
			}
		}
		if _, ok := attrs["SignatureVersion"]; ok {
			t.Error("SignatureVersion present while unset")
		}
		if err := svc.SetTopicAttributes(ctx, Scope, arn, "SignatureVersion", "3"); !strings.HasPrefix(code(err), "InvalidParameter") {
			t.Errorf("SignatureVersion 3: %s", code(err))
		}
		if err := svc.SetTopicAttributes(ctx, Scope, arn, "Bogus", "x"); code(err) != "InvalidParameter: Invalid parameter: AttributeName" {
			t.Errorf("bogus attribute: %s", code(err))
		}
		for in, want := range map[string]string{
			"arn:aws:sns:eu-west-1:111122223333:missing": "NotFound: Topic does not exist",
			"alerts": "InvalidParameter: Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1",
			"arn:aws:sns:us-east-1:111122223333:alerts": "InvalidParameter: Invalid parameter: TopicArn",
		} {
			if _, err := svc.GetTopicAttributes(ctx, Scope, in); code(err) != want {
				t.Errorf("GetTopicAttributes(%q): %s, want %s", in, code(err), want)
			}
		}
		if err := svc.DeleteTopic(ctx, Scope, "arn:aws:sns:eu-west-1:111122223333:missing"); err != nil {
			t.Errorf("DeleteTopic of a missing topic: %v", err)
		}
	})

	t.Run("SubscribeConfirmPublish", func(t *testing.T) {
		st := open(t)
		svc := NewService(st, clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		got, err := svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "email", Endpoint: "ops@example.com"})
		if err != nil || got != "pending confirmation" {
			t.Fatalf("Subscribe = %q, %v", got, err)
		}
		subs, _, _ := svc.ListSubscriptions(ctx, Scope, arn, "")
		if len(subs) != 1 || subs[0].SubscriptionARN != "PendingConfirmation" {
			t.Fatalf("listed %+v", subs)
		}
		ds := deliveries(t, st)
		if len(ds) != 1 || ds[0].Type != sns.TypeSubscriptionConfirmation || ds[0].Subject != "AWS Notification - Subscription Confirmation" || ds[0].Endpoint != "ops@example.com" {
			t.Fatalf("confirmation delivery %+v", ds)
		}
		if !strings.Contains(ds[0].Body, "https://tw.example/confirmation.html?TopicArn=") {
			t.Fatalf("confirmation body %q", ds[0].Body)
		}
		// Publishing now reaches nobody: the subscription is pending.
		if _, err := svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: "early"}); err != nil {
			t.Fatal(err)
		}
		if n := len(deliveries(t, st)); n != 1 {
			t.Fatalf("%d deliveries after publishing to a pending subscription", n)
		}
		tok := tokenOf(t, ds[0])
		// AWS's two answers (test_sns_confirm_subscription_wrong_token, recorded 2025-10): a token
		// of the wrong shape, and an unknown one.
		if _, err := svc.ConfirmSubscription(ctx, sns.Scope{}, arn, "bad", ""); code(err) != "InvalidParameter: Invalid token" {
			t.Errorf("malformed token: %s", code(err))
		}
		if _, err := svc.ConfirmSubscription(ctx, sns.Scope{}, arn, strings.Repeat("ab", 144), ""); code(err) != "InvalidParameter: Invalid parameter: Token" {
			t.Errorf("unknown token: %s", code(err))
		}
		subARN, err := svc.ConfirmSubscription(ctx, sns.Scope{}, arn, tok, "")
		if err != nil || !strings.HasPrefix(subARN, arn+":") {
			t.Fatalf("confirm = %q, %v", subARN, err)
		}
		again, err := svc.ConfirmSubscription(ctx, Scope, arn, tok, "")
		if err != nil || again != subARN {
			t.Fatalf("second confirm = %q, %v", again, err)
		}
		if got, _ := svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "email", Endpoint: "ops@example.com"}); got != subARN {
			t.Fatalf("re-subscribe of a confirmed endpoint = %q", got)
		}
		attrs, _ := svc.GetSubscriptionAttributes(ctx, Scope, subARN)
		if attrs["PendingConfirmation"] != "false" || attrs["Protocol"] != "email" || attrs["RawMessageDelivery"] != "false" {
			t.Fatalf("attributes %v", attrs)
		}
		subject := "Deploy"
		id, err := svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: `{"default":"plain","email":"for email"}`, MessageStructure: "json", Subject: &subject})
		if err != nil {
			t.Fatal(err)
		}
		ds = deliveries(t, st)
		last := ds[len(ds)-1]
		if last.MessageID != id || last.Subject != "Deploy" || !strings.HasPrefix(last.Body, "for email\n\n--\nIf you wish to stop receiving notifications from this topic") ||
			!strings.Contains(last.Body, "https://tw.example/unsubscribe.html?SubscriptionArn=") || last.FromName != "AWS Notifications" {
			t.Fatalf("notification %+v", last)
		}
		if last.Policy != sns.EmailPolicy {
			t.Errorf("email policy %+v", last.Policy)
		}
		// A topic ARN passed as TargetArn publishes to the topic.
		n := len(deliveries(t, st))
		if _, err := svc.Publish(ctx, Scope, sns.PublishInput{TargetARN: arn, Message: "via target"}); err != nil || len(deliveries(t, st)) != n+1 {
			t.Fatalf("TargetArn publish: %v", err)
		}
		if _, err := svc.Publish(ctx, Scope, sns.PublishInput{PhoneNumber: "+15555550100", Message: "sms"}); code(err) != "InvalidParameter: Invalid parameter: PhoneNumber Reason: trailwatch publishes to topics only" {
			t.Fatalf("PhoneNumber publish: %s", code(err))
		}
		ds = deliveries(t, st)
		// Idempotent publishes by key.
		id1, _ := svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: "m", DedupKey: "k1"})
		id2, _ := svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: "m", DedupKey: "k1"})
		if id1 != id2 || len(deliveries(t, st)) != len(ds)+1 {
			t.Fatalf("dedup: %q %q, %d deliveries", id1, id2, len(deliveries(t, st)))
		}
		if err := svc.Unsubscribe(ctx, Scope, subARN); err != nil {
			t.Fatal(err)
		}
		attrs, _ = svc.GetTopicAttributes(ctx, Scope, arn)
		if attrs["SubscriptionsDeleted"] != "1" || attrs["SubscriptionsConfirmed"] != "0" {
			t.Fatalf("after unsubscribe %v", attrs)
		}
	})

	t.Run("ExpiredToken", func(t *testing.T) {
		st := open(t)
		at := now
		svc := NewService(st, func() time.Time { return at })
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "email-json", Endpoint: "ops@example.com"})
		tok := tokenOf(t, deliveries(t, st)[0])
		at = now.Add(sns.TokenValidity + time.Second)
		if _, err := svc.ConfirmSubscription(ctx, Scope, arn, tok, ""); code(err) != "InvalidParameter: Invalid parameter: Token" {
			t.Fatalf("expired token: %s", code(err))
		}
		// SNS deletes unconfirmed subscriptions after three days: gone from listings and counts.
		if subs, _, _ := svc.ListSubscriptions(ctx, Scope, arn, ""); len(subs) != 0 {
			t.Fatalf("expired pending subscription listed: %+v", subs)
		}
		if attrs, _ := svc.GetTopicAttributes(ctx, Scope, arn); attrs["SubscriptionsPending"] != "0" {
			t.Fatalf("SubscriptionsPending %s", attrs["SubscriptionsPending"])
		}
		// Subscribing again starts over with a new subscription and token.
		if got, err := svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "email-json", Endpoint: "ops@example.com"}); err != nil || got != "pending confirmation" {
			t.Fatalf("re-subscribe = %q, %v", got, err)
		}
		ds := deliveries(t, st)
		tok2 := tokenOf(t, ds[len(ds)-1])
		if tok2 == tok {
			t.Fatal("same token after expiry")
		}
		if _, err := svc.ConfirmSubscription(ctx, Scope, arn, tok2, ""); err != nil {
			t.Fatal(err)
		}
		if subs, _, _ := svc.ListSubscriptions(ctx, Scope, arn, ""); len(subs) != 1 || subs[0].SubscriptionARN == "PendingConfirmation" {
			t.Fatalf("after re-subscribe: %+v", subs)
		}
	})

	t.Run("PublishValidation", func(t *testing.T) {
		svc := NewService(open(t), clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		s := func(v string) *string { return &v }
		for _, c := range []struct {
			in   sns.PublishInput
			want string
		}{
			{sns.PublishInput{TopicARN: arn}, "InvalidParameter: Invalid parameter: Empty message"},
			{sns.PublishInput{TopicARN: arn, Message: strings.Repeat("x", sns.MaxMessageBytes+1)}, "InvalidParameter: Invalid parameter: Message too long"},
			{sns.PublishInput{TopicARN: arn, Message: "m", Subject: s("")}, "InvalidParameter: Invalid parameter: Subject"},
			{sns.PublishInput{TopicARN: arn, Message: "m", Subject: s("a\r\nBcc: x@y")}, "InvalidParameter: Invalid parameter: Subject"},
			{sns.PublishInput{TopicARN: arn, Message: "m", Subject: s(strings.Repeat("s", 100))}, "InvalidParameter: Invalid parameter: Subject"},
			{sns.PublishInput{TopicARN: arn, Message: "m", Subject: s("é")}, "InvalidParameter: Invalid parameter: Subject"},
			{sns.PublishInput{TopicARN: arn, Message: "{}", MessageStructure: "json"}, "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body"},
			{sns.PublishInput{TopicARN: arn, Message: "{", MessageStructure: "json"}, "InvalidParameter: Invalid parameter: Message Structure - JSON message body failed to parse"},
			{sns.PublishInput{TopicARN: "arn:aws:sns:eu-west-1:111122223333:nope", Message: "m"}, "NotFound: Topic does not exist"},
			{sns.PublishInput{TopicARN: arn, Message: "m", MessageAttributes: map[string]sns.MessageAttribute{"a": {DataType: "String"}}},
				"ParameterValueInvalid: The message attribute 'a' must contain non-empty message attribute value for message attribute type 'String'."},
			{sns.PublishInput{TopicARN: arn, Message: "m", MessageAttributes: map[string]sns.MessageAttribute{"a": {DataType: "Blob", StringValue: "x"}}},
				"ParameterValueInvalid: The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."},
		} {
			if _, err := svc.Publish(ctx, Scope, c.in); code(err) != c.want {
				t.Errorf("Publish(%.40q): %s, want %s", c.in.Message, code(err), c.want)
			}
		}
	})

	t.Run("SubscribeValidation", func(t *testing.T) {
		svc := NewService(open(t), clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		for _, c := range []struct {
			in   sns.SubscribeInput
			want string
		}{
			{sns.SubscribeInput{TopicARN: arn, Protocol: "test-protocol", Endpoint: "x"}, "InvalidParameter: Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"},
			{sns.SubscribeInput{TopicARN: arn, Protocol: "email", Endpoint: "Ops <ops@example.com>"}, "InvalidParameter: Invalid parameter: Email address"},
			{sns.SubscribeInput{TopicARN: arn, Protocol: "email", Endpoint: "ops@example.com\r\nBcc: evil@example.com"}, "InvalidParameter: Invalid parameter: Email address"},
			{sns.SubscribeInput{TopicARN: arn, Protocol: "https", Endpoint: "http://example.com/"}, "InvalidParameter: Invalid parameter: Endpoint must match the specified protocol"},
			{sns.SubscribeInput{TopicARN: arn, Protocol: "http", Endpoint: "http://example.com/", Attributes: map[string]string{"RawMessageDelivery": "x"}},
				"InvalidParameter: Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [x]. Must be true or false."},
			{sns.SubscribeInput{TopicARN: arn, Protocol: "http", Endpoint: "http://example.com/", Attributes: map[string]string{"FilterPolicy": "{"}},
				"InvalidParameter: Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. Unexpected end-of-input: expected close marker for Object (start marker at " +
					"[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]"},
			{sns.SubscribeInput{TopicARN: "arn:aws:sns:eu-west-1:111122223333:nope", Protocol: "email", Endpoint: "a@b.c"}, "NotFound: Topic does not exist"},
		} {
			if _, err := svc.Subscribe(ctx, Scope, c.in); code(err) != c.want {
				t.Errorf("Subscribe(%s %q): %s, want %s", c.in.Protocol, c.in.Endpoint, code(err), c.want)
			}
		}
	})

	t.Run("HTTPFanOutAndFilters", func(t *testing.T) {
		st := open(t)
		svc := NewService(st, clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		confirm := func(endpoint string, attrs map[string]string) string {
			before := len(deliveries(t, st))
			if _, err := svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "https", Endpoint: endpoint, Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			d := deliveries(t, st)[before]
			if d.Headers["x-amz-sns-message-type"] != "SubscriptionConfirmation" || d.Headers["x-amz-sns-subscription-arn"] != "" {
				t.Fatalf("confirmation headers %v", d.Headers)
			}
			a, err := svc.ConfirmSubscription(ctx, Scope, arn, tokenOf(t, d), "")
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		confirm("https://a.example/", nil)
		confirm("https://b.example/", map[string]string{"FilterPolicy": `{"sev":["high"]}`, "RawMessageDelivery": "true"})
		before := len(deliveries(t, st))
		svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: "low", MessageAttributes: map[string]sns.MessageAttribute{"sev": {DataType: "String", StringValue: "low"}}})
		svc.Publish(ctx, Scope, sns.PublishInput{TopicARN: arn, Message: "high", MessageAttributes: map[string]sns.MessageAttribute{"sev": {DataType: "String", StringValue: "high"}}})
		ds := deliveries(t, st)[before:]
		if len(ds) != 3 {
			t.Fatalf("%d deliveries, want 3 (a twice, b once)", len(ds))
		}
		var raw []sns.Delivery
		for _, d := range ds {
			if d.Headers["x-amz-sns-rawdelivery"] == "true" {
				raw = append(raw, d)
			}
			if d.Policy != sns.HTTPDefaultPolicy {
				t.Errorf("policy %+v", d.Policy)
			}
		}
		if len(raw) != 1 || raw[0].Body != "high" || raw[0].Endpoint != "https://b.example/" {
			t.Fatalf("raw deliveries %+v", raw)
		}
	})

	t.Run("UnsubscribeByLink", func(t *testing.T) {
		st := open(t)
		svc := NewService(st, clock)
		svc.CreateTopic(ctx, Scope, "alerts", nil, nil)
		sub := func(endpoint, auth string) string {
			before := len(deliveries(t, st))
			svc.Subscribe(ctx, Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "https", Endpoint: endpoint})
			caller := Scope
			if auth == "" {
				caller = sns.Scope{}
			}
			a, err := svc.ConfirmSubscription(ctx, caller, arn, tokenOf(t, deliveries(t, st)[before]), auth)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		plain := sub("https://a.example/", "")
		before := len(deliveries(t, st))
		if err := svc.Unsubscribe(ctx, sns.Scope{}, plain); err != nil {
			t.Fatal(err)
		}
		ds := deliveries(t, st)[before:]
		if len(ds) != 1 || ds[0].Type != sns.TypeUnsubscribeConfirmation || ds[0].Headers["x-amz-sns-subscription-arn"] != plain ||
			!strings.Contains(ds[0].Body, "You have chosen to deactivate subscription "+plain) {
			t.Fatalf("final message %+v", ds)
		}
		if _, err := svc.GetSubscriptionAttributes(ctx, Scope, plain); code(err) != "NotFound: Subscription does not exist" {
			t.Fatalf("after unsubscribe: %s", code(err))
		}
		if _, err := svc.ConfirmSubscription(ctx, sns.Scope{}, arn, "x", "true"); !strings.HasPrefix(code(err), "AuthorizationError") {
			t.Fatalf("unsigned AuthenticateOnUnsubscribe: %s", code(err))
		}
		guarded := sub("https://b.example/", "true")
		if err := svc.Unsubscribe(ctx, sns.Scope{}, guarded); !strings.HasPrefix(code(err), "AuthorizationError") {
			t.Fatalf("unsigned unsubscribe of an authenticated subscription: %s", code(err))
		}
		before = len(deliveries(t, st))
		if err := svc.Unsubscribe(ctx, Scope, guarded); err != nil {
			t.Fatal(err)
		}
		if n := len(deliveries(t, st)) - before; n != 0 {
			t.Fatalf("a signed unsubscribe by the owner sent %d messages", n)
		}
		if err := svc.Unsubscribe(ctx, Scope, guarded); err != nil {
			t.Fatalf("unsubscribing twice: %v", err)
		}
	})
}
