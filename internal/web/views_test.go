package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// TestViewsWithData drives every view over real services after a root login: the board row with
// its evidence and notification, the alarm detail and its graph data, the evidence page, the
// coverage matrix, the notifications and sources pages.
func TestViewsWithData(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	ctx := context.Background()
	c := r.client()
	r.login(c)
	// A second source account in another stream, an hour ago, and one subscription pending.
	must(t, r.logs.CreateLogStream(ctx, logs.Scope(home), group, "444455556666_CloudTrail_eu-west-1"))
	_, err := r.logs.PutLogEvents(ctx, logs.Scope(home), logs.PutLogEventsInput{LogGroupName: group, LogStreamName: "444455556666_CloudTrail_eu-west-1",
		LogEvents: []logs.InputLogEvent{{Timestamp: r.clock.now().Add(-time.Hour).UnixMilli(), Message: `{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"IAMUser"},"recipientAccountId":"444455556666"}`}}})
	must(t, err)
	topic := "arn:aws:sns:us-east-1:111122223333:security-alerts"
	_, err = r.sns.Subscribe(ctx, sns.Scope(home), sns.SubscribeInput{TopicARN: topic, Protocol: "https", Endpoint: "https://hooks.example.com/x?token=SECRET"})
	must(t, err)
	_, err = r.trails.Create(ctx, trail.Scope(home), trail.Trail{Name: "main", S3BucketName: "ct-bucket", CloudWatchLogsLogGroupArn: logs.LogGroupARN(logs.Scope(home), group)})
	must(t, err)

	r.put(rootLogin(r.clock.now(), "203.0.113.7", "Mozilla/5.0"))
	// The alarm scheduler is not running in this rig: the state change is set as the evaluation
	// would set it.
	must(t, r.alarms.SetAlarmState(ctx, alarm.Scope(home), "RootAccountUsage", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0)."}))

	code, body := r.get(c, "/console/board")
	for _, want := range []string{"RootAccountUsage", "arn:aws:iam::111122223333:root", "203.0.113.7", "ConsoleLogin", "/console/evidence?", "/console/alarms/111122223333/us-east-1/RootAccountUsage"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("board (%d) lacks %q", code, want)
		}
	}
	if code, body := r.get(c, "/console/board?state=OK"); code != 200 || strings.Contains(body, `href="/console/alarms/`) {
		t.Errorf("board filtered to OK shows the ALARM alarm (%d)", code)
	}
	if code, body := r.get(c, "/console/board?fragment=rows"); code != 200 || strings.Contains(body, "<html") || !strings.Contains(body, "203.0.113.7") {
		t.Errorf("board fragment: %d", code)
	}

	code, body = r.get(c, AlarmPath(testAccount, testRegion, "RootAccountUsage"))
	for _, want := range []string{"Threshold Crossed", "1 out of 1", "notBreaching", "GreaterThanOrEqualToThreshold", topic, "Alarm updated from INSUFFICIENT_DATA to ALARM", "graph.json?hours=3"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("alarm detail (%d) lacks %q", code, want)
		}
	}
	if code, _ := r.get(c, AlarmPath(testAccount, testRegion, "NoSuchAlarm")); code != http.StatusNotFound {
		t.Errorf("unknown alarm: %d, want 404", code)
	}
	code, body = r.get(c, AlarmPath(testAccount, testRegion, "RootAccountUsage")+"/graph.json?hours=1")
	var g graphData
	if code != 200 || json.Unmarshal([]byte(body), &g) != nil {
		t.Fatalf("graph.json: %d %s", code, body)
	}
	points := 0
	for _, v := range g.Values {
		if v != nil {
			points++
			if *v != 1 {
				t.Errorf("graph value %v, want 1", *v)
			}
		}
	}
	if len(g.Times) != 60 || points != 1 || g.Threshold == nil || *g.Threshold != 1 || len(g.States) == 0 || g.States[len(g.States)-1].State != "ALARM" || !strings.Contains(g.Summary, "1 minutes with data") {
		t.Errorf("graph = %d times, %d points, states %v, summary %q", len(g.Times), points, g.States, g.Summary)
	}

	ev := &evidence{Scope: home, LogGroupName: group, LogStreamName: stream, Timestamp: r.clock.now().UnixMilli()}
	code, body = r.get(c, ev.URL())
	for _, want := range []string{"RootAccountUsage", "<mark>$.userIdentity.type</mark>", "$.userIdentity.invokedBy", "(absent)", "203.0.113.7", "CloudTrailMetrics / RootAccountUsage"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("evidence (%d) lacks %q", code, want)
		}
	}

	code, body = r.get(c, "/console/coverage")
	for _, want := range []string{"111122223333", "444455556666", "eu-west-1", "CIS root-usage pattern, exactly", "alarm RootAccountUsage with ALARM and OK actions", "pending confirmation", "newest event 1h ago"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("coverage (%d) lacks %q", code, want)
		}
	}

	code, body = r.get(c, "/console/notifications")
	for _, want := range []string{topic, "pending confirmation", "https://hooks.example.com/x?…", "SubscriptionConfirmation"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("notifications (%d) lacks %q", code, want)
		}
	}
	if strings.Contains(body, "SECRET") {
		t.Error("notifications show an endpoint's query string")
	}

	code, body = r.get(c, "/console/sources")
	for _, want := range []string{"main", "S3 polling", "ct-bucket", "stopped", "EventBridge", "/ingest/eventbridge"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("sources (%d) lacks %q", code, want)
		}
	}
}

