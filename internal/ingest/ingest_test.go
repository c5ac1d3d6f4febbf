package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const cisRoot = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

var testScope = logs.Scope{AccountID: "111122223333", Region: "us-east-1"}

// env is a logs service over a real database with the CIS root filter on log group "ct".
type env struct {
	db   *sqlite.DB
	logs *logs.Service
	sink *Sink
	dest Destination
}

func newEnv(t testing.TB, now func() time.Time) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := logs.NewService(db, now)
	if err := l.CreateLogGroup(ctx, testScope, logs.CreateLogGroupInput{LogGroupName: "ct"}); err != nil {
		t.Fatal(err)
	}
	if err := l.PutMetricFilter(ctx, testScope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: "root", FilterPattern: cisRoot,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, logs: l, sink: NewSink(l, now), dest: Destination{Scope: testScope, LogGroup: "ct"}}
}

func (e *env) rootSum(t testing.TB) float64 {
	t.Helper()
	aggs, err := e.db.QueryAggregates(context.Background(), metrics.Scope(testScope),
		metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}, time.Unix(0, 0), time.Now().Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, a := range aggs {
		sum += a.Sum
	}
	return sum
}

func (e *env) eventCount(t testing.TB) int {
	t.Helper()
	n := 0
	err := e.db.ScanEvents(context.Background(), testScope, logs.EventQuery{LogGroupName: "ct"}, func(logs.Event) bool { n++; return true })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func rec(acct, region string, ts time.Time, size int) cloudtrail.Record {
	return cloudtrail.Record{Raw: bytes.Repeat([]byte("x"), size), Time: ts, AccountID: acct, Region: region}
}

func TestBatches(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var recs []cloudtrail.Record
	for i := range 25000 {
		recs = append(recs, rec("1", "us-east-1", t0.Add(time.Duration(25000-i)*time.Millisecond), 10))
	}
	recs = append(recs, rec("2", "us-east-1", t0, 10), rec("1", "eu-west-1", t0, 10))
	// 1,100 records of 1,000 bytes: more than 1 MiB, cut by size.
	for range 1100 {
		recs = append(recs, rec("3", "r", t0, 1000))
	}
	// Two days apart: cut by span.
	recs = append(recs, rec("4", "r", t0, 1), rec("4", "r", t0.Add(25*time.Hour), 1))
	batches := Batches(recs)
	var sizes []string
	for _, b := range batches {
		bytes := 0
		for i, r := range b {
			bytes += len(r.Raw) + EventOverhead
			if r.StreamName() != b[0].StreamName() || (i > 0 && r.Time.Before(b[i-1].Time)) {
				t.Fatalf("batch mixes streams or is out of order")
			}
		}
		if len(b) > MaxBatchEvents || bytes > MaxBatchBytes || b[len(b)-1].Time.Sub(b[0].Time) > MaxBatchSpan {
			t.Fatalf("batch over limits: %d events, %d bytes", len(b), bytes)
		}
		sizes = append(sizes, fmt.Sprintf("%s:%d", b[0].StreamName(), len(b)))
	}
	want := "1_CloudTrail_eu-west-1:1 1_CloudTrail_us-east-1:10000 1_CloudTrail_us-east-1:10000 1_CloudTrail_us-east-1:5000 2_CloudTrail_us-east-1:1 3_CloudTrail_r:1022 3_CloudTrail_r:78 4_CloudTrail_r:1 4_CloudTrail_r:1"
	if got := strings.Join(sizes, " "); got != want {
		t.Fatalf("batches\n got %s\nwant %s", got, want)
	}
}

// rootLogin is the AWS documentation's root console sign-in record, with a fresh time and id.
func rootLogin(ts time.Time, id string) string {
	return fmt.Sprintf(`{"eventVersion":"1.05","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":""},"eventTime":"%s","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.0","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"},"eventID":"%s","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
		ts.UTC().Format(time.RFC3339), id)
}

// eventBridgeEvent is an event as an EventBridge API destination POSTs it (no input transformer).
func eventBridgeEvent(detail string) string {
	return `{"version":"0","id":"0d0e7a3e-b8c4-4c5c-8d5e-6a4f6e3c5b8a","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333","time":"2026-11-25T20:10:04Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
}

func TestEventBridgeHandler(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, func() time.Time { return now })
	h := &EventBridgeHandler{Sink: e.sink, Dest: e.dest, HeaderName: "x-trailwatch-key", APIKey: "s3cret"}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(key, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if key != "" {
			req.Header.Set("X-Trailwatch-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	good := eventBridgeEvent(rootLogin(now.Add(-time.Minute), "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0"))
	tests := []struct {
		name, key, body string
		status          int
		events          int
		sum             float64
	}{
		{"no key", "", good, 401, 0, 0},
		{"wrong key", "s3cret!", good, 401, 0, 0},
		{"not JSON", "s3cret", `{"detail-type":`, 400, 0, 0},
		{"not CloudTrail", "s3cret", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"state":"running"}}`, 400, 0, 0},
		{"detail without eventTime", "s3cret", eventBridgeEvent(`{"eventID":"x"}`), 400, 0, 0},
		{"root sign-in", "s3cret", good, 200, 1, 1},
		{"same event again", "s3cret", good, 200, 1, 1},
		{"array of two", "s3cret", "[" + eventBridgeEvent(rootLogin(now, "a")) + "," + eventBridgeEvent(rootLogin(now, "b")) + "]", 200, 3, 3},
	}
	for _, tt := range tests {
		status, body := post(tt.key, tt.body)
		if status != tt.status {
			t.Fatalf("%s: status %d (%s), want %d", tt.name, status, body, tt.status)
		}
		if n, s := e.eventCount(t), e.rootSum(t); n != tt.events || s != tt.sum {
			t.Fatalf("%s: %d events, root sum %v; want %d, %v", tt.name, n, s, tt.events, tt.sum)
		}
	}
	// The stored message is the detail's bytes exactly; the stream is CloudTrail's.
	var got []logs.Event
	e.db.ScanEvents(context.Background(), testScope, logs.EventQuery{LogGroupName: "ct"}, func(ev logs.Event) bool { got = append(got, ev); return true })
	if got[0].Message != rootLogin(now.Add(-time.Minute), "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0") || got[0].Timestamp != now.Add(-time.Minute).UnixMilli() {
		t.Fatalf("stored %+v", got[0])
	}
	if st, err := e.db.GetLogStream(context.Background(), testScope, "ct", "111122223333_CloudTrail_us-east-1"); err != nil || st.StoredBytes == 0 {
		t.Fatalf("stream: %+v %v", st, err)
	}
	if status, _ := post("s3cret", strings.Repeat(" ", 2<<20)); status != 413 {
		t.Fatalf("oversized body: %d", status)
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// firehoseBody is a Firehose HTTP endpoint delivery of CloudWatch Logs subscription payloads.
func firehoseBody(reqID string, messages ...[]string) string {
	var recs []map[string]string
	for i, msgs := range messages {
		var evs []map[string]any
		for j, m := range msgs {
			evs = append(evs, map[string]any{"id": fmt.Sprint(i, j), "timestamp": 1, "message": m})
		}
		p, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "aws-cloudtrail-logs",
			"logStream": "111122223333_CloudTrail_us-east-1", "subscriptionFilters": []string{"to-trailwatch"}, "logEvents": evs})
		recs = append(recs, map[string]string{"data": base64.StdEncoding.EncodeToString(gzipped(p))})
	}
	b, _ := json.Marshal(map[string]any{"requestId": reqID, "timestamp": 1764101404000, "records": recs})
	return string(b)
}

func TestFirehoseHandler(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, func() time.Time { return now })
	h := &FirehoseHandler{Sink: e.sink, Dest: e.dest, AccessKey: "fh-key", Now: func() time.Time { return now }}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(key, reqID, body string) (int, firehoseResponse) {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Firehose-Protocol-Version", "1.0")
		req.Header.Set("X-Amz-Firehose-Request-Id", reqID)
		req.Header.Set("X-Amz-Firehose-Source-Arn", "arn:aws:firehose:us-east-1:111122223333:deliverystream/ct")
		if key != "" {
			req.Header.Set("X-Amz-Firehose-Access-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q", ct)
		}
		var r firehoseResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, r
	}
	t1, t2 := now.Add(-2*time.Minute), now.Add(-time.Minute)
	body := firehoseBody("req-1", []string{rootLogin(t1, "e1"), rootLogin(t2, "e2")}, []string{rootLogin(t2, "e3")})
	tests := []struct {
		name, key, reqID, body string
		status                 int
		events                 int
	}{
		{"no key", "", "r0", body, 401, 0},
		{"wrong key", "nope", "r0", body, 401, 0},
		{"malformed", "fh-key", "r0", `{"requestId":"r0","records":[{"data":"%%%"}]}`, 400, 0},
		{"not JSON", "fh-key", "r0", `records`, 400, 0},
		{"delivery", "fh-key", "req-1", body, 200, 3},
		{"retried delivery", "fh-key", "req-1", body, 200, 3},
		{"control message", "fh-key", "req-2", `{"requestId":"req-2","timestamp":1,"records":[{"data":"` + base64.StdEncoding.EncodeToString(gzipped([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`))) + `"}]}`, 200, 3},
	}
	for _, tt := range tests {
		status, r := post(tt.key, tt.reqID, tt.body)
		if status != tt.status || r.RequestID != tt.reqID || r.Timestamp != now.UnixMilli() || (status == 200) != (r.ErrorMessage == "") {
			t.Fatalf("%s: %d %+v", tt.name, status, r)
		}
		if n := e.eventCount(t); n != tt.events {
			t.Fatalf("%s: %d events, want %d", tt.name, n, tt.events)
		}
	}
	if s := e.rootSum(t); s != 3 {
		t.Fatalf("root sum %v", s)
	}
	// "Content encoding: GZIP" on the destination compresses the request body.
	req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(gzipped([]byte(firehoseBody("req-3", []string{rootLogin(t2, "e4")})))))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Amz-Firehose-Request-Id", "req-3")
	req.Header.Set("X-Amz-Firehose-Access-Key", "fh-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.eventCount(t) != 4 {
		t.Fatalf("gzip request: %d, %d events", resp.StatusCode, e.eventCount(t))
	}
}

func TestParseNotification(t *testing.T) {
	s3event := `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"ct-bucket"},"object":{"key":"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a+b%3Dc.json.gz","size":100}}}]}`
	sns, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": s3event})
	tests := []struct {
		name, body string
		want       []ObjectRef
		err        bool
	}{
		{"s3 event", s3event, []ObjectRef{{"ct-bucket", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a b=c.json.gz"}}, false},
		{"via sns", string(sns), []ObjectRef{{"ct-bucket", "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a b=c.json.gz"}}, false},
		{"cloudtrail sns", `{"s3Bucket":"b","s3ObjectKey":["k1","k2"]}`, []ObjectRef{{"b", "k1"}, {"b", "k2"}}, false},
		{"test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T20:10:04.000Z","Bucket":"b"}`, nil, false},
		{"delete event", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, nil, false},
		{"garbage", `hello`, nil, true},
		{"other json", `{"a":1}`, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseNotification(tt.body)
		if (err != nil) != tt.err || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v %v, want %v", tt.name, got, err, tt.want)
		}
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k%20"}}}]}`)
	f.Add(`{"Type":"Notification","Message":"{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"k\"]}"}`)
	f.Fuzz(func(t *testing.T, body string) {
		refs, err := ParseNotification(body)
		if err != nil && refs != nil {
			t.Fatalf("refs with an error")
		}
	})
}
