package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/trailwatch/trailwatch/internal/notify/providertest"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// chromiumFlags are what Debian's chromium needs to run headless as root on a machine without a
// network: no sandbox (root), no GPU, and none of the background traffic (QUIC, component updates,
// sync, first-run pings) that would try to leave the machine.
var chromiumFlags = []chromedp.ExecAllocatorOption{
	chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
	chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	chromedp.Flag("no-default-browser-check", true), chromedp.WindowSize(1400, 1000),
}

// browser starts Debian's chromium (skipped when missing, failed under TRAILWATCH_E2E_REQUIRE=1)
// with a fresh profile, and records every request that leaves origin and every console error,
// uncaught exception or CSP report of the pages.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	offsite  []string
	problems []string
}

func startBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir())}, chromiumFlags...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u := e.Request.URL
			if !strings.HasPrefix(u, origin+"/") && u != origin && !strings.HasPrefix(u, "data:") {
				b.offsite = append(b.offsite, u)
			}
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if ex := e.ExceptionDetails.Exception; ex != nil && ex.Description != "" {
				msg += " " + ex.Description
			}
			b.problems = append(b.problems, "exception: "+msg)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the runtime domain: %v", err)
	}
	return b
}

func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value runs one action that returns a value.
func value[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// poll waits until the expression is true.
func poll(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	a := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(timeout))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// axeSource is axe-core (npm axe-core 4.14.1, MPL-2.0), vendored for the tests only.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeCheck runs axe-core on the current page (WCAG 2.x A and AA rules and best practices) and fails
// on any serious or critical violation. The script is injected through the DevTools protocol, which
// the page's CSP does not govern, so the console's own policy stays strict.
func (b *browser) axeCheck(t *testing.T, page, axe string) {
	t.Helper()
	b.run(t, "inject axe on "+page, chromedp.Evaluate[chromedp.Void](axe))
	out := value(t, b, "axe on "+page, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}).then(r =>
		JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	if out != "[]" {
		t.Errorf("axe: serious or critical violations on %s: %s", page, out)
	}
}

func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("TRAILWATCH_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := value(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// consoleSetup is the root-login chain of the README over the SDK: a CloudTrail log group with
// the CIS root-usage filter (Security Hub's exact text) and streams of three source accounts, a
// topic with a confirmed HTTP subscription and a pending email one, and an alarm on the filter's
// metric with ALARM and OK actions. Two root logins of the last two hours give the graph a past.
func consoleSetup(t *testing.T, ctx context.Context, s *server) *cloudwatchlogs.Client {
	t.Helper()
	lc, cc, sc := logsClient(s), cwClient(s), snsClient(s)
	top, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("security-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	ep := startEndpoint(t)
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.srv.URL + "/hook")}); err != nil {
		t.Fatal(err)
	}
	conf := ep.wait(t, 5*time.Second, func(r endpointRequest) bool { return r.Message["Type"] == "SubscriptionConfirmation" })
	if code, body := get(t, conf.Message["SubscribeURL"]); code != 200 {
		t.Fatalf("SubscribeURL: %d %s", code, body)
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: top.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}); err != nil {
		t.Fatal(err)
	}

	const g = "CloudTrail/DefaultLogGroup"
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(g), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(pattern.CIS()[0].Pattern),
		MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	other := func(acct, region string, at time.Time) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::` + acct + `:user/alice","accountId":"` + acct + `"},"eventTime":"` +
			at.UTC().Format(time.RFC3339) + `","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"` + region +
			`","sourceIPAddress":"192.0.2.44","userAgent":"aws-cli/2.9.19","eventType":"AwsApiCall","recipientAccountId":"` + acct + `"}`
	}
	for _, st := range []struct {
		acct, region string
		age          time.Duration
	}{{"111122223333", "us-east-1", 0}, {"111122223333", "eu-west-1", 10 * time.Minute}, {"444455556666", "eu-west-1", time.Hour},
		{"444455556666", "us-east-1", 50 * time.Hour}, {"777788889999", "us-east-1", 3 * time.Minute}} {
		name := st.acct + "_CloudTrail_" + st.region
		if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		switch {
		case st.acct == "777788889999":
			// This account's records come through the EventBridge endpoint, which the sources
			// page then shows with its last delivery.
			at := now.Add(-st.age)
			body := `{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","account":"777788889999","time":"` +
				at.UTC().Format(time.RFC3339) + `","region":"us-east-1","resources":[],"detail":` + other(st.acct, st.region, at) + `}`
			req, _ := http.NewRequest("POST", s.URL+"/ingest/eventbridge", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-trailwatch-api-key", "console-eb-key")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("EventBridge delivery: %d", resp.StatusCode)
			}
		case st.age > 0:
			at := now.Add(-st.age)
			putEvent(t, ctx, lc, g, name, other(st.acct, st.region, at), at)
		}
	}
	for _, ago := range []time.Duration{95 * time.Minute, 40 * time.Minute} {
		at := now.Add(-ago)
		putEvent(t, ctx, lc, g, "111122223333_CloudTrail_us-east-1", rootLogin(t, at), at)
	}
	if _, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("RootAccountUsage"), MetricName: aws.String("RootAccountUsage"), Namespace: aws.String("CloudTrailMetrics"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
		AlarmActions: []string{aws.ToString(top.TopicArn)}, OKActions: []string{aws.ToString(top.TopicArn)},
	}); err != nil {
		t.Fatal(err)
	}
	return lc
}

