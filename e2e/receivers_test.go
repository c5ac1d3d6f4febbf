package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	snsdomain "github.com/trailwatch/trailwatch/internal/sns"
)

// receiversCmd runs `trailwatch receivers ARGS` against s with the test credentials, extra
// environment and standard input; it returns stdout, stderr and the exit code.
func receiversCmd(t *testing.T, s *server, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	full := append([]string{"receivers"}, args...)
	full = append(full, "--endpoint", s.URL)
	cmd := exec.Command(binPath, full...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// putReceiver creates a receiver with the CLI and returns its endpoint.
func putReceiver(t *testing.T, s *server, stdin string, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := receiversCmd(t, s, stdin, env, append([]string{"put"}, args...)...)
	if code != 0 {
		t.Fatalf("receivers put %v: exit %d\n%s", args, code, errOut)
	}
	var o struct{ Endpoint string }
	if err := json.Unmarshal([]byte(out), &o); err != nil || o.Endpoint == "" {
		t.Fatalf("put output %q", out)
	}
	return o.Endpoint
}

// subscribeReceiver subscribes topic to a receiver endpoint (an ordinary SNS http subscription)
// and waits until trailwatch has confirmed it itself.
func subscribeReceiver(t *testing.T, ctx context.Context, sc *sns.Client, topic, endpoint string) {
	t.Helper()
	out, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(endpoint)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubscriptionArn) != "pending confirmation" {
		t.Errorf("Subscribe returned %q", aws.ToString(out.SubscriptionArn))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := sc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l.Subscriptions {
			if aws.ToString(s.Endpoint) == endpoint && aws.ToString(s.SubscriptionArn) != "PendingConfirmation" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription to %s not confirmed", endpoint)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rootAlarm sets up a CIS root-login metric filter on group and an alarm with ALARM and OK actions
// to topic.
func rootAlarm(t *testing.T, ctx context.Context, s *server, group, metric, alarm, topic string) {
	t.Helper()
	setupRootFilterMetric(t, ctx, logsClient(s), group, "s", metric)
	_, err := cwClient(s).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(alarm), MetricName: aws.String(metric), Namespace: aws.String("CloudTrailMetrics"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{topic}, OKActions: []string{topic},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitRequests(t *testing.T, srv *providertest.Server, n int, timeout time.Duration) []providertest.Request {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if r := srv.Requests(); len(r) >= n {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after %v, want %d", len(srv.Requests()), timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReceiverRootLoginSlackPagerDuty: a root login reaches a Slack receiver with the source IP and
// the root ARN, and a PagerDuty receiver as a trigger; OK resolves the incident with the same
// dedup_key; each transition makes one message per receiver.
func TestReceiverRootLoginSlackPagerDuty(t *testing.T) {
	s := startServer(t, "", "--sns-allow-private-endpoints")
	ctx := context.Background()
	slackSrv := providertest.NewServer(t, providertest.Answer{Status: 200, Body: "ok"})
	pdSrv := providertest.NewServer(t, providertest.Answer{Status: 202, Body: `{"status":"success","message":"Event processed"}`})
	slackEP := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + slackSrv.URL + "/services/T1/B1/secret"}, "--name", "sec-slack", "--type", "slack")
	pdEP := putReceiver(t, s, "url="+pdSrv.URL+"/v2/enqueue\nroutingKey=R0123456789abcdef0123456789abcde\n", nil, "--name", "oncall", "--type", "pagerduty", "--stdin")
	if slackEP != s.URL+"/receivers/sec-slack" {
		t.Errorf("endpoint %q", slackEP)
	}
	// Reads never show the secrets.
	out, _, code := receiversCmd(t, s, "", nil, "list")
	if code != 0 || strings.Contains(out, "secret") || strings.Contains(out, "R0123456789abcdef") || !strings.Contains(out, "****") {
		t.Errorf("list (exit %d) shows secrets or no mask:\n%s", code, out)
	}
	sc := snsClient(s)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security")})
	if err != nil {
		t.Fatal(err)
	}
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), slackEP)
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), pdEP)
	rootAlarm(t, ctx, s, "CloudTrail/DefaultLogGroup", "RootAccountUsage", "RootAccountUsage", aws.ToString(topic.TopicArn))
	putEvent(t, ctx, logsClient(s), "CloudTrail/DefaultLogGroup", "s", rootLogin(t, time.Now()), time.Now())

	sreq := waitRequests(t, slackSrv, 1, 10*time.Second)[0]
	var msg struct {
		Text   string
		Blocks []map[string]any
	}
	if err := json.Unmarshal(sreq.Body, &msg); err != nil {
		t.Fatal(err)
	}
	if sreq.Path != "/services/T1/B1/secret" || !strings.Contains(string(sreq.Body), "arn:aws:iam::") || !strings.Contains(string(sreq.Body), ":root") ||
		!strings.Contains(msg.Text, "ALARM") || !strings.Contains(string(sreq.Body), s.URL+"/console/alarms/"+testAccount+"/"+testRegion+"/RootAccountUsage") {
		t.Errorf("slack request %s %s", sreq.Path, sreq.Body)
	}
	var ip string
	if err := json.Unmarshal([]byte(rootLogin(t, time.Now())), &struct {
		SourceIPAddress *string `json:"sourceIPAddress"`
	}{&ip}); err != nil || ip == "" || !strings.Contains(string(sreq.Body), ip) {
		t.Errorf("source IP %q not in the Slack message", ip)
	}
	trig := waitRequests(t, pdSrv, 1, 10*time.Second)[0]
	var ev struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
	}
	json.Unmarshal(trig.Body, &ev)
	alarmARN := "arn:aws:cloudwatch:" + testRegion + ":" + testAccount + ":alarm:RootAccountUsage"
	if ev.EventAction != "trigger" || ev.DedupKey != alarmARN || ev.RoutingKey != "R0123456789abcdef0123456789abcde" {
		t.Errorf("trigger %s", trig.Body)
	}

	if _, err := cwClient(s).SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("RootAccountUsage"),
		StateValue: cwtypes.StateValueOk, StateReason: aws.String("resolved by the test")}); err != nil {
		t.Fatal(err)
	}
	res := waitRequests(t, pdSrv, 2, 10*time.Second)[1]
	json.Unmarshal(res.Body, &ev)
	if ev.EventAction != "resolve" || ev.DedupKey != alarmARN {
		t.Errorf("resolve %s", res.Body)
	}
	waitRequests(t, slackSrv, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n, m := len(slackSrv.Requests()), len(pdSrv.Requests()); n != 2 || m != 2 {
		t.Errorf("two transitions made %d Slack and %d PagerDuty requests, want 2 and 2", n, m)
	}
}

