package snsapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

type noCreds struct{}

func (noCreds) Lookup(string) (string, string, bool) { return "", "", false }

// fixture is a topic with one pending email subscription, served by the SNS adapter and pages.
type fixture struct {
	srv      *httptest.Server
	store    *snstest.Memory
	svc      *sns.Service
	topic    string
	token    string
	endpoint string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := snstest.NewMemory()
	svc := snstest.NewService(st, time.Now)
	topic, err := svc.CreateTopic(ctx, snstest.Scope, "alerts", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Subscribe(ctx, snstest.Scope, sns.SubscribeInput{TopicARN: topic, Protocol: "email", Endpoint: "ops@example.com"}); err != nil {
		t.Fatal(err)
	}
	ds, _ := st.Deliveries(ctx, 0, 10)
	link := ds[0].Body[strings.Index(ds[0].Body, "https://tw.example/confirmation.html?"):]
	link = link[:strings.IndexByte(link, '\n')]
	u, _ := url.Parse(link)
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{NewService(svc)}, Credentials: noCreds{}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, ph := range Pages(svc, "SimpleNotificationService-abc.pem", []byte("PEM")) {
		mux.Handle(p, ph)
	}
	mux.Handle("/", h)
	f := &fixture{srv: httptest.NewServer(mux), store: st, svc: svc, topic: topic, token: u.Query().Get("Token"), endpoint: "ops@example.com"}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestUnsignedOperations: ConfirmSubscription and Unsubscribe answer unsigned GETs of SNS's
// links in AWS's form (no Version, the ARN unescaped) with AWS's answers, recorded in localstack's
// test_sns.snapshot.json (test_subscribe_external_http_endpoint: "broken-topic-arn-confirm",
// "broken-token-confirm", "different-region-arn-confirm"; test_sns_confirm_subscription_wrong_token);
// nothing else is served unsigned: no other operation, and no other parameter.
func TestUnsignedOperations(t *testing.T) {
	f := newFixture(t)
	unknown := strings.Repeat("5a", 144)
	for _, c := range []struct {
		name, query string
		status      int
		want        string
	}{
		{"unknown token", "Action=ConfirmSubscription&TopicArn=" + f.topic + "&Token=" + unknown, 400,
			"<Code>InvalidParameter</Code><Message>Invalid parameter: Token</Message>"},
		{"malformed token", "Action=ConfirmSubscription&TopicArn=" + f.topic + "&Token=randomtoken", 400,
			"<Code>InvalidParameter</Code><Message>Invalid token</Message>"},
		{"broken topic ARN", "Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:111122223333&Token=" + f.token, 400,
			"<Code>InvalidParameter</Code><Message>Invalid parameter: Topic</Message>"},
		{"other region", "Action=ConfirmSubscription&TopicArn=" + strings.Replace(f.topic, "eu-west-1", "us-east-1", 1) + "&Token=" + f.token, 400,
			"<Code>InvalidParameter</Code><Message>Invalid parameter: Topic</Message>"},
		// The narrow exception: another parameter, or another operation, needs a signature.
		{"extra parameter", "Action=ConfirmSubscription&TopicArn=" + f.topic + "&Token=" + f.token + "&AuthenticateOnUnsubscribe=true", 403,
			"<Code>MissingAuthenticationToken</Code>"},
		{"unknown parameter", "Action=Unsubscribe&SubscriptionArn=" + f.topic + ":x&Attributes.entry.1.key=a", 403,
			"<Code>MissingAuthenticationToken</Code>"},
		{"other operation", "Action=ListTopics", 403, "<Code>MissingAuthenticationToken</Code>"},
		{"other operation with Version", "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=" + f.topic, 403, "<Code>MissingAuthenticationToken</Code>"},
		{"Publish", "Action=Publish&TopicArn=" + f.topic + "&Message=x", 403, "<Code>MissingAuthenticationToken</Code>"},
	} {
		code, body := f.get(t, "/?"+c.query)
		if code != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d\n%s", c.name, code, body)
		}
	}
	// The SubscribeURL as trailwatch sends it confirms.
	code, body := f.get(t, "/?Action=ConfirmSubscription&TopicArn="+f.topic+"&Token="+f.token)
	if code != 200 || !strings.Contains(body, `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>`+f.topic+":") {
		t.Fatalf("confirm: %d\n%s", code, body)
	}
	arn := body[strings.Index(body, "<SubscriptionArn>")+len("<SubscriptionArn>") : strings.Index(body, "</SubscriptionArn>")]
	// Confirming again answers the same ARN; so does the form with a Version.
	if code, body := f.get(t, "/?"+url.Values{"Action": {"ConfirmSubscription"}, "Version": {"2010-03-31"}, "TopicArn": {f.topic}, "Token": {f.token}}.Encode()); code != 200 || !strings.Contains(body, arn) {
		t.Fatalf("second confirm: %d\n%s", code, body)
	}
	code, body = f.get(t, "/?"+url.Values{"Action": {"GetSubscriptionAttributes"}, "Version": {"2010-03-31"}, "SubscriptionArn": {arn}}.Encode())
	if code != 403 || !strings.Contains(body, "MissingAuthenticationToken") {
		t.Fatalf("signed operation without a signature: %d\n%s", code, body)
	}
	code, body = f.get(t, "/?Action=Unsubscribe&SubscriptionArn="+arn)
	if code != 200 || !strings.Contains(body, "<UnsubscribeResponse") {
		t.Fatalf("unsubscribe: %d\n%s", code, body)
	}
	if _, err := f.svc.GetSubscriptionAttributes(context.Background(), snstest.Scope, arn); err == nil {
		t.Fatal("still subscribed")
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	code, body := f.get(t, "/confirmation.html?"+url.Values{"TopicArn": {f.topic}, "Token": {"bad"}, "Endpoint": {f.endpoint}}.Encode())
	if code != 400 || !strings.Contains(body, "Invalid token") {
		t.Fatalf("bad token page: %d\n%s", code, body)
	}
	code, body = f.get(t, "/confirmation.html?"+url.Values{"TopicArn": {f.topic}, "Token": {f.token}, "Endpoint": {"<script>x</script>"}}.Encode())
	if code != 200 || !strings.Contains(body, "Subscription confirmed!") || strings.Contains(body, "<script>") {
		t.Fatalf("confirmation page (escaped?): %d\n%s", code, body)
	}
	subs, _, _ := f.svc.ListSubscriptions(context.Background(), snstest.Scope, f.topic, "")
	arn := subs[0].SubscriptionARN
	path := "/unsubscribe.html?" + url.Values{"SubscriptionArn": {arn}, "Endpoint": {f.endpoint}}.Encode()
	code, body = f.get(t, path)
	if code != 200 || !strings.Contains(body, `<form method="post"`) {
		t.Fatalf("unsubscribe page: %d\n%s", code, body)
	}
	if subs, _, _ := f.svc.ListSubscriptions(context.Background(), snstest.Scope, f.topic, ""); len(subs) != 1 {
		t.Fatal("GET unsubscribed")
	}
	resp, err := http.Post(f.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if subs, _, _ := f.svc.ListSubscriptions(context.Background(), snstest.Scope, f.topic, ""); resp.StatusCode != 200 || len(subs) != 0 {
		t.Fatalf("POST: %d, %d subscriptions left", resp.StatusCode, len(subs))
	}
	if code, body := f.get(t, "/SimpleNotificationService-abc.pem"); code != 200 || body != "PEM" {
		t.Fatalf("certificate: %d %q", code, body)
	}
}

// TestTagsDuplicateKeys: a key given twice is refused, for TagResource and CreateTopic, with
// AWS's answer (localstack test_sns.snapshot.json, test_tags "duplicate-key-error").
func TestTagsDuplicateKeys(t *testing.T) {
	f := newFixture(t)
	h := handlers{svc: f.svc}
	ctx := awsapi.WithCaller(context.Background(), awsapi.Identity{AccountID: snstest.Scope.AccountID, Region: snstest.Scope.Region})
	tags := []Tag{{Key: ptr("k1"), Value: ptr("v1")}, {Key: ptr("k1"), Value: ptr("v2")}}
	const want = "InvalidParameter: Invalid parameter: Duplicated keys are not allowed."
	_, err := h.tagResource(ctx, &TagResourceInput{ResourceArn: &f.topic, Tags: tags})
	if e, ok := err.(*sns.Error); !ok || e.Code+": "+e.Message != want {
		t.Errorf("TagResource: %v", err)
	}
	_, err = h.createTopic(ctx, &CreateTopicInput{Name: ptr("other"), Tags: tags})
	if e, ok := err.(*sns.Error); !ok || e.Code+": "+e.Message != want {
		t.Errorf("CreateTopic: %v", err)
	}
	if _, err := h.tagResource(ctx, &TagResourceInput{ResourceArn: &f.topic, Tags: tags[:1]}); err != nil {
		t.Errorf("one tag: %v", err)
	}
	got, _ := f.svc.ListTagsForResource(ctx, snstest.Scope, f.topic)
	if len(got) != 1 || got["k1"] != "v1" {
		t.Errorf("tags %v", got)
	}
}
