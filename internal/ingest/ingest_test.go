package ingest

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
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

// checkBatches fails t unless batches tile recs (as Batches left them) in order, each record in
// exactly one batch, and every batch holds one stream in time order within PutLogEvents' limits.
func checkBatches(t testing.TB, recs []cloudtrail.Record, batches [][]cloudtrail.Record) {
	t.Helper()
	pos := 0
	for _, b := range batches {
		if len(b) == 0 || pos+len(b) > len(recs) || &b[0] != &recs[pos] {
			t.Fatalf("batch at record %d of %d does not continue the input", pos, len(recs))
		}
		pos += len(b)
		bytes := 0
		for i, r := range b {
			bytes += len(r.Raw) + EventOverhead
			if r.AccountID != b[0].AccountID || r.Region != b[0].Region || (i > 0 && r.Time.Before(b[i-1].Time)) {
				t.Fatalf("batch mixes streams or is out of order")
			}
		}
		if len(b) > MaxBatchEvents || bytes > MaxBatchBytes || b[len(b)-1].Time.Sub(b[0].Time) > MaxBatchSpan {
			t.Fatalf("batch over limits: %d events, %d bytes, %v", len(b), bytes, b[len(b)-1].Time.Sub(b[0].Time))
		}
	}
	if pos != len(recs) {
		t.Fatalf("batches hold %d of %d records", pos, len(recs))
	}
}

// sized returns one stream's records of the given message sizes, a millisecond apart.
func sized(t0 time.Time, sizes ...int) []cloudtrail.Record {
	recs := make([]cloudtrail.Record, len(sizes))
	for i, n := range sizes {
		recs[i] = rec("3", "r", t0.Add(time.Duration(i)*time.Millisecond), n)
	}
	return recs
}

// repeated is n copies of size, for sized.
func repeated(n, size int) []int {
	return slices.Repeat([]int{size}, n)
}

func TestBatches(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var mixed []cloudtrail.Record
	for i := range 25000 {
		mixed = append(mixed, rec("1", "us-east-1", t0.Add(time.Duration(25000-i)*time.Millisecond), 10))
	}
	mixed = append(mixed, rec("2", "us-east-1", t0, 10), rec("1", "eu-west-1", t0, 10))
	// 1,100 records of 1,000 bytes: 1,128,600 bytes with the overhead, two batches of 550.
	for range 1100 {
		mixed = append(mixed, rec("3", "r", t0, 1000))
	}
	// Two days apart: cut by span.
	mixed = append(mixed, rec("4", "r", t0, 1), rec("4", "r", t0.Add(25*time.Hour), 1))

	tests := []struct {
		name string
		recs []cloudtrail.Record
		want string // stream:events of each batch
	}{
		{"streams, events, bytes and span", mixed,
			"1_CloudTrail_eu-west-1:1 1_CloudTrail_us-east-1:8334 1_CloudTrail_us-east-1:8334 1_CloudTrail_us-east-1:8332 2_CloudTrail_us-east-1:1 3_CloudTrail_r:550 3_CloudTrail_r:550 4_CloudTrail_r:1 4_CloudTrail_r:1"},
		{"none", nil, ""},
		// 1,022 records of 1,026 bytes with the overhead are 1,048,572 bytes: one batch.
		{"just under MaxBatchBytes", sized(t0, repeated(1022, 1000)...), "3_CloudTrail_r:1022"},
		{"exactly MaxBatchBytes", sized(t0, repeated(1024, 1024-EventOverhead)...), "3_CloudTrail_r:1024"},
		// 1,023 are 1,049,598 bytes: shares of 524,799 bytes, reached by the 512th record. Greedy
		// cutting made 1,022 and 1.
		{"just over MaxBatchBytes", sized(t0, repeated(1023, 1000)...), "3_CloudTrail_r:512 3_CloudTrail_r:511"},
		// The S3 object of the doc comment: 1,326,000 bytes, greedily 790 and 210.
		{"1,000 CloudTrail records", sized(t0, repeated(1000, 1300)...), "3_CloudTrail_r:500 3_CloudTrail_r:500"},
		{"exactly MaxBatchEvents", sized(t0, repeated(10000, 10)...), "3_CloudTrail_r:10000"},
		{"just over MaxBatchEvents", sized(t0, repeated(10001, 10)...), "3_CloudTrail_r:5001 3_CloudTrail_r:5000"},
		{"twice MaxBatchEvents and one", sized(t0, repeated(20001, 10)...), "3_CloudTrail_r:6667 3_CloudTrail_r:6667 3_CloudTrail_r:6667"},
		// Bytes set k = 2 (1,276,000 bytes, 1,000 events), so only bytes are shared: 500 small
		// records (263,000 bytes) and 186 large ones reach 638,000. Sharing events too would close
		// the first batch at 500 records and 263,000 bytes.
		{"small then large records", sized(t0, slices.Concat(repeated(500, 500), repeated(500, 2000))...),
			"3_CloudTrail_r:686 3_CloudTrail_r:314"},
		// Shares of 1,000,039 bytes: each record would take its batch past MaxBatchBytes before
		// the share, so the hard limit cuts three batches, one more than k.
		{"hard limit before the share", sized(t0, 600000, 500000, 900000), "3_CloudTrail_r:1 3_CloudTrail_r:1 3_CloudTrail_r:1"},
		// Runs are cut 24 hours from their first record, then evenly: 0h and 23h, then 25h and 47h.
		{"span", []cloudtrail.Record{rec("4", "r", t0, 1), rec("4", "r", t0.Add(23*time.Hour), 1),
			rec("4", "r", t0.Add(25*time.Hour), 1), rec("4", "r", t0.Add(47*time.Hour), 1)}, "4_CloudTrail_r:2 4_CloudTrail_r:2"},
		{"span then bytes", append(sized(t0, repeated(1100, 1000)...), rec("3", "r", t0.Add(25*time.Hour), 1)),
			"3_CloudTrail_r:550 3_CloudTrail_r:550 3_CloudTrail_r:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			batches := Batches(tc.recs)
			checkBatches(t, tc.recs, batches)
			var sizes []string
			for _, b := range batches {
				sizes = append(sizes, fmt.Sprintf("%s:%d", b[0].StreamName(), len(b)))
			}
			if got := strings.Join(sizes, " "); got != tc.want {
				t.Fatalf("batches\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestBatchesVaryingSizes cuts runs of records of pseudo-random sizes (fixed seeds) and checks
// that every batch is within the limits, that a run takes k batches, the fewest its totals allow,
// or k+1 when hard limits cut batches short of their shares, and that no batch but the last is
// less than half as full as the fullest of its run (fullness: the larger of its bytes and its
// events as a fraction of their limit).
func TestBatchesVaryingSizes(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 256<<10) // records share it: Batches reads only their length
	dists := []struct {
		name    string
		maxRecs int
		small   bool // records small against batches: a run cut in k batches ends near its share
		size    func(r *rand.Rand, i int) int
	}{
		{"uniform 500 B to 3 KB", 4000, true, func(r *rand.Rand, _ int) int { return 500 + r.IntN(2500) }},
		{"CloudTrail-like, 2% of 10 to 60 KB", 4000, true, func(r *rand.Rand, _ int) int {
			if r.IntN(50) == 0 {
				return 10000 + r.IntN(50000)
			}
			return 800 + r.IntN(1200)
		}},
		{"log-uniform 100 B to 256 KB", 300, false, func(r *rand.Rand, _ int) int {
			return int(math.Exp(math.Log(100) + r.Float64()*math.Log(256<<10/100.0)))
		}},
		{"tiny, events set k", 45000, true, func(r *rand.Rand, _ int) int { return 1 + r.IntN(80) }},
		{"stretches of tiny and large", 8000, true, func(r *rand.Rand, i int) int {
			if i/700%2 == 0 {
				return 1 + r.IntN(20)
			}
			return 2000 + r.IntN(8000)
		}},
	}
	for di, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(di)))
			for range 40 {
				n := 1 + r.IntN(d.maxRecs)
				recs := make([]cloudtrail.Record, n)
				total := 0
				for i := range recs {
					size := d.size(r, i)
					total += size + EventOverhead
					// Times out of order within one hour, so Batches sorts them into one run.
					recs[i] = cloudtrail.Record{Raw: buf[:size], Time: t0.Add(time.Duration(r.IntN(3600000)) * time.Millisecond), AccountID: "3", Region: "r"}
				}
				batches := Batches(recs)
				checkBatches(t, recs, batches)
				k := max((total+MaxBatchBytes-1)/MaxBatchBytes, (n+MaxBatchEvents-1)/MaxBatchEvents, 1)
				if len(batches) < k || len(batches) > k+1 {
					t.Fatalf("%d records, %d bytes: %d batches, want %d or %d", n, total, len(batches), k, k+1)
				}
				fill := make([]float64, len(batches))
				for i, b := range batches {
					bytes := 0
					for _, rc := range b {
						bytes += len(rc.Raw) + EventOverhead
					}
					fill[i] = max(float64(bytes)/MaxBatchBytes, float64(len(b))/MaxBatchEvents)
				}
				fullest := slices.Max(fill)
				last := len(fill) - 1
				if len(fill) == k && d.small {
					last++ // no hard cut: the last batch is near its share too
				}
				for i, f := range fill[:last] {
					if f < fullest/2 {
						t.Fatalf("%d records, %d bytes: batch %d of %d is %.3f full, the fullest %.3f (all %.3f)", n, total, i, len(fill), f, fullest, fill)
					}
				}
			}
		})
	}
}