// deliveries runs `trailwatch deliveries` on the server's data directory.
func deliveries(t *testing.T, s *server, args ...string) []map[string]any {
	t.Helper()
	out, err := exec.Command(binPath, append([]string{"deliveries", "--data", s.DataDir}, args...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	var ds []map[string]any
	for line := range strings.Lines(string(out)) {
		var d map[string]any
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return ds
}

// TestReceiverRetryAndFailure: a webhook answering 500 then 200 gets the message once (two
// requests, one idempotency key); a 400 is not retried and shows as failed, with every attempt and
// the provider's answer in `trailwatch deliveries`.
func TestReceiverRetryAndFailure(t *testing.T) {
	s := startServer(t, "", "--sns-allow-private-endpoints")
	ctx := context.Background()
	flaky := providertest.NewServer(t, providertest.Answer{Status: 200}, providertest.Answer{Status: 500, Body: "try later"})
	broken := providertest.NewServer(t, providertest.Answer{Status: 400, Body: "bad payload"})
	flakyEP := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + flaky.URL, "TRAILWATCH_RECEIVER_SIGNING_SECRET=whsec"}, "--name", "flaky", "--type", "webhook")
	brokenEP := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + broken.URL}, "--name", "broken", "--type", "webhook")
	sc := snsClient(s)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), flakyEP)
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), brokenEP)
	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("disk <full> & more")}); err != nil {
		t.Fatal(err)
	}
	reqs := waitRequests(t, flaky, 2, 15*time.Second)
	if k0, k1 := reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"); k0 == "" || k0 != k1 {
		t.Errorf("idempotency keys %q %q", k0, k1)
	}
	var payload struct {
		Trailwatch struct{ Message string }
	}
	json.Unmarshal(reqs[1].Body, &payload)
	if reqs[1].Header.Get("X-Trailwatch-Signature") == "" || payload.Trailwatch.Message != "disk <full> & more" {
		t.Errorf("retry %v %s", reqs[1].Header, reqs[1].Body)
	}
	waitRequests(t, broken, 1, 10*time.Second)
	time.Sleep(2500 * time.Millisecond) // past the first retry's delay: nothing more may come
	if n, m := len(flaky.Requests()), len(broken.Requests()); n != 2 || m != 1 {
		t.Errorf("flaky got %d requests (want 2), broken %d (want 1)", n, m)
	}
	var okSeen, failSeen bool
	for _, d := range deliveries(t, s) {
		if d["protocol"] != "receiver" {
			continue
		}
		atts, _ := d["attempts"].([]any)
		switch {
		case strings.HasSuffix(d["endpoint"].(string), "/receivers/flaky"):
			okSeen = d["status"] == "delivered" && len(atts) == 2 && strings.Contains(atts[0].(map[string]any)["detail"].(string), "HTTP 500: try later")
		case strings.HasSuffix(d["endpoint"].(string), "/receivers/broken"):
			failSeen = d["status"] == "failed" && len(atts) == 1 && strings.Contains(atts[0].(map[string]any)["detail"].(string), "HTTP 400: bad payload")
		}
	}
	if !okSeen || !failSeen {
		t.Errorf("deliveries do not show the retried and the failed message: %v", deliveries(t, s))
	}
}