// TestConsoleBrowser drives the console in Debian's chromium: log in; the board shows a root
// login's alarm with its source IP and root ARN within a second of the PutLogEvents; the alarm
// detail draws its graph; the feed receives a new event live; the evidence page shows a record
// holding HTML as text; the workbench's test of the CIS pattern reports the match; axe-core finds
// no serious or critical violation on any view; logout ends access; and no request leaves the
// console's origin. With TRAILWATCH_SCREENSHOTS=dir it saves a screenshot of each view there (the
// README shows those of the board, the alarm and the coverage matrix, from docs/).
func TestConsoleBrowser(t *testing.T) {
	t.Setenv("TRAILWATCH_EVENTBRIDGE_KEY", "console-eb-key")
	s := startServer(t, "", "--sns-allow-private-endpoints", "--eventbridge-log-group", "CloudTrail/DefaultLogGroup")
	ctx := context.Background()
	lc := consoleSetup(t, ctx, s)
	// A signed webhook receiver on the alarm's topic (issue 12): the notifications page lists it
	// with its settings masked, its endpoint, the topic and its last delivery.
	hook := providertest.NewServer(t, providertest.Answer{Status: 200, Body: "ok"})
	const hookSecret, hookPath = "whsec_e2e_9f8e7d6c5b4a39281706f5e4d3c2b1a0", "/hooks/siem-token-4f3e2d1c0b"
	hookEP := putReceiver(t, s, "", []string{"TRAILWATCH_RECEIVER_URL=" + hook.URL + hookPath, "TRAILWATCH_RECEIVER_SIGNING_SECRET=" + hookSecret},
		"--name", "siem", "--type", "webhook")
	subscribeReceiver(t, ctx, snsClient(s), "arn:aws:sns:"+testRegion+":"+testAccount+":security-alerts", hookEP)

	b := startBrowser(t, s.URL)
	axe := axeSource(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Without a session every page leads to the login form.
	b.run(t, "open the board logged out", chromedp.Navigate(s.URL+"/console/board"), chromedp.WaitVisible(css("#akid")))
	if loc := value(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/console/login") {
		t.Fatalf("logged out, the board went to %s", loc)
	}
	b.axeCheck(t, "login", axe)
	b.run(t, "log in",
		chromedp.SendKeys(css("#akid"), testAccessKey),
		chromedp.SendKeys(css("#secret"), testSecretKey),
		chromedp.Click(css("form.login button[type=submit]")),
		chromedp.WaitVisible(css("#live")),
		poll(`document.getElementById("live").textContent.startsWith("Live")`, 10*time.Second),
	)

	// The root login: PutLogEvents returns, the board must show it within a second.
	root := rootLogin(t, time.Now())
	var rec map[string]any
	if err := json.Unmarshal([]byte(root), &rec); err != nil {
		t.Fatal(err)
	}
	ip := rec["sourceIPAddress"].(string)
	arn := rec["userIdentity"].(map[string]any)["arn"].(string)
	putEvent(t, ctx, lc, "CloudTrail/DefaultLogGroup", "111122223333_CloudTrail_us-east-1", root, time.Now())
	put := time.Now()
	b.run(t, "wait for the alarm on the board", poll(fmt.Sprintf(`(() => { const t = document.getElementById("board-rows").textContent;
		return t.includes("ALARM") && t.includes(%q) && t.includes(%q); })()`, ip, arn), 5*time.Second))
	took := time.Since(put)
	t.Logf("board showed the root login %v after PutLogEvents returned", took)
	if took > time.Second {
		t.Errorf("the board showed the root login after %v, want within a second", took)
	}
	b.axeCheck(t, "board", axe)
	b.screenshot(t, "console-board.png")

	// Alarm detail: the graph is drawn (a canvas with painted pixels) and has its text alternative.
	b.run(t, "open the alarm",
		chromedp.Click(css(`#board-rows a[href^="/console/alarms/"]`)),
		chromedp.WaitVisible(css("#graph canvas")),
		poll(`!document.getElementById("graph-summary").textContent.startsWith("Loading")`, 5*time.Second),
	)
	painted := value(t, b, "count painted pixels", chromedp.Evaluate[int](`(() => { const c = document.querySelector("#graph canvas");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; })()`))
	caption := value(t, b, "graph caption", chromedp.Text(css("#graph-summary")))
	if painted < 1000 {
		t.Errorf("the alarm graph painted %d pixels", painted)
	}
	if !strings.Contains(caption, "threshold 1") || !strings.Contains(caption, "now ALARM") {
		t.Errorf("graph caption = %q", caption)
	}
	if loc, want := value(t, b, "location", chromedp.Location()), s.URL+"/console/alarms/"+testAccount+"/"+testRegion+"/RootAccountUsage"; loc != want {
		t.Errorf("alarm detail URL = %s, want %s", loc, want)
	}
	b.axeCheck(t, "alarm detail", axe)
	b.screenshot(t, "console-alarm.png")

	// Evidence of the board's row, with the fields the CIS filter tests marked.
	b.run(t, "open the evidence", chromedp.Navigate(s.URL+"/console/board"), chromedp.WaitVisible(css(`#board-rows a[href^="/console/evidence"]`)),
		chromedp.Click(css(`#board-rows a[href^="/console/evidence"]`)), chromedp.WaitVisible(css("table.fields")))
	if marked := value(t, b, "marked fields", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("table.fields tr.tested")).map(r => r.textContent).join(" ")`)); !strings.Contains(marked, "$.userIdentity.type") {
		t.Errorf("evidence page does not mark $.userIdentity.type as tested: %q", marked)
	}
	b.axeCheck(t, "evidence", axe)
	b.screenshot(t, "console-evidence.png")

	// The feed: a new matching event appears live; one whose fields hold HTML shows as text.
	b.run(t, "open the feed", chromedp.Navigate(s.URL+"/console/feed"),
		poll(`document.getElementById("live").textContent.startsWith("Live")`, 10*time.Second))
	hostile := strings.Replace(rootLogin(t, time.Now()), `"sourceIPAddress":"`, `"sourceIPAddress":"<img src=x onerror=window.pwned=1>`, 1)
	putEvent(t, ctx, lc, "CloudTrail/DefaultLogGroup", "111122223333_CloudTrail_us-east-1", hostile, time.Now())
	b.run(t, "wait for the live row", poll(`document.getElementById("feed-rows").textContent.includes("<img src=x onerror=window.pwned=1>")`, 5*time.Second))
	const injected = `window.pwned === 1 || document.querySelectorAll("#feed-rows img").length > 0`
	if value(t, b, "look for injected markup", chromedp.Evaluate[bool](injected)) {
		t.Error("an event's HTML was rendered as markup in the live feed")
	}
	b.axeCheck(t, "feed", axe)
	b.screenshot(t, "console-feed.png")
	b.run(t, "reload the feed", chromedp.Reload(), chromedp.WaitVisible(css("#feed-rows")))
	if value(t, b, "look for injected markup", chromedp.Evaluate[bool](injected)) || !value(t, b, "feed text", chromedp.Evaluate[bool](`document.getElementById("feed-rows").textContent.includes("<img src=x")`)) {
		t.Error("an event's HTML was not shown as text in the server-rendered feed")
	}

	// Coverage: the matrix has both source accounts and says what is missing.
	b.run(t, "open coverage", chromedp.Navigate(s.URL+"/console/coverage"), chromedp.WaitVisible(css("table.matrix")))
	matrix := value(t, b, "matrix", chromedp.Text(css("table.matrix")))
	for _, want := range []string{"111122223333", "444455556666", "777788889999", "us-east-1", "eu-west-1", "CIS root-usage pattern, exactly",
		"alarm RootAccountUsage with ALARM and OK actions", "topic has a confirmed subscription and reaches receiver siem (webhook)", "newest event 2d ago", "newest event 1h ago"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("coverage matrix lacks %q:\n%s", want, matrix)
		}
	}
	b.axeCheck(t, "coverage", axe)
	b.screenshot(t, "console-coverage.png")

	// Workbench: the CIS pattern (the default) against a pasted root login.
	b.run(t, "test a pattern", chromedp.Navigate(s.URL+"/console/workbench"), chromedp.WaitVisible(css("#lines")),
		chromedp.SetValue(css("#lines"), rootLogin(t, time.Now())),
		chromedp.Click(css("#test")), chromedp.WaitVisible(css("#summary")))
	if summary := value(t, b, "workbench summary", chromedp.Text(css("#summary"))); !strings.HasPrefix(summary, "1 of 1 events") {
		t.Errorf("workbench summary = %q, want the match reported", summary)
	}
	b.axeCheck(t, "workbench", axe)
	b.screenshot(t, "console-workbench.png")

	// The root login's ALARM reached the webhook receiver; the page shows that delivery once it
	// is recorded (the provider's answer comes first, so the page is reloaded until then).
	waitRequests(t, hook, 1, 10*time.Second)
	var notes, receivers string
	for deadline := time.Now().Add(5 * time.Second); ; {
		b.run(t, "open notifications", chromedp.Navigate(s.URL+"/console/notifications"), chromedp.WaitVisible(css("table.receivers")))
		notes = value(t, b, "notifications", chromedp.Text(css("main")))
		receivers = value(t, b, "receivers", chromedp.Text(css("table.receivers")))
		if strings.Contains(receivers, "✓ delivered") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"security-alerts", "✓ confirmed", "! pending confirmation", "oncall@example.com", "✓ delivered", "SubscriptionConfirmation", "receiver siem"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notifications lack %q", want)
		}
	}
	for _, want := range []string{"siem", "webhook", "http://127.0.0.1/****", "****b1a0", hookEP, "✓ confirmed arn:aws:sns:" + testRegion + ":" + testAccount + ":security-alerts", "✓ delivered"} {
		if !strings.Contains(receivers, want) {
			t.Errorf("the receivers table lacks %q:\n%s", want, receivers)
		}
	}
	for _, secret := range []string{hookSecret, hookSecret[:len(hookSecret)-4], hookPath, "siem-token"} {
		if strings.Contains(notes, secret) {
			t.Errorf("the notifications page shows the receiver's secret %q", secret)
		}
	}
	b.axeCheck(t, "notifications", axe)
	b.screenshot(t, "console-notifications.png")
	b.run(t, "open sources", chromedp.Navigate(s.URL+"/console/sources"), chromedp.WaitVisible(css("h1")))
	if src := value(t, b, "sources", chromedp.Text(css("main"))); !strings.Contains(src, "EventBridge") || !strings.Contains(src, "/ingest/eventbridge") || strings.Contains(src, "(never)") {
		t.Errorf("sources page does not show the EventBridge endpoint's delivery:\n%s", src)
	}
	b.axeCheck(t, "sources", axe)
	b.screenshot(t, "console-sources.png")

	// Logout ends the session: the board leads to the login form again.
	b.run(t, "log out", chromedp.Click(css("form.logout button")), chromedp.WaitVisible(css("#akid")),
		chromedp.Navigate(s.URL+"/console/board"), chromedp.WaitVisible(css("#akid")))
	if loc := value(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/console/login") {
		t.Errorf("after logout the board went to %s", loc)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.offsite) > 0 {
		t.Errorf("requests left the console's origin: %q", b.offsite)
	}
	for _, p := range b.problems {
		t.Errorf("page problem: %s", p)
	}
}