// TestCoverageChecks checks the cell logic: a filter with the CIS text, one with the same meaning,
// none; and the alarm and notification checks that follow.
func TestCoverageChecks(t *testing.T) {
	mf := func(p string) logs.MetricFilter {
		return logs.MetricFilter{FilterName: "f", FilterPattern: p, Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n"}}
	}
	for _, tc := range []struct {
		filters []logs.MetricFilter
		want    string
	}{
		{[]logs.MetricFilter{mf(cisRoot)}, checkOK},
		{[]logs.MetricFilter{mf(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`)}, checkWarn},
		{[]logs.MetricFilter{mf(`{ $.userIdentity.type = "Root" }`)}, checkFail},
		{nil, checkFail},
	} {
		got, _ := filterCheck(tc.filters)
		if got.Status != tc.want {
			t.Errorf("filterCheck(%v) = %v, want %s", tc.filters, got, tc.want)
		}
	}
	disabled := mf(cisRoot)
	disabled.Status = &logs.FilterStatus{State: logs.FilterStateDisabled, Reason: "too many dimensions"}
	if got, f := filterCheck([]logs.MetricFilter{disabled}); got.Status != checkFail || f != nil || !strings.Contains(got.Text, "DISABLED") {
		t.Errorf("a disabled CIS filter = %v", got)
	}
}

// TestWorkbench checks testing against pasted lines and stored events, the 7-day count, a bad
// pattern's error, and creating the filter.
func TestWorkbench(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	r.login(c)
	r.put(rootLogin(r.clock.now(), "203.0.113.7", "ua"))
	r.put(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"IAMUser"}}`)
	post := func(path string, form url.Values) (int, string) {
		resp := r.do(c, "POST", path, form, "same-origin")
		return resp.StatusCode, readBody(t, resp)
	}
	code, body := post("/console/workbench", url.Values{"pattern": {`[ip, user, status = 404]`}, "lines": {"127.0.0.1 bob 404\n10.0.0.1 amy 200"}})
	if code != 200 || !strings.Contains(body, "1 of 2 events of the pasted lines match") || !strings.Contains(body, "$ip = 127.0.0.1; $status = 404; $user = bob") {
		t.Errorf("pasted lines: %d\n%s", code, body)
	}
	code, body = post("/console/workbench", url.Values{"pattern": {cisRoot}, "account": {testAccount}, "region": {testRegion}, "group": {group}})
	if code != 200 || !strings.Contains(body, "1 of 2 events of the newest stored events of "+group+" (stream "+stream+") match") || !strings.Contains(body, "In the last 7 days 1 stored events") {
		t.Errorf("stored events: %d\n%s", code, body)
	}
	code, body = post("/console/workbench", url.Values{"pattern": {`{ $.x = `}, "lines": {"a"}})
	if code != 200 || !strings.Contains(body, `class="error"`) {
		t.Errorf("bad pattern: %d", code)
	}
	code, body = post("/console/workbench/create", url.Values{"pattern": {`{ $.eventName = "ListBuckets" }`}, "account": {testAccount}, "region": {testRegion}, "group": {group},
		"filter_name": {"Lists"}, "namespace": {"Ops"}, "metric_name": {"ListCalls"}, "metric_value": {"1"}})
	if code != 200 || !strings.Contains(body, "now publishes Ops / ListCalls") {
		t.Errorf("create: %d", code)
	}
	fs, err := r.logs.DescribeMetricFilters(context.Background(), logs.Scope(home), logs.DescribeMetricFiltersInput{LogGroupName: group, FilterNamePrefix: "Lists"})
	must(t, err)
	if len(fs.MetricFilters) != 1 || fs.MetricFilters[0].FilterPattern != `{ $.eventName = "ListBuckets" }` {
		t.Errorf("created filters = %+v", fs.MetricFilters)
	}
	code, body = post("/console/workbench/create", url.Values{"pattern": {`{ $.x = 1 }`}, "account": {testAccount}, "region": {testRegion}, "group": {"missing"},
		"filter_name": {"X"}, "namespace": {"Ops"}, "metric_name": {"X"}, "metric_value": {"1"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "does not exist") {
		t.Errorf("create on a missing group: %d", code)
	}
}

// TestFeedStream checks the event feed's server-sent events: an event matched after the stream
// opened arrives as a "match" event with its fields, and unmatched events never do.
func TestFeedStream(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	r.login(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.srv.URL+"/console/feed/stream", nil)
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r.put(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"IAMUser"}}`)
	r.put(rootLogin(r.clock.now(), "198.51.100.1", "curl"))
	sc := bufio.NewScanner(resp.Body)
	var event string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == "match" {
			var j feedJSON
			must(t, json.Unmarshal([]byte(v), &j))
			if j.EventName != "ConsoleLogin" || j.SourceIP != "198.51.100.1" || j.Identity != "Root" || j.MFA != "No" || fmt.Sprint(j.Filters) != "[RootAccountUsage]" || !strings.HasPrefix(j.URL, "/console/evidence?") {
				t.Errorf("feed event = %+v", j)
			}
			return
		}
	}
	t.Fatalf("no match event: %v", sc.Err())
}

// TestBoardStream checks that the board's stream sends "changed" when an alarm changes state.
func TestBoardStream(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	r.login(c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.srv.URL+"/console/board/stream", nil)
	resp, err := c.Do(req)
	must(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	changes := 0
	for sc.Scan() {
		if sc.Text() != "event: changed" {
			continue
		}
		changes++
		if changes == 1 { // the state when the stream opened
			r.clock.advance(time.Second)
			must(t, r.alarms.SetAlarmState(context.Background(), alarm.Scope(home), "RootAccountUsage", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "x"}))
			continue
		}
		return
	}
	t.Fatalf("no change event after the transition: %v", sc.Err())
}

// TestCloseEndsStreams checks that Close ends open event streams, so that a server's graceful
// shutdown does not wait for open browser tabs, and that a stream opened afterwards ends at once.
func TestCloseEndsStreams(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	r.login(c)
	paths := []string{"/console/board/stream", "/console/feed/stream"}
	ended := make(chan string, len(paths))
	for _, path := range paths {
		resp := r.do(c, "GET", path, nil, "same-origin")
		go func() {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ended <- path
		}()
	}
	select {
	case p := <-ended:
		t.Fatalf("%s ended before Close", p)
	case <-time.After(300 * time.Millisecond):
	}
	r.console.Close()
	for range paths {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatal("a stream is still open after Close")
		}
	}
	resp := r.do(c, "GET", "/console/feed/stream", nil, "same-origin")
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Errorf("feed stream after Close: %v", err)
	}
	resp.Body.Close()
}

// TestAlarmPathEscapes checks the alarm URL contract with a name holding a slash, a space, a
// percent sign, markup and non-ASCII: the link from the board opens that alarm.
func TestAlarmPathEscapes(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	r.login(c)
	name := `ops/root login 100% <b>é</b>`
	p, n, th := int32(60), int32(1), 1.0
	must(t, r.alarms.PutMetricAlarm(context.Background(), alarm.Scope(home), alarm.MetricAlarm{AlarmName: name, ActionsEnabled: true,
		MetricName: "M", Namespace: "N", Statistic: alarm.StatSum, Period: &p, EvaluationPeriods: &n, Threshold: &th,
		ComparisonOperator: alarm.GreaterThanOrEqualToThreshold}, nil))
	path := AlarmPath(testAccount, testRegion, name)
	if want := "/console/alarms/111122223333/us-east-1/ops%2Froot%20login%20100%25%20%3Cb%3E%C3%A9%3C%2Fb%3E"; path != want {
		t.Errorf("AlarmPath = %s, want %s", path, want)
	}
	code, body := r.get(c, path)
	if code != http.StatusOK || !strings.Contains(body, "ops/root login 100% &lt;b&gt;é&lt;/b&gt;") {
		t.Errorf("GET %s: %d", path, code)
	}
	if code, _ := r.get(c, path+"/graph.json"); code != http.StatusOK {
		t.Errorf("graph of %q: %d", name, code)
	}
	if _, body := r.get(c, "/console/board?state=any"); !strings.Contains(body, `href="`+path+`"`) {
		t.Errorf("the board does not link %s", path)
	}
}

// TestFeedLazyAndPrimed checks the feed's lazy matching: events stored while nobody looks are
// left to the store and shown by the next look (a restart does not empty the feed either), events
// stored while the page is watched arrive through OnStored, an event both primed and reported is
// listed once, and unmatched events never show.
func TestFeedLazyAndPrimed(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	r.login(c)
	r.put(rootLogin(r.clock.now(), "198.51.100.7", "ua"))
	r.put(`{"eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{"type":"IAMUser"}}`)
	if evs, _, _ := r.console.feed.snapshot(); len(evs) != 0 || !r.console.feed.stale.Load() {
		t.Fatalf("nobody looking, the feed matched %d events", len(evs))
	}
	if _, body := r.get(c, "/console/feed"); !strings.Contains(body, "198.51.100.7") || strings.Contains(body, "ListBuckets") {
		t.Errorf("the first look does not show the stored match (or shows an unmatched event)")
	}
	// Watched: a new event arrives through OnStored and the matching goroutine.
	r.clock.advance(time.Second)
	r.put(rootLogin(r.clock.now(), "198.51.100.8", "ua"))
	waitFeed(t, r, 2)
	// The same stored event reported again is not listed twice.
	evs, _, _ := r.console.feed.snapshot()
	r.console.OnStored(logs.StoredBatch{Scope: logs.Scope(home), LogGroupName: group, LogStreamName: stream, IngestionTime: evs[0].IngestionTime,
		Events: []logs.InputLogEvent{{Timestamp: evs[0].Timestamp, Message: rootLogin(r.clock.now(), "198.51.100.8", "ua")}}})
	r.clock.advance(time.Second)
	r.put(rootLogin(r.clock.now(), "198.51.100.9", "ua"))
	waitFeed(t, r, 3)
	if evs, _, _ := r.console.feed.snapshot(); len(evs) != 3 {
		t.Errorf("feed holds %d events, want 3", len(evs))
	}
	// Unwatched again: the event is left alone until the next look.
	r.clock.advance(feedIdle + time.Second)
	r.put(rootLogin(r.clock.now(), "198.51.100.10", "ua"))
	if evs, _, _ := r.console.feed.snapshot(); len(evs) != 3 {
		t.Errorf("unwatched, the feed matched a new event")
	}
	_, body := r.get(c, "/console/feed")
	if !strings.Contains(body, "198.51.100.10") || strings.Count(body, "198.51.100.8<") != 1 {
		t.Errorf("the next look does not show the event stored meanwhile exactly once")
	}
}
