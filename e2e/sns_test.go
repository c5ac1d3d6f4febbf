package e2e

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

const mailFrom = "trailwatch@alerts.example.com"

// snsServer starts trailwatch delivering mail to mb (plain SMTP on loopback, which the operator
// configures; the SSRF guard concerns subscriber-chosen HTTP endpoints only).
func snsServer(t *testing.T, dataDir string, mb *mailbox, extra ...string) *server {
	t.Helper()
	args := append([]string{"--smtp-addr", mb.Addr, "--smtp-from", mailFrom, "--smtp-tls", "none"}, extra...)
	return startServer(t, dataDir, args...)
}

func snsClient(s *server) *sns.Client { return sns.NewFromConfig(sdkConfig(s)) }

// linkRe finds links in mail text.
var linkRe = regexp.MustCompile(`https?://[^\s]+`)

func linkWith(t *testing.T, body, part string) string {
	t.Helper()
	for _, l := range linkRe.FindAllString(body, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	t.Fatalf("no link containing %q in:\n%s", part, body)
	return ""
}

func get(t *testing.T, link string) (int, string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// requireAlarmWiring fails fast, with a clear message, when the server does not route alarm
// actions to SNS (internal/app/wire.go passes s.alarmPublisher(logsSvc) to the dispatcher).
func requireAlarmWiring(t *testing.T, s *server) {
	t.Helper()
	if !strings.Contains(s.logs(), "alarm actions publish to SNS") {
		t.Fatal("alarm actions are not routed to SNS: wire.go must use s.alarmPublisher")
	}
}

// TestSNSEmailRootLoginFlowCLI is the seed's whole flow with the real aws CLI v2: topic, email
// subscription confirmed through the link in the confirmation email, the CIS root metric filter,
// the alarm with the topic as action, a root ConsoleLogin, and the ALARM email with who/what/where
// within one second; then set-alarm-state OK and ALARM produce their emails.
func TestSNSEmailRootLoginFlowCLI(t *testing.T) {
	aws2 := findCLI(t, "v2")
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb)
	var topic struct{ TopicArn string }
	decode(t, aws2.run(t, s, "sns", "create-topic", "--name", "security-alerts"), &topic)
	if topic.TopicArn != topicARN {
		t.Fatalf("TopicArn %q", topic.TopicArn)
	}
	var sub struct{ SubscriptionArn string }
	decode(t, aws2.run(t, s, "sns", "subscribe", "--topic-arn", topicARN, "--protocol", "email", "--notification-endpoint", "ops@example.com"), &sub)
	if sub.SubscriptionArn != "pending confirmation" {
		t.Fatalf("Subscribe returned %q, want the literal \"pending confirmation\"", sub.SubscriptionArn)
	}
	var list struct {
		Subscriptions []struct{ SubscriptionArn, Protocol, Endpoint string }
	}
	decode(t, aws2.run(t, s, "sns", "list-subscriptions-by-topic", "--topic-arn", topicARN), &list)
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].SubscriptionArn != "PendingConfirmation" {
		t.Fatalf("pending subscription listed as %+v", list.Subscriptions)
	}

	conf := mb.wait(5*time.Second, func(m received) bool { return m.Subject == "AWS Notification - Subscription Confirmation" })
	if !slices.Equal(conf.To, []string{"ops@example.com"}) || !strings.Contains(conf.Body, "You have chosen to subscribe to the topic:\n"+topicARN) {
		t.Fatalf("confirmation mail to %v:\n%s", conf.To, conf.Body)
	}
	if from := conf.Header.Get("From"); !strings.Contains(from, "AWS Notifications") || !strings.Contains(from, mailFrom) {
		t.Fatalf("From %q", from)
	}
	link := linkWith(t, conf.Body, "/confirmation.html?")
	if !strings.HasPrefix(link, s.URL+"/") {
		t.Fatalf("confirmation link %q is not under the server URL %s", link, s.URL)
	}
	code, page := get(t, link)
	if code != 200 || !strings.Contains(page, "Subscription confirmed!") {
		t.Fatalf("confirmation page %d:\n%s", code, page)
	}
	decode(t, aws2.run(t, s, "sns", "list-subscriptions-by-topic", "--topic-arn", topicARN), &list)
	subARN := list.Subscriptions[0].SubscriptionArn
	if !strings.HasPrefix(subARN, topicARN+":") {
		t.Fatalf("confirmed subscription listed as %q", subARN)
	}

	requireAlarmWiring(t, s)
	aws2.run(t, s, "logs", "create-log-group", "--log-group-name", "CloudTrail/DefaultLogGroup")
	aws2.run(t, s, "logs", "create-log-stream", "--log-group-name", "CloudTrail/DefaultLogGroup", "--log-stream-name", "111122223333_CloudTrail_us-east-1")
	aws2.run(t, s, "logs", "put-metric-filter", "--log-group-name", "CloudTrail/DefaultLogGroup", "--filter-name", "RootAccountUsage",
		"--filter-pattern", cisRoot, "--metric-transformations", "metricName=RootAccountUsageCount,metricNamespace=CloudTrailMetrics,metricValue=1")
	aws2.run(t, s, "cloudwatch", "put-metric-alarm", "--alarm-name", "root-account-usage", "--metric-name", "RootAccountUsageCount",
		"--namespace", "CloudTrailMetrics", "--statistic", "Sum", "--period", "300", "--evaluation-periods", "1", "--threshold", "1",
		"--comparison-operator", "GreaterThanOrEqualToThreshold", "--treat-missing-data", "notBreaching", "--alarm-actions", topicARN, "--ok-actions", topicARN)

	ev := rootLogin(t, time.Now())
	events, _ := json.Marshal([]map[string]any{{"timestamp": time.Now().UnixMilli(), "message": ev}})
	aws2.run(t, s, "logs", "put-log-events", "--log-group-name", "CloudTrail/DefaultLogGroup", "--log-stream-name", "111122223333_CloudTrail_us-east-1",
		"--log-events", string(events))
	returned := time.Now()
	wantSubject := `ALARM: "root-account-usage" in US East (N. Virginia)`
	alarmMail := mb.wait(time.Second, func(m received) bool { return m.Subject == wantSubject })
	t.Logf("put-log-events returned -> ALARM email received: %v (the CLI process exit is part of the wait)\n%s", alarmMail.At.Sub(returned), alarmMail.Body)

	var rec map[string]any
	json.Unmarshal([]byte(ev), &rec)
	ui := rec["userIdentity"].(map[string]any)
	for _, want := range []string{
		`You are receiving this email because your Amazon CloudWatch Alarm "root-account-usage" in the US East (N. Virginia) region has entered the ALARM state`,
		"Log events that crossed the threshold",
		"- Who:    Root " + ui["arn"].(string),
		"- What:   signin.amazonaws.com ConsoleLogin, outcome ",
		"source IP " + rec["sourceIPAddress"].(string),
		"region " + rec["awsRegion"].(string),
		"- MFA:    ",
		// The console link trailwatch adds to the evidence (issue 13), under the public URL.
		"Open in trailwatch: " + s.URL + "/console/alarms/111122223333/us-east-1/root-account-usage\n",
		"If you wish to stop receiving notifications from this topic",
	} {
		if !strings.Contains(alarmMail.Body, want) {
			t.Errorf("ALARM email lacks %q:\n%s", want, alarmMail.Body)
		}
	}
	unsub := linkWith(t, alarmMail.Body, "/unsubscribe.html?")
	if alarmMail.Header.Get("X-Amz-Sns-Message-Id") == "" || alarmMail.Header.Get("Message-Id") == "" {
		t.Errorf("ALARM email lacks message ids: %v", alarmMail.Header)
	}

	aws2.run(t, s, "cloudwatch", "set-alarm-state", "--alarm-name", "root-account-usage", "--state-value", "OK", "--state-reason", "manual reset")
	// Matched by its reason: when the alarm's first evaluation round falls between put-metric-alarm
	// and put-log-events (a minute boundary), an earlier INSUFFICIENT_DATA -> OK email has the same
	// subject.
	mb.wait(5*time.Second, func(m received) bool {
		return m.Subject == `OK: "root-account-usage" in US East (N. Virginia)` && strings.Contains(m.Body, `has entered the OK state, because "manual reset"`)
	})
	aws2.run(t, s, "cloudwatch", "set-alarm-state", "--alarm-name", "root-account-usage", "--state-value", "ALARM", "--state-reason", "drill")
	mb.wait(5*time.Second, func(m received) bool {
		return m.Subject == wantSubject && strings.Contains(m.Body, `because "drill"`)
	})

	// The footer's unsubscribe link asks first (a link scanner's GET changes nothing), then
	// its button, or a mail client's RFC 8058 one-click POST, unsubscribes without credentials.
	if alarmMail.Header.Get("List-Unsubscribe") != "<"+unsub+">" || alarmMail.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe headers: %q %q", alarmMail.Header.Get("List-Unsubscribe"), alarmMail.Header.Get("List-Unsubscribe-Post"))
	}
	code, page = get(t, unsub)
	if code != 200 || !strings.Contains(page, `<form method="post"`) {
		t.Fatalf("unsubscribe page %d:\n%s", code, page)
	}
	decode(t, aws2.run(t, s, "sns", "list-subscriptions-by-topic", "--topic-arn", topicARN), &list)
	if len(list.Subscriptions) != 1 {
		t.Fatalf("a GET of the unsubscribe link removed the subscription: %+v", list.Subscriptions)
	}
	resp, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Subscription removed") {
		t.Fatalf("unsubscribe POST %d:\n%s", resp.StatusCode, body)
	}
	decode(t, aws2.run(t, s, "sns", "list-subscriptions-by-topic", "--topic-arn", topicARN), &list)
	if len(list.Subscriptions) != 0 {
		t.Fatalf("subscriptions after unsubscribe: %+v", list.Subscriptions)
	}
}

