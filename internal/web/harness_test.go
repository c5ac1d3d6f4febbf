package web

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/trail"
)

const (
	testKeyID   = "AKIDCONSOLETEST00001"
	testSecret  = "console/test/secret"
	testAccount = "111122223333"
	testRegion  = "us-east-1"
	group       = "CloudTrail/DefaultLogGroup"
	stream      = "111122223333_CloudTrail_us-east-1"
)

var home = Scope{AccountID: testAccount, Region: testRegion}

// clock is a settable clock shared by the services and the console.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fakeHealth struct{}

func (fakeHealth) Endpoints() []Endpoint {
	return []Endpoint{{Name: "EventBridge", Path: "/ingest/eventbridge", LogGroup: group}}
}
func (fakeHealth) Outbox(context.Context) (Outbox, error) { return Outbox{}, nil }

// rig is a console over real services: SQLite for logs, metrics, alarms' metrics, SNS's outbox and
// trails; the alarm service over its in-memory conformance store.
type rig struct {
	t       *testing.T
	clock   *clock
	db      *sqlite.DB
	logs    *logs.Service
	metrics *metrics.Service
	alarms  *alarm.Service
	sns     *sns.Service
	trails  *trail.Service
	// receivers is the receiver service over its in-memory conformance store, with SQLite's
	// outbox; its public URL is the SNS service's.
	receivers *receiver.Service
	console   *Console
	srv       *httptest.Server
}

func newRig(t *testing.T, mod func(*Options)) *rig {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now().UTC()}
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{t: t, clock: clk, db: db}
	r.metrics = metrics.NewService(db, clk.now)
	r.logs = logs.NewService(db, clk.now)
	r.alarms, err = alarm.NewService(ctx, db, r.metrics, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	r.logs.OnSamples = r.alarms.OnSamples
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	r.sns = sns.NewService(db, sns.NewSigner(key, "http://127.0.0.1/cert.pem"), "http://127.0.0.1", clk.now)
	r.trails = trail.NewService(db, clk.now)
	r.receivers = receiver.NewService(receivertest.NewMemory(), db, testAccount, "http://127.0.0.1", clk.now)
	opts := Options{
		Alarms: r.alarms, Metrics: r.metrics, Logs: r.logs, Topics: r.sns, Deliveries: db, Receivers: r.receivers, Trails: r.trails, Health: fakeHealth{},
		Scopes: func(ctx context.Context) ([]Scope, error) {
			scs, err := db.Scopes(ctx)
			out := make([]Scope, len(scs))
			for i, s := range scs {
				out[i] = Scope(s)
			}
			return out, err
		},
		Home:         home,
		Authenticate: func(id, secret string) bool { return id == testKeyID && secret == testSecret },
		Now:          clk.now,
	}
	if mod != nil {
		mod(&opts)
	}
	r.console, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.logs.OnStored = r.console.OnStored
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.console.Run(fctx); close(done) }()
	mux := http.NewServeMux()
	mux.Handle(Prefix, r.console.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() { r.srv.Close(); cancel(); <-done })
	return r
}

// client is a browser-like client: a cookie jar, no redirects followed, and the Sec-Fetch-Site
// header a browser sends for same-origin requests.
func (r *rig) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (r *rig) do(c *http.Client, method, path string, form url.Values, site string) *http.Response {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, r.srv.URL+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := c.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login logs c in and fails the test otherwise.
func (r *rig) login(c *http.Client) {
	r.t.Helper()
	resp := r.do(c, "POST", "/console/login", url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}, "next": {"/console/board"}}, "same-origin")
	readBody(r.t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/board" {
		r.t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// get fetches a page with c and returns status and body.
func (r *rig) get(c *http.Client, path string) (int, string) {
	r.t.Helper()
	resp := r.do(c, "GET", path, nil, "same-origin")
	return resp.StatusCode, readBody(r.t, resp)
}

// seed builds the root-login chain: a CloudTrail group and stream, the CIS filter, a topic, and an
// alarm on the filter's metric with ALARM and OK actions.
func (r *rig) seed() {
	r.t.Helper()
	ctx := context.Background()
	sc := logs.Scope(home)
	must(r.t, r.logs.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: group}))
	must(r.t, r.logs.CreateLogStream(ctx, sc, group, stream))
	must(r.t, r.logs.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: group, FilterName: "RootAccountUsage", FilterPattern: cisRoot,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}))
	topic, err := r.sns.CreateTopic(ctx, sns.Scope(home), "security-alerts", nil, nil)
	must(r.t, err)
	p, n, th := int32(60), int32(1), 1.0
	must(r.t, r.alarms.PutMetricAlarm(ctx, alarm.Scope(home), alarm.MetricAlarm{AlarmName: "RootAccountUsage", ActionsEnabled: true,
		AlarmActions: []string{topic}, OKActions: []string{topic}, MetricName: "RootAccountUsage", Namespace: "CloudTrailMetrics",
		Statistic: alarm.StatSum, Period: &p, EvaluationPeriods: &n, Threshold: &th, ComparisonOperator: alarm.GreaterThanOrEqualToThreshold,
		TreatMissingData: alarm.TreatNotBreaching}, nil))
}

// put stores one event in the seeded stream.
func (r *rig) put(msg string) {
	r.t.Helper()
	_, err := r.logs.PutLogEvents(context.Background(), logs.Scope(home), logs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream,
		LogEvents: []logs.InputLogEvent{{Timestamp: r.clock.now().UnixMilli(), Message: msg}}})
	must(r.t, err)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rootLogin is a root console sign-in as CloudTrail records it, with the given source IP and
// user agent.
func rootLogin(at time.Time, ip, ua string) string {
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
		`"eventTime":"` + at.UTC().Format(time.RFC3339) + `","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"` + ip + `","userAgent":"` + ua + `","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},` +
		`"eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333","eventID":"` + ip + `"}`
}