// TestReceiverRealSNS: the endpoint takes real SNS messages signed with a certificate from an
// allowed host (here a test host, --receiver-sns-cert-hosts), and refuses a forged one.
func TestReceiverRealSNS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	confirmed := make(chan string, 1)
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/confirm" {
			confirmed <- r.URL.Query().Get("Token")
			return
		}
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}))
	defer aws.Close()
	s := startServer(t, "", "--sns-allow-private-endpoints", "--receiver-sns-cert-hosts", aws.URL, "--receiver-sns-accounts", "999988887777")
	hook := providertest.NewServer(t, providertest.Answer{Status: 200})
	ep := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + hook.URL}, "--name", "aws-hook", "--type", "webhook")

	topic := "arn:aws:sns:eu-west-1:999988887777:prod-alarms"
	sign := func(m map[string]string) string {
		sum := sha256.Sum256(snsdomain.StringToSign(m))
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		m["SignatureVersion"], m["Signature"], m["SigningCertURL"] = "2", base64.StdEncoding.EncodeToString(sig), aws.URL+"/SimpleNotificationService-test.pem"
		b, _ := json.Marshal(m)
		return string(b)
	}
	post := func(typ, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, ep, strings.NewReader(body))
		req.Header.Set("x-amz-sns-message-type", typ)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	conf := sign(map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "c1", "Token": "tok123", "TopicArn": topic,
		"Message": "You have chosen to subscribe", "SubscribeURL": aws.URL + "/confirm?Token=tok123", "Timestamp": "2026-12-06T09:00:00.000Z"})
	if code, body := post("SubscriptionConfirmation", conf); code != 200 {
		t.Fatalf("confirmation: %d %s", code, body)
	}
	select {
	case tok := <-confirmed:
		if tok != "tok123" {
			t.Errorf("confirmed with %q", tok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SubscribeURL not visited")
	}
	alarm := `{"AlarmName":"prod-root","AWSAccountId":"999988887777","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed","StateChangeTime":"2026-12-06T09:00:00.000+0000","Region":"EU (Ireland)","AlarmArn":"arn:aws:cloudwatch:eu-west-1:999988887777:alarm:prod-root","OldStateValue":"OK"}`
	note := map[string]string{"Type": "Notification", "MessageId": "n1", "TopicArn": topic, "Subject": `ALARM: "prod-root" in EU (Ireland)`,
		"Message": alarm, "Timestamp": "2026-12-06T09:00:01.000Z"}
	good := sign(note)
	var forged map[string]string
	json.Unmarshal([]byte(good), &forged)
	forged["Message"] = strings.Replace(alarm, "prod-root", "other", 1) // signature no longer covers it
	fb, _ := json.Marshal(forged)
	if code, body := post("Notification", string(fb)); code != http.StatusForbidden {
		t.Errorf("forged notification: %d %s", code, body)
	}
	if code, body := post("Notification", good); code != 200 {
		t.Fatalf("notification: %d %s", code, body)
	}
	req := waitRequests(t, hook, 1, 10*time.Second)[0]
	if !strings.Contains(string(req.Body), `"alarmArn":"arn:aws:cloudwatch:eu-west-1:999988887777:alarm:prod-root"`) || !strings.Contains(string(req.Body), `"status":"firing"`) {
		t.Errorf("webhook body %s", req.Body)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(hook.Requests()); n != 1 {
		t.Errorf("%d webhook requests, want 1 (the forged one must not be sent)", n)
	}
}

// TestReceiverTestOperation: TestReceiver sends a sample to each type and returns the provider's
// answer.
func TestReceiverTestOperation(t *testing.T) {
	s := startServer(t, "", "--sns-allow-private-endpoints")
	fake := providertest.NewServer(t, providertest.Answer{Status: 200})
	fake.Answer = func(r providertest.Request) providertest.Answer {
		switch {
		case strings.HasPrefix(r.Path, "/slack"):
			return providertest.Answer{Status: 200, Body: "ok"}
		case strings.HasPrefix(r.Path, "/pd"):
			return providertest.Answer{Status: 202, Body: `{"status":"success"}`}
		case strings.HasPrefix(r.Path, "/teams"):
			return providertest.Answer{Status: 202}
		}
		return providertest.Answer{Status: 204}
	}
	for _, c := range []struct{ name, typ, env string }{
		{"s", "slack", "TRAILWATCH_RECEIVER_URL=" + fake.URL + "/slack"},
		{"p", "pagerduty", "TRAILWATCH_RECEIVER_URL=" + fake.URL + "/pd"},
		{"t", "teams", "TRAILWATCH_RECEIVER_URL=" + fake.URL + "/teams"},
		{"w", "webhook", "TRAILWATCH_RECEIVER_URL=" + fake.URL + "/hook"},
	} {
		env := []string{c.env}
		if c.typ == "pagerduty" {
			env = append(env, "TRAILWATCH_RECEIVER_ROUTING_KEY=R0123456789abcdef0123456789abcde")
		}
		putReceiver(t, s, "", env, "--name", c.name, "--type", c.typ)
		out, errOut, code := receiversCmd(t, s, "", nil, "test", "--name", c.name)
		if code != 0 || !strings.Contains(out, `"delivered": true`) {
			t.Errorf("test %s: exit %d\n%s%s", c.typ, code, out, errOut)
		}
	}
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	for _, r := range fake.Requests() {
		if !strings.Contains(string(r.Body), "203.0.113.7") {
			t.Errorf("%s: sample without the source IP: %s", r.Path, r.Body)
		}
	}
	out, _, code := receiversCmd(t, s, "", nil, "get", "--name", "p")
	if code != 0 || !strings.Contains(out, `"routingKey": "****bcde"`) || !strings.Contains(out, `"endpoint": "`+s.URL+`/receivers/p"`) || strings.Contains(out, "R0123456789") {
		t.Errorf("get: exit %d\n%s", code, out)
	}
	if _, errOut, code := receiversCmd(t, s, "", nil, "delete", "--name", "p"); code != 0 {
		t.Errorf("delete: exit %d %s", code, errOut)
	}
	if _, errOut, code := receiversCmd(t, s, "", nil, "get", "--name", "p"); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("get after delete: exit %d %s", code, errOut)
	}
	// Secrets are refused as arguments.
	if _, errOut, code := receiversCmd(t, s, "", nil, "put", "--name", "x", "--type", "slack", "https://hooks.slack.com/x"); code != 2 || !strings.Contains(errOut, "environment") {
		t.Errorf("secret as argument: exit %d %s", code, errOut)
	}
	// An unknown receiver is AWS's ResourceNotFoundException; a bad field is named.
	if _, errOut, code := receiversCmd(t, s, "", nil, "test", "--name", "nope"); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Errorf("unknown receiver: %d %s", code, errOut)
	}
	if _, errOut, code := receiversCmd(t, s, "", nil, "put", "--name", "x", "--type", "pagerduty"); code != 1 || !strings.Contains(errOut, "InvalidParameterException") || !strings.Contains(errOut, "routingKey") {
		t.Errorf("missing routing key: %d %s", code, errOut)
	}
}