// verifySNSSignature checks an SNS HTTP message's signature the way SNS documents it, with no
// code shared with trailwatch: fetch SigningCertURL, rebuild the string to sign from the
// message's own fields, verify SHA1withRSA (v1) or SHA256withRSA (v2).
func verifySNSSignature(t *testing.T, msg map[string]string) {
	t.Helper()
	code, certPEM := get(t, msg["SigningCertURL"])
	if code != 200 {
		t.Fatalf("SigningCertURL %s: %d", msg["SigningCertURL"], code)
	}
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil {
		t.Fatalf("SigningCertURL served no PEM: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if msg["Type"] == "Notification" {
		keys = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	} else {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var sb strings.Builder
	for _, k := range keys {
		v, ok := msg[k]
		if !ok {
			continue
		}
		sb.WriteString(k + "\n" + v + "\n")
	}
	sig, err := base64.StdEncoding.DecodeString(msg["Signature"])
	if err != nil {
		t.Fatal(err)
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	switch msg["SignatureVersion"] {
	case "1":
		sum := sha1.Sum([]byte(sb.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256([]byte(sb.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		t.Fatalf("SignatureVersion %q", msg["SignatureVersion"])
	}
	if err != nil {
		t.Fatalf("signature of %s message does not verify: %v", msg["Type"], err)
	}
}

// httpEndpoint records SNS POSTs; fail(n) makes the next n requests answer 500.
type httpEndpoint struct {
	mu       sync.Mutex
	requests []endpointRequest
	failNext int
	notify   chan struct{}
	srv      *httptest.Server
}

type endpointRequest struct {
	At      time.Time
	Header  http.Header
	Body    string
	Status  int
	Message map[string]string
}

func startEndpoint(t *testing.T) *httpEndpoint {
	e := &httpEndpoint{notify: make(chan struct{}, 1)}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		status := 200
		if e.failNext > 0 {
			e.failNext--
			status = 500
		}
		req := endpointRequest{At: time.Now(), Header: r.Header.Clone(), Body: string(b), Status: status}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			req.Message = map[string]string{}
			for k, v := range m {
				if s, ok := v.(string); ok {
					req.Message[k] = s
				}
			}
		}
		e.requests = append(e.requests, req)
		e.mu.Unlock()
		w.WriteHeader(status)
		select {
		case e.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *httpEndpoint) fail(n int) {
	e.mu.Lock()
	e.failNext = n
	e.mu.Unlock()
}

func (e *httpEndpoint) all() []endpointRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]endpointRequest(nil), e.requests...)
}

func (e *httpEndpoint) wait(t *testing.T, timeout time.Duration, accept func(endpointRequest) bool) endpointRequest {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, r := range e.all() {
			if accept(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching HTTP delivery within %v; got %d requests", timeout, len(e.all()))
		}
		select {
		case <-e.notify:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestSNSHTTPSubscription covers the HTTP protocol with aws-sdk-go-v2: the confirmation handshake
// through SubscribeURL, SNS's headers, signatures (v1 and v2) checked by an independent verifier,
// raw delivery, filter policies, and retries after 5xx answers.
func TestSNSHTTPSubscription(t *testing.T) {
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb, "--sns-allow-private-endpoints")
	ctx := context.Background()
	c := snsClient(s)
	ep := startEndpoint(t)
	top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("hooks")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(top.TopicArn)
	// A fast retry policy keeps the test short; SNS's default is 3 retries 20 s apart.
	policy := `{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":1,"backoffFunction":"linear"}}`
	subOut, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.srv.URL + "/hook"),
		Attributes: map[string]string{"DeliveryPolicy": policy}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(subOut.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("SubscriptionArn %q", aws.ToString(subOut.SubscriptionArn))
	}
	conf := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["Type"] == "SubscriptionConfirmation" })
	for h, want := range map[string]string{"X-Amz-Sns-Message-Type": "SubscriptionConfirmation", "X-Amz-Sns-Topic-Arn": arn,
		"User-Agent": "Amazon Simple Notification Service Agent", "Content-Type": "text/plain; charset=UTF-8"} {
		if got := conf.Header.Get(h); got != want {
			t.Errorf("confirmation header %s = %q, want %q", h, got, want)
		}
	}
	if conf.Header.Get("X-Amz-Sns-Subscription-Arn") != "" {
		t.Error("SubscriptionConfirmation carries x-amz-sns-subscription-arn")
	}
	verifySNSSignature(t, conf.Message)
	if code, body := get(t, conf.Message["SubscribeURL"]); code != 200 || !strings.Contains(body, "<ConfirmSubscriptionResult><SubscriptionArn>"+arn+":") {
		t.Fatalf("SubscribeURL answered %d:\n%s", code, body)
	}

	// Notification, SignatureVersion 1, with a subject and an attribute.
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String("hello <world> & \"you\"\nline 2"), Subject: aws.String("greeting"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"team": {DataType: aws.String("String"), StringValue: aws.String("sec")}}})
	if err != nil {
		t.Fatal(err)
	}
	n := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["MessageId"] == aws.ToString(pub.MessageId) })
	if n.Message["Message"] != "hello <world> & \"you\"\nline 2" || n.Message["Subject"] != "greeting" || n.Message["SignatureVersion"] != "1" {
		t.Fatalf("notification body %s", n.Body)
	}
	if !strings.Contains(n.Body, `"MessageAttributes":{"team":{"Type":"String","Value":"sec"}}`) {
		t.Errorf("MessageAttributes missing in %s", n.Body)
	}
	if n.Header.Get("X-Amz-Sns-Subscription-Arn") == "" || n.Header.Get("X-Amz-Sns-Message-Id") != aws.ToString(pub.MessageId) {
		t.Errorf("notification headers %v", n.Header)
	}
	verifySNSSignature(t, n.Message)

	// SignatureVersion 2.
	if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: top.TopicArn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	pub, err = c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String("v2")})
	if err != nil {
		t.Fatal(err)
	}
	n = ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["MessageId"] == aws.ToString(pub.MessageId) })
	if n.Message["SignatureVersion"] != "2" {
		t.Fatalf("SignatureVersion %q", n.Message["SignatureVersion"])
	}
	if _, ok := n.Message["Subject"]; ok {
		t.Error("Subject present without a published subject")
	}
	verifySNSSignature(t, n.Message)

	// Retries: two 500s, then success; the same MessageId every time.
	ep.fail(2)
	pub, err = c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String("retry me")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(pub.MessageId)
	ep.wait(t, 10*time.Second, func(r endpointRequest) bool { return r.Message["MessageId"] == id && r.Status == 200 })
	var tries []endpointRequest
	for _, r := range ep.all() {
		if r.Message["MessageId"] == id {
			tries = append(tries, r)
		}
	}
	if len(tries) != 3 || tries[0].Status != 500 || tries[1].Status != 500 {
		t.Fatalf("attempts %d (want 500, 500, 200)", len(tries))
	}
	if gap := tries[1].At.Sub(tries[0].At); gap < 900*time.Millisecond {
		t.Errorf("retry after %v, policy says 1 s", gap)
	}
	if tries[0].Body != tries[2].Body {
		t.Error("a retry sent different bytes")
	}

	// Raw delivery and a MessageBody filter policy.
	subs, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: top.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	subARN := subs.Subscriptions[0].SubscriptionArn
	for k, v := range map[string]string{"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody", "FilterPolicy": `{"severity":["high"]}`} {
		if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: subARN, AttributeName: aws.String(k), AttributeValue: aws.String(v)}); err != nil {
			t.Fatal(k, err)
		}
	}
	before := len(ep.all())
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String(`{"severity":"low"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String(`{"severity":"high"}`)}); err != nil {
		t.Fatal(err)
	}
	raw := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Header.Get("X-Amz-Sns-Rawdelivery") == "true" })
	if raw.Body != `{"severity":"high"}` {
		t.Fatalf("raw body %q", raw.Body)
	}
	time.Sleep(300 * time.Millisecond) // the filtered-out message would have been sent first
	if got := len(ep.all()) - before; got != 1 {
		t.Fatalf("%d deliveries after the filter, want 1", got)
	}

	// AWS's errors, as the SDK sees them.
	for _, c := range []struct {
		call       func() error
		code, text string
	}{
		{func() error {
			_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111122223333:nope")})
			return err
		}, "NotFound", "Topic does not exist"},
		{func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String(`{"email":"x"}`), MessageStructure: aws.String("json")})
			return err
		}, "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body"},
		{func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("a@b.c\r\nBcc: d@e.f")})
			return err
		}, "InvalidParameter", "Invalid parameter: Email address"},
		{func() error {
			_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("nope")})
			return err
		}, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"},
	} {
		err := c.call()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || ae.ErrorMessage() != c.text {
			t.Errorf("got %v, want %s: %s", err, c.code, c.text)
		}
	}

	// The UnsubscribeURL of a notification works unsigned and sends a final, signed
	// UnsubscribeConfirmation.
	code, body := get(t, n.Message["UnsubscribeURL"])
	if code != 200 || !strings.Contains(body, "<UnsubscribeResponse") {
		t.Fatalf("UnsubscribeURL answered %d:\n%s", code, body)
	}
	bye := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["Type"] == "UnsubscribeConfirmation" })
	if bye.Header.Get("X-Amz-Sns-Subscription-Arn") != aws.ToString(subARN) {
		t.Errorf("UnsubscribeConfirmation headers %v", bye.Header)
	}
	verifySNSSignature(t, bye.Message)
	subs, err = c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: top.TopicArn})
	if err != nil || len(subs.Subscriptions) != 0 {
		t.Fatalf("after unsubscribing: %+v %v", subs, err)
	}
}

// TestSNSRefusesPrivateEndpoints: without the operator's flag, an HTTP subscription to a loopback
// endpoint gets no request at all (the SSRF guard refuses the connection).
func TestSNSRefusesPrivateEndpoints(t *testing.T) {
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb)
	ctx := context.Background()
	c := snsClient(s)
	ep := startEndpoint(t)
	top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("hooks")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.srv.URL)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.logs(), "destination address is not allowed") {
		if time.Now().After(deadline) {
			t.Fatalf("no refused attempt logged:\n%s", s.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(ep.all()); n != 0 {
		t.Fatalf("the loopback endpoint received %d requests", n)
	}
}

// TestSNSOutboxSurvivesMailOutageAndKill: messages published while the mail server is down are
// kept; trailwatch is killed with them in the outbox; after the restart with the mail server up,
// each arrives exactly once, and a second kill after delivery sends nothing again.
func TestSNSOutboxSurvivesMailOutageAndKill(t *testing.T) {
	// Reserve a port for the mail server, which is down at first.
	addr := freeAddr(t)
	down := &mailbox{Addr: addr}
	dataDir := t.TempDir()
	s := snsServer(t, dataDir, down)
	ctx := context.Background()
	c := snsClient(s)
	top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("outage")})
	if err != nil {
		t.Fatal(err)
	}
	// Confirm the subscription through the API (the confirmation mail cannot be sent now).
	subOut, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com"), ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = subOut
	const n = 30
	ids := map[string]bool{}
	for i := range n {
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String("alert " + strconv.Itoa(i)), Subject: aws.String("outage test")})
		if err != nil {
			t.Fatal(err)
		}
		ids[aws.ToString(out.MessageId)] = true
	}
	// Nothing was delivered (the subscription is still pending, and mail is down).
	s.kill()

	mb := startMailbox(t, addr)
	s = snsServer(t, dataDir, mb)
	c = snsClient(s)
	// The confirmation mail, retried from the outbox after the restart, confirms the subscription.
	conf := mb.wait(40*time.Second, func(m received) bool { return m.Subject == "AWS Notification - Subscription Confirmation" })
	// The link names the server that enqueued the mail; this restart listens elsewhere (a real
	// deployment keeps its address or sets --public-url).
	link := linkWith(t, conf.Body, "/confirmation.html?")
	link = s.URL + link[strings.Index(link, "/confirmation.html?"):]
	if code, _ := get(t, link); code != 200 {
		t.Fatalf("confirmation failed: %d", code)
	}
	// Messages published before the confirmation were not delivered (SNS semantics); publish the
	// real batch now, kill -9 while it is in the outbox and the mail server down again.
	mb.close()
	ids = map[string]bool{}
	for i := range n {
		out, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String("alert " + strconv.Itoa(i)), Subject: aws.String("outage test")})
		if err != nil {
			t.Fatal(err)
		}
		ids[aws.ToString(out.MessageId)] = true
	}
	s.kill()
	mb = startMailbox(t, addr)
	s = snsServer(t, dataDir, mb)
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := map[string]int{}
		for _, m := range mb.all() {
			if m.Subject == "outage test" {
				got[m.Header.Get("X-Amz-Sns-Message-Id")]++
			}
		}
		if len(got) == n {
			for id, c := range got {
				if !ids[id] || c != 1 {
					t.Fatalf("message %s delivered %d times (known: %v)", id, c, ids[id])
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages delivered after the restart", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Acknowledged deliveries are not repeated by another crash and restart.
	before := len(mb.all())
	time.Sleep(200 * time.Millisecond)
	s.kill()
	snsServer(t, dataDir, mb) // restarted over the same data; the test's cleanup stops it
	time.Sleep(1500 * time.Millisecond)
	if after := len(mb.all()); after != before {
		t.Fatalf("%d mails re-sent after a restart", after-before)
	}
}

func percentile(lat []time.Duration, p float64) time.Duration {
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// TestSNSAlarmEmailLatency measures PutLogEvents return (SDK) -> the test SMTP server receiving
// the ALARM email, over TRAILWATCH_E2E_SNS_TRIALS trials (default 20), each with its own log
// group, filter, alarm and topic. Every trial must be under a second; p50 and p99 are logged.
func TestSNSAlarmEmailLatency(t *testing.T) {
	trials := 20
	if v := os.Getenv("TRAILWATCH_E2E_SNS_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TRAILWATCH_E2E_SNS_TRIALS=%q", v)
		}
		trials = n
	}
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb)
	requireAlarmWiring(t, s)
	ctx := context.Background()
	lc, cc, c := logsClient(s), cwClient(s), snsClient(s)
	msg := rootLogin(t, time.Now())
	lat := make([]time.Duration, 0, trials)
	for i := range trials {
		name := "lat-" + strconv.Itoa(i)
		top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String(name + "@example.com")})
		if err != nil || aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
			t.Fatal(err)
		}
		conf := mb.wait(5*time.Second, func(m received) bool { return slices.Contains(m.To, name+"@example.com") })
		if code, _ := get(t, linkWith(t, conf.Body, "/confirmation.html?")); code != 200 {
			t.Fatal("confirmation failed")
		}
		setupRootFilterMetric(t, ctx, lc, name, "s", "Root"+strconv.Itoa(i))
		putAlarmTo(t, ctx, cc, name, "Root"+strconv.Itoa(i), aws.ToString(top.TopicArn))
		putEvent(t, ctx, lc, name, "s", msg, time.Now())
		returned := time.Now()
		subject := fmt.Sprintf("ALARM: %q in US East (N. Virginia)", name)
		m := mb.wait(time.Second, func(m received) bool { return m.Subject == subject })
		lat = append(lat, m.At.Sub(returned))
	}
	slices.Sort(lat)
	t.Logf("PutLogEvents -> ALARM email at the SMTP server over %d trials: p50 %v, p99 %v, max %v", trials, percentile(lat, 0.5), percentile(lat, 0.99), lat[len(lat)-1])
}

// TestSNSOutboxThroughput publishes TRAILWATCH_E2E_SNS_MESSAGES messages (default 500) with 16
// concurrent SDK clients to a topic with one raw HTTP subscription on loopback. The endpoint
// holds every request until all messages are published, so the outbox fills up; then it is
// released and the drain rate of the outbox (delivered messages per second) is reported.
func TestSNSOutboxThroughput(t *testing.T) {
	n := 500
	if v := os.Getenv("TRAILWATCH_E2E_SNS_MESSAGES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	mb := startMailbox(t, "")
	s := snsServer(t, "", mb, "--sns-allow-private-endpoints")
	ctx := context.Background()
	c := snsClient(s)
	var mu sync.Mutex
	seen := map[string]bool{}
	var dup int
	var last time.Time
	done := make(chan struct{})
	gate := make(chan struct{})
	subscribeURL := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.Header.Get("X-Amz-Sns-Message-Type") {
		case "SubscriptionConfirmation":
			var m struct{ SubscribeURL string }
			json.Unmarshal(b, &m)
			subscribeURL <- m.SubscribeURL
		case "Notification":
			<-gate
			mu.Lock()
			id := r.Header.Get("X-Amz-Sns-Message-Id")
			if seen[id] {
				dup++
			} else {
				seen[id] = true
				if len(seen) == n {
					last = time.Now()
					close(done)
				}
			}
			mu.Unlock()
		}
	}))
	defer srv.Close()
	top, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bulk")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(srv.URL),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-subscribeURL:
		if code, body := get(t, u); code != 200 {
			t.Fatalf("SubscribeURL: %d %s", code, body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no SubscriptionConfirmation")
	}
	start := time.Now()
	var wg sync.WaitGroup
	per := n / 16
	for w := range 16 {
		k := per
		if w == 15 {
			k = n - per*15
		}
		wg.Go(func() {
			for i := range k {
				if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: top.TopicArn, Message: aws.String(fmt.Sprintf("m-%d-%d", w, i))}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	published := time.Since(start)
	released := time.Now()
	close(gate)
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		mu.Lock()
		t.Fatalf("%d of %d delivered", len(seen), n)
	}
	time.Sleep(200 * time.Millisecond) // let a duplicate show up
	mu.Lock()
	defer mu.Unlock()
	if dup != 0 {
		t.Errorf("%d duplicate deliveries", dup)
	}
	drain := last.Sub(released)
	t.Logf("%d messages: Publish %.0f/s (16 SDK clients); outbox drained to the local HTTP endpoint in %v: %.0f messages/s; duplicates %d",
		n, float64(n)/published.Seconds(), drain, float64(n)/drain.Seconds(), dup)
}

// putAlarmTo creates the seed alarm (Sum >= 1 over 300 s, 1 of 1) with topic as its action.
func putAlarmTo(t *testing.T, ctx context.Context, cc *cloudwatch.Client, name, metric, topic string) {
	t.Helper()
	_, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), MetricName: aws.String(metric), Namespace: aws.String("CloudTrailMetrics"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{topic},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSNSCLIOperations drives every SNS operation with both aws CLIs (awsQuery), checking the
// shapes the CLIs parse and AWS's error codes.
func TestSNSCLIOperations(t *testing.T) {
	for _, major := range []string{"v2", "v1"} {
		t.Run(major, func(t *testing.T) {
			c := findCLI(t, major)
			mb := startMailbox(t, "")
			s := snsServer(t, "", mb)
			arn := "arn:aws:sns:" + testRegion + ":" + testAccount + ":ops"
			var top struct{ TopicArn string }
			decode(t, c.run(t, s, "sns", "create-topic", "--name", "ops", "--attributes", "DisplayName=Ops team", "--tags", "Key=team,Value=sec"), &top)
			if top.TopicArn != arn {
				t.Fatalf("TopicArn %q", top.TopicArn)
			}
			decode(t, c.run(t, s, "sns", "create-topic", "--name", "ops", "--attributes", "DisplayName=Ops team"), &top)
			var topics struct{ Topics []struct{ TopicArn string } }
			decode(t, c.run(t, s, "sns", "list-topics"), &topics)
			if len(topics.Topics) != 1 || topics.Topics[0].TopicArn != arn {
				t.Fatalf("topics %+v", topics)
			}
			c.run(t, s, "sns", "set-topic-attributes", "--topic-arn", arn, "--attribute-name", "SignatureVersion", "--attribute-value", "2")
			var attrs struct{ Attributes map[string]string }
			decode(t, c.run(t, s, "sns", "get-topic-attributes", "--topic-arn", arn), &attrs)
			if attrs.Attributes["DisplayName"] != "Ops team" || attrs.Attributes["SignatureVersion"] != "2" || attrs.Attributes["SubscriptionsPending"] != "0" {
				t.Fatalf("attributes %v", attrs.Attributes)
			}
			var sub struct{ SubscriptionArn string }
			decode(t, c.run(t, s, "sns", "subscribe", "--topic-arn", arn, "--protocol", "email-json", "--notification-endpoint", "bot@example.com",
				"--return-subscription-arn"), &sub)
			if !strings.HasPrefix(sub.SubscriptionArn, arn+":") {
				t.Fatalf("SubscriptionArn %q", sub.SubscriptionArn)
			}
			// email-json: the confirmation is the signed JSON document; its SubscribeURL confirms.
			conf := mb.wait(5*time.Second, func(m received) bool { return slices.Contains(m.To, "bot@example.com") })
			var doc map[string]string
			if err := json.Unmarshal([]byte(strings.TrimSpace(conf.Body)), &doc); err != nil || doc["Type"] != "SubscriptionConfirmation" {
				t.Fatalf("email-json confirmation: %v\n%s", err, conf.Body)
			}
			if !strings.Contains(conf.Header.Get("From"), "Ops team") {
				t.Errorf("From %q", conf.Header.Get("From"))
			}
			verifySNSSignature(t, doc)
			var confirmed struct{ SubscriptionArn string }
			decode(t, c.run(t, s, "sns", "confirm-subscription", "--topic-arn", arn, "--token", doc["Token"]), &confirmed)
			if confirmed.SubscriptionArn != sub.SubscriptionArn {
				t.Fatalf("confirm-subscription %q", confirmed.SubscriptionArn)
			}
			c.run(t, s, "sns", "set-subscription-attributes", "--subscription-arn", sub.SubscriptionArn, "--attribute-name", "FilterPolicy", "--attribute-value", `{"kind":["alert"]}`)
			decode(t, c.run(t, s, "sns", "get-subscription-attributes", "--subscription-arn", sub.SubscriptionArn), &attrs)
			if attrs.Attributes["PendingConfirmation"] != "false" || attrs.Attributes["FilterPolicy"] != `{"kind":["alert"]}` || attrs.Attributes["Protocol"] != "email-json" {
				t.Fatalf("subscription attributes %v", attrs.Attributes)
			}
			var pub struct{ MessageId string }
			decode(t, c.run(t, s, "sns", "publish", "--topic-arn", arn, "--message", "filtered out"), &pub)
			decode(t, c.run(t, s, "sns", "publish", "--topic-arn", arn, "--message", "hello", "--subject", "cli test",
				"--message-attributes", `{"kind":{"DataType":"String","StringValue":"alert"}}`), &pub)
			note := mb.wait(5*time.Second, func(m received) bool { return m.Subject == "cli test" })
			var raw map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(note.Body)), &raw); err != nil {
				t.Fatalf("email-json notification: %v\n%s", err, note.Body)
			}
			doc = map[string]string{}
			for k, v := range raw {
				if s, ok := v.(string); ok {
					doc[k] = s
				}
			}
			if doc["MessageId"] != pub.MessageId || doc["Message"] != "hello" || doc["SignatureVersion"] != "2" || raw["MessageAttributes"] == nil {
				t.Fatalf("email-json notification:\n%s", note.Body)
			}
			verifySNSSignature(t, doc)
			for _, m := range mb.all() {
				if strings.Contains(m.Body, "filtered out") {
					t.Fatal("the filter policy let a message through")
				}
			}
			var list struct {
				Subscriptions []struct{ SubscriptionArn string }
			}
			decode(t, c.run(t, s, "sns", "list-subscriptions"), &list)
			if len(list.Subscriptions) != 1 || list.Subscriptions[0].SubscriptionArn != sub.SubscriptionArn {
				t.Fatalf("subscriptions %+v", list)
			}
			c.run(t, s, "sns", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=prod")
			c.run(t, s, "sns", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
			var tags struct{ Tags []struct{ Key, Value string } }
			decode(t, c.run(t, s, "sns", "list-tags-for-resource", "--resource-arn", arn), &tags)
			if len(tags.Tags) != 1 || tags.Tags[0].Key != "env" || tags.Tags[0].Value != "prod" {
				t.Fatalf("tags %+v", tags)
			}
			c.run(t, s, "sns", "unsubscribe", "--subscription-arn", sub.SubscriptionArn)
			c.run(t, s, "sns", "delete-topic", "--topic-arn", arn)
			c.run(t, s, "sns", "delete-topic", "--topic-arn", arn) // idempotent
			for _, e := range []struct {
				args []string
				want string
			}{
				{[]string{"sns", "get-topic-attributes", "--topic-arn", arn}, "(NotFound) when calling the GetTopicAttributes operation: Topic does not exist"},
				{[]string{"sns", "create-topic", "--name", "bad name"}, "(InvalidParameter) when calling the CreateTopic operation: Invalid parameter: Topic Name"},
				{[]string{"sns", "subscribe", "--topic-arn", arn, "--protocol", "test-protocol", "--notification-endpoint", "x"},
					"(InvalidParameter) when calling the Subscribe operation: Invalid parameter: Amazon SNS does not support this protocol string: test-protocol"},
				{[]string{"sns", "publish", "--topic-arn", arn, "--message", "m", "--message-structure", "json"},
					"(InvalidParameter) when calling the Publish operation: Invalid parameter: Message Structure - JSON message body failed to parse"},
			} {
				_, errOut, code := c.try(t, s, e.args...)
				// The CLI may add " (reached max retries: 0)" before the colon.
				head, msg, _ := strings.Cut(e.want, ": ")
				if code == 0 || !strings.Contains(errOut, head) || !strings.Contains(errOut, ": "+msg) {
					t.Errorf("aws %s: exit %d\n%s\nwant %q", strings.Join(e.args, " "), code, errOut, e.want)
				}
			}
		})
	}
}