// FuzzBatches checks Batches' guarantees on arbitrary records: every record in exactly one batch,
// a stream's records in stable time order, no batch mixing streams or over a limit. Each 3 bytes
// of input make a record: its stream, its hour (0 to 63, so that spans cut), and its size (up to
// 260,100 bytes, so that bytes cut); the first byte repeats every record up to 40 times more
// (capped at 40,000 records), so that events cut too.
func FuzzBatches(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0, 1, 2, 255, 0, 2, 255, 3, 30, 200})
	f.Add([]byte{255, 4, 0, 10, 5, 0, 1})
	f.Add(bytes.Repeat([]byte{7, 3, 9, 128}, 40))
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 255*255*4)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		copies := 1 + int(data[0])*40/255
		var recs []cloudtrail.Record
		for i := 1; i+3 <= len(data) && len(recs) < 40000; i += 3 {
			stream, hour, size := int(data[i]), int(data[i+1])%64, int(data[i+2])*int(data[i+2])*4
			for c := range copies {
				recs = append(recs, cloudtrail.Record{Raw: buf[:size], EventID: strconv.Itoa(len(recs)),
					Time:      t0.Add(time.Duration(hour)*time.Hour + time.Duration(c%3)*time.Millisecond),
					AccountID: strconv.Itoa(stream % 3), Region: strconv.Itoa(stream / 3 % 2)})
			}
		}
		want := slices.Clone(recs)
		slices.SortStableFunc(want, func(a, b cloudtrail.Record) int {
			return cmp.Or(cmp.Compare(a.StreamName(), b.StreamName()), a.Time.Compare(b.Time))
		})
		batches := Batches(recs)
		checkBatches(t, recs, batches)
		for i := range recs {
			if recs[i].EventID != want[i].EventID {
				t.Fatalf("record %d is %s, want %s", i, recs[i].EventID, want[i].EventID)
			}
		}
	})
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