// TestReceiverLatency measures PutLogEvents return -> the receiver's request at a webhook, over
// TRAILWATCH_E2E_RECEIVER_TRIALS trials (default 20), each with its own log group, filter and
// alarm; p50 and p99 are logged, and every trial must be under a second.
func TestReceiverLatency(t *testing.T) {
	trials := 20
	if v := os.Getenv("TRAILWATCH_E2E_RECEIVER_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TRAILWATCH_E2E_RECEIVER_TRIALS=%q", v)
		}
		trials = n
	}
	s := startServer(t, "", "--sns-allow-private-endpoints")
	ctx := context.Background()
	hook := providertest.NewServer(t, providertest.Answer{Status: 200})
	hook.Seen = make(chan providertest.Request, 4)
	ep := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + hook.URL}, "--name", "lat", "--type", "webhook")
	sc := snsClient(s)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("lat")})
	if err != nil {
		t.Fatal(err)
	}
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), ep)
	lc := logsClient(s)
	msg := rootLogin(t, time.Now())
	lat := make([]time.Duration, 0, trials)
	for i := range trials {
		group, metric, name := "lat"+strconv.Itoa(i), "Root"+strconv.Itoa(i), "root-"+strconv.Itoa(i)
		rootAlarm(t, ctx, s, group, metric, name, aws.ToString(topic.TopicArn))
		putEvent(t, ctx, lc, group, "s", msg, time.Now())
		returned := time.Now()
		select {
		case r := <-hook.Seen:
			if !strings.Contains(string(r.Body), `"alertname":"`+name+`"`) {
				t.Fatalf("trial %d: request for another alarm: %.200s", i, r.Body)
			}
			lat = append(lat, r.At.Sub(returned))
		case <-time.After(time.Second):
			t.Fatalf("trial %d: no receiver request within a second", i)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	t.Logf("PutLogEvents return -> receiver request over %d trials: p50 %v, p99 %v, max %v", trials, pct(0.50), pct(0.99), lat[len(lat)-1])
}

// TestReceiverSurvivesKill: a receiver message whose provider is down survives kill -9 and is
// delivered once after the restart, with the same idempotency key.
func TestReceiverSurvivesKill(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--sns-allow-private-endpoints")
	ctx := context.Background()
	var up atomic.Bool
	hook := providertest.NewServer(t, providertest.Answer{Status: 200})
	hook.Answer = func(providertest.Request) providertest.Answer {
		if up.Load() {
			return providertest.Answer{Status: 200}
		}
		return providertest.Answer{Status: 503, Body: "maintenance"}
	}
	ep := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + hook.URL}, "--name", "hook", "--type", "webhook")
	sc := snsClient(s)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	subscribeReceiver(t, ctx, sc, aws.ToString(topic.TopicArn), ep)
	if _, err := sc.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("root login")}); err != nil {
		t.Fatal(err)
	}
	waitRequests(t, hook, 1, 10*time.Second)
	s.kill()
	flip := time.Now()
	up.Store(true)
	startServer(t, dataDir, "--sns-allow-private-endpoints")
	waitRequests(t, hook, 2, 30*time.Second)
	time.Sleep(2 * time.Second) // past the next retry delays: a delivered message is not sent again
	reqs := hook.Requests()
	delivered := 0
	for _, r := range reqs {
		if r.Header.Get("Idempotency-Key") != reqs[0].Header.Get("Idempotency-Key") {
			t.Errorf("idempotency key changed: %q then %q", reqs[0].Header.Get("Idempotency-Key"), r.Header.Get("Idempotency-Key"))
		}
		if r.At.After(flip) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("%d requests after the restart (all answered 200), want 1", delivered)
	}
}

// TestReceiverWithAWSCLI: the README's route with the aws CLI v2: create-topic, subscribe with a
// filter policy to the receiver endpoint (confirmed by trailwatch), publish; only the message the
// filter policy accepts reaches the Teams receiver.
func TestReceiverWithAWSCLI(t *testing.T) {
	c := findCLI(t, "v2")
	s := startServer(t, "", "--sns-allow-private-endpoints")
	teamsSrv := providertest.NewServer(t, providertest.Answer{Status: 202})
	ep := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + teamsSrv.URL + "/workflows/1/triggers/manual/paths/invoke?sig=x"}, "--name", "sec-teams", "--type", "teams")
	var topic struct{ TopicArn string }
	decode(t, c.run(t, s, "sns", "create-topic", "--name", "teams-alerts"), &topic)
	var sub struct{ SubscriptionArn string }
	decode(t, c.run(t, s, "sns", "subscribe", "--topic-arn", topic.TopicArn, "--protocol", "http", "--notification-endpoint", ep,
		"--attributes", `{"FilterPolicy":"{\"team\":[\"security\"]}"}`, "--return-subscription-arn"), &sub)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var attrs struct{ Attributes map[string]string }
		decode(t, c.run(t, s, "sns", "get-subscription-attributes", "--subscription-arn", sub.SubscriptionArn), &attrs)
		if attrs.Attributes["PendingConfirmation"] == "false" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription not confirmed: %v", attrs.Attributes)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.run(t, s, "sns", "publish", "--topic-arn", topic.TopicArn, "--message", "for the network team",
		"--message-attributes", `{"team":{"DataType":"String","StringValue":"network"}}`)
	c.run(t, s, "sns", "publish", "--topic-arn", topic.TopicArn, "--subject", "Root login", "--message", "root signed in from 203.0.113.7",
		"--message-attributes", `{"team":{"DataType":"String","StringValue":"security"}}`)
	req := waitRequests(t, teamsSrv, 1, 10*time.Second)[0]
	if !strings.Contains(string(req.Body), "root signed in from 203.0.113.7") || !strings.Contains(string(req.Body), `"contentType":"application/vnd.microsoft.card.adaptive"`) {
		t.Errorf("teams body %s", req.Body)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(teamsSrv.Requests()); n != 1 {
		t.Errorf("%d Teams requests, want 1 (the filter policy drops the other)", n)
	}
}
