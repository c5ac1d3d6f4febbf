package awsapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/fxamacker/cbor/v2"
)

// fixedNow is the server clock of the raw-request tests.
var fixedNow = time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)

// rawReq is one hand-built request, signed with aws-sdk-go-v2's signer unless noSign is set.
type rawReq struct {
	method  string
	path    string // path and query, default "/"
	body    []byte
	headers map[string]string
	service string
	region  string
	signAt  time.Time
	key     string
	secret  string
	noSign  bool
	// tamper runs after signing, to change what the server receives.
	tamper func(r *http.Request)
}

type rawResp struct {
	status int
	header http.Header
	body   []byte
}

func (e *testEnv) do(t *testing.T, rr rawReq) rawResp {
	t.Helper()
	if rr.method == "" {
		rr.method = http.MethodPost
	}
	if rr.path == "" {
		rr.path = "/"
	}
	if rr.region == "" {
		rr.region = "us-east-1"
	}
	if rr.signAt.IsZero() {
		rr.signAt = fixedNow
	}
	if rr.key == "" {
		rr.key, rr.secret = testAccessKey, testSecret
	}
	req, err := http.NewRequest(rr.method, e.srv.URL+rr.path, bytes.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rr.headers {
		req.Header.Set(k, v)
	}
	if !rr.noSign {
		sum := sha256.Sum256(rr.body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: rr.key, SecretAccessKey: rr.secret},
			req, hex.EncodeToString(sum[:]), rr.service, rr.region, rr.signAt)
		if err != nil {
			t.Fatal(err)
		}
	}
	if rr.tamper != nil {
		rr.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// queryErr decodes an awsQuery error document.
type queryErr struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type, Code string
		Message    *string
	}
	RequestID string `xml:"RequestId"`
}

func parseQueryErr(t *testing.T, r rawResp) queryErr {
	t.Helper()
	var q queryErr
	if err := xml.Unmarshal(r.body, &q); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if got := r.header.Get("Content-Type"); got != "text/xml" {
		t.Errorf("Content-Type = %q", got)
	}
	if q.RequestID == "" || q.RequestID != r.header.Get("x-amzn-RequestId") {
		t.Errorf("RequestId %q, header %q", q.RequestID, r.header.Get("x-amzn-RequestId"))
	}
	return q
}

func parseJSONErr(t *testing.T, r rawResp) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if msg, ok := m["Message"]; ok { // SerializationException spells it with a capital M
		m["message"] = msg
	}
	return m
}

func parseCBORErr(t *testing.T, r rawResp) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := cbor.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body % x: %v", r.body, err)
	}
	if msg, ok := m["Message"]; ok {
		m["message"] = msg
	}
	if r.header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.header.Get("Content-Type") != "application/cbor" {
		t.Errorf("CBOR error headers = %v", r.header)
	}
	return m
}

func formReq(service, body string) rawReq {
	return rawReq{service: service, body: []byte(body), headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}
}

func jsonReq(target, version, body string) rawReq {
	svc := "logs"
	if strings.HasPrefix(target, "Granite") {
		svc = "monitoring"
	}
	return rawReq{service: svc, body: []byte(body), headers: map[string]string{"Content-Type": "application/x-amz-json-" + version, "X-Amz-Target": target}}
}

func cborReq(op string, body any, queryMode bool) rawReq {
	b, err := cbor.Marshal(body)
	if err != nil {
		panic(err)
	}
	h := map[string]string{"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}
	if queryMode {
		h["X-Amzn-Query-Mode"] = "true"
	}
	return rawReq{service: "monitoring", path: "/service/GraniteServiceVersion20100801/operation/" + op, body: b, headers: h}
}

func TestQueryErrors(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	tests := []struct {
		name              string
		req               rawReq
		status            int
		typ, code, xmlns  string
		message, contains string
	}{
		{"unknown action", formReq("sns", "Action=Frobnicate&Version=2010-03-31"), 400, "Sender", "InvalidAction", "http://sns.amazonaws.com/doc/2010-03-31/",
			"Could not find operation Frobnicate for version 2010-03-31", ""},
		{"wrong version", formReq("sns", "Action=ListTopics&Version=2010-08-01"), 400, "Sender", "InvalidAction", "http://sns.amazonaws.com/doc/2010-03-31/",
			"Could not find operation ListTopics for version 2010-08-01", ""},
		{"missing action", formReq("monitoring", "Version=2010-08-01"), 400, "Sender", "InvalidAction", "http://monitoring.amazonaws.com/doc/2010-08-01/", "", "Could not find operation"},
		{"not found", formReq("sns", "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A111111111111%3Anope"), 404, "Sender", "NotFound",
			"http://sns.amazonaws.com/doc/2010-03-31/", "Topic does not exist", ""},
		{"sns bad parameter type", formReq("sns", "Action=Publish&Version=2010-03-31&Message=m&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.BinaryValue=!"),
			400, "Sender", "InvalidParameter", "http://sns.amazonaws.com/doc/2010-03-31/", "", "MessageAttributes.entry.1.Value.BinaryValue"},
		{"sns bad parameter message", formReq("sns", "Action=Publish&Version=2010-03-31&Message=m&MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.BinaryValue=!"),
			400, "Sender", "InvalidParameter", "http://sns.amazonaws.com/doc/2010-03-31/",
			"1 validation error detected: Value '!' at 'MessageAttributes.entry.1.Value.BinaryValue' failed to satisfy constraint: Member must be base64-encoded binary", ""},
		{"modeled error with query code", formReq("monitoring", "Action=PutMetricAlarm&Version=2010-08-01"), 400, "Sender", "MissingParameter",
			"http://monitoring.amazonaws.com/doc/2010-08-01/", "The parameter AlarmName is required.", ""},
		{"internal failure", formReq("monitoring", "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=a"), 500, "Receiver", "InternalFailure",
			"http://monitoring.amazonaws.com/doc/2010-08-01/", "The request processing has failed because of an unknown error, exception or failure.", ""},
		{"missing authentication", func() rawReq { r := formReq("sns", "Action=ListTopics&Version=2010-03-31"); r.noSign = true; return r }(), 403, "Sender",
			"MissingAuthenticationToken", "http://sns.amazonaws.com/doc/2010-03-31/", "Request is missing Authentication Token", ""},
		{"unknown key", func() rawReq {
			r := formReq("sns", "Action=ListTopics&Version=2010-03-31")
			r.key, r.secret = "AKIDX", "s"
			return r
		}(), 403, "Sender",
			"InvalidClientTokenId", "http://sns.amazonaws.com/doc/2010-03-31/", "The security token included in the request is invalid.", ""},
		{"GET with Action", rawReq{method: http.MethodGet, service: "sns", path: "/?Action=GetTopicAttributes&Version=2010-03-31&TopicArn=x"}, 404, "Sender", "NotFound",
			"http://sns.amazonaws.com/doc/2010-03-31/", "Topic does not exist", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d (%s)", r.status, tt.status, r.body)
			}
			q := parseQueryErr(t, r)
			if q.Xmlns != tt.xmlns || q.Error.Type != tt.typ || q.Error.Code != tt.code || q.Error.Message == nil {
				t.Fatalf("error = %+v (%s)", q, r.body)
			}
			if tt.message != "" && *q.Error.Message != tt.message || !strings.Contains(*q.Error.Message, tt.contains) {
				t.Errorf("message = %q", *q.Error.Message)
			}
			if r.header.Get("Date") == "" {
				t.Errorf("no Date header")
			}
		})
	}
}

// TestQueryMalformedInput pins CloudWatch's answer to an unparsable form value: Period=30.0 gives
// MalformedInput without a message (boto/boto#3530).
func TestQueryMalformedInput(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	for _, body := range []string{"Period=30.0", "Period=sixty", "Threshold=abc", "ActionsEnabled=yes", "Dimensions.member.x.Name=a"} {
		r := e.do(t, formReq("monitoring", "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=a&"+body))
		q := parseQueryErr(t, r)
		if r.status != 400 || q.Error.Type != "Sender" || q.Error.Code != "MalformedInput" || q.Error.Message != nil {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}

func TestJSONAndCBORErrors(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	const cwNS = "com.amazonaws.cloudwatch.v2010_08_01#"
	const coral = "com.amazon.coral.service#"
	tests := []struct {
		name       string
		req        rawReq
		cbor       bool
		status     int
		typ        string
		message    *string // nil: no message member
		queryError string  // x-amzn-query-error, "" = absent
	}{
		{"logs modeled error bare code", jsonReq("Logs_20140328.PutLogEvents", "1.1", `{"logGroupName":"nope","logStreamName":"s","logEvents":[]}`), false, 400,
			"ResourceNotFoundException", ptr("The specified log group does not exist."), ""},
		{"logs unknown operation", jsonReq("Logs_20140328.Frobnicate", "1.1", `{}`), false, 400, "UnknownOperationException", nil, ""},
		{"unknown target prefix", jsonReq("Nope_2020.X", "1.1", `{}`), false, 400, "UnknownOperationException", nil, ""},
		{"logs malformed JSON", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{"logGroupName":`), false, 400, "SerializationException", nil, ""},
		{"logs wrong member type", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{"logGroupName":5}`), false, 400, "SerializationException",
			ptr("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"), ""},
		{"logs JSON array body", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `[]`), false, 400, "SerializationException", ptr("Start of list found where not expected"), ""},
		{"logs unknown key", func() rawReq {
			r := jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{}`)
			r.key, r.secret = "AKIDX", "s"
			return r
		}(), false, 400,
			"UnrecognizedClientException", ptr("The security token included in the request is invalid."), ""},
		{"logs missing auth", func() rawReq { r := jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{}`); r.noSign = true; return r }(), false, 400,
			"MissingAuthenticationTokenException", ptr("Request is missing Authentication Token"), ""},
		{"cloudwatch json 1.0 not found without query mode", jsonReq("GraniteServiceVersion20100801.SetAlarmState", "1.0", `{"AlarmName":"x","StateValue":"OK","StateReason":"r"}`), false, 400,
			cwNS + "ResourceNotFound", ptr("Alarm x not found"), "ResourceNotFound;Sender"},
		{"cbor not found with query mode", cborReq("SetAlarmState", map[string]string{"AlarmName": "x", "StateValue": "OK", "StateReason": "r"}, true), true, 404,
			cwNS + "ResourceNotFound", ptr("Alarm x not found"), "ResourceNotFound;Sender"},
		{"cbor not found without query mode", cborReq("SetAlarmState", map[string]string{"AlarmName": "x"}, false), true, 400,
			cwNS + "ResourceNotFound", ptr("Alarm x not found"), "ResourceNotFound;Sender"},
		{"json error without message omits it", jsonReq("GraniteServiceVersion20100801.SetAlarmState", "1.0", `{"AlarmName":"silent","StateValue":"OK","StateReason":"r"}`), false, 400,
			cwNS + "ResourceNotFound", nil, "ResourceNotFound;Sender"},
		{"cbor error without message omits it", cborReq("SetAlarmState", map[string]string{"AlarmName": "silent", "StateValue": "OK", "StateReason": "r"}, true), true, 404,
			cwNS + "ResourceNotFound", nil, "ResourceNotFound;Sender"},
		{"cbor mapped shape name", cborReq("PutMetricAlarm", map[string]string{}, true), true, 400,
			cwNS + "MissingRequiredParameterException", ptr("The parameter AlarmName is required."), "MissingParameter;Sender"},
		{"cbor internal failure", cborReq("DeleteAlarms", map[string]any{"AlarmNames": []string{"a"}}, true), true, 500,
			coral + "InternalFailure", ptr("The request processing has failed because of an unknown error, exception or failure."), "InternalFailure;Receiver"},
		{"cbor unknown operation", cborReq("Frobnicate", map[string]string{}, true), true, 400, coral + "UnknownOperationException", nil, "UnknownOperationException;Sender"},
		{"cbor unknown service", func() rawReq {
			r := cborReq("X", map[string]string{}, true)
			r.path = "/service/Nope/operation/X"
			return r
		}(), true, 400, "UnknownOperationException", nil, ""},
		{"cbor malformed body", func() rawReq {
			r := cborReq("DescribeAlarms", map[string]string{}, true)
			r.body = []byte{0xbf, 0x61}
			return r
		}(), true, 400,
			coral + "SerializationException", nil, "SerializationException;Sender"},
		{"cbor wrong member type", cborReq("DescribeAlarms", map[string]any{"MaxRecords": "ten"}, true), true, 400, coral + "SerializationException",
			ptr("CBOR UTF-8 text string can not be converted to an Integer"), "SerializationException;Sender"},
		{"cbor bad signature", func() rawReq {
			r := cborReq("DescribeAlarms", map[string]any{}, true)
			r.key, r.secret = testAccessKey, "wrong"
			return r
		}(), true, 403, coral + "InvalidSignatureException",
			ptr("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
			"SignatureDoesNotMatch;Sender"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d (%q)", r.status, tt.status, r.body)
			}
			var m map[string]string
			if tt.cbor {
				m = parseCBORErr(t, r)
			} else {
				m = parseJSONErr(t, r)
				if r.header.Get("X-Amzn-ErrorType") != tt.typ[strings.LastIndex(tt.typ, "#")+1:] {
					t.Errorf("X-Amzn-ErrorType = %q", r.header.Get("X-Amzn-ErrorType"))
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-amz-json-1.") {
					t.Errorf("Content-Type = %q", ct)
				}
			}
			if m["__type"] != tt.typ {
				t.Errorf("__type = %q, want %q", m["__type"], tt.typ)
			}
			msg, has := m["message"]
			switch {
			case tt.message == nil && has:
				t.Errorf("message = %q, want none", msg)
			case tt.message != nil && msg != *tt.message:
				t.Errorf("message = %q, want %q", msg, *tt.message)
			}
			if got := r.header.Get("x-amzn-query-error"); got != tt.queryError {
				t.Errorf("x-amzn-query-error = %q, want %q", got, tt.queryError)
			}
			if r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Date") == "" {
				t.Errorf("missing x-amzn-RequestId or Date: %v", r.header)
			}
		})
	}
}

func TestSuccessShapes(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	// A no-output JSON operation answers {}; CBOR an empty map; query a Result-less document.
	r := e.do(t, jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{"logGroupName":"g"}`))
	if r.status != 200 || string(r.body) != "{}" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("JSON no-output = %d %q %v", r.status, r.body, r.header)
	}
	// A 1.1 request to a 1.0 service is answered in the service's version.
	r = e.do(t, jsonReq("GraniteServiceVersion20100801.DescribeAlarms", "1.1", ``))
	if r.status != 200 || string(r.body) != `{"MetricAlarms":[],"CompositeAlarms":[]}` || r.header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("JSON 1.0 DescribeAlarms = %d %q %v", r.status, r.body, r.header)
	}
	r = e.do(t, cborReq("PutMetricAlarm", map[string]any{"AlarmName": "a", "Threshold": 1}, true))
	if r.status != 200 || !bytes.Equal(r.body, []byte{0xa0}) || r.header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("CBOR no-output = %d % x %v", r.status, r.body, r.header)
	}
	r = e.do(t, formReq("monitoring", "Action=PutMetricAlarm&Version=2010-08-01&AlarmName=b"))
	want := `<PutMetricAlarmResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>` + r.header.Get("x-amzn-RequestId") +
		`</RequestId></ResponseMetadata></PutMetricAlarmResponse>`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("query no-output = %d %q", r.status, r.body)
	}
	if d, err := http.ParseTime(r.header.Get("Date")); err != nil || !d.Equal(fixedNow) {
		t.Errorf("Date = %q", r.header.Get("Date"))
	}
	// The Java SDK v2 prefix before /service/ is accepted.
	req := cborReq("DescribeAlarms", map[string]any{}, true)
	req.path = "/v1" + req.path
	if r := e.do(t, req); r.status != 200 {
		t.Errorf("prefixed CBOR path = %d %q", r.status, r.body)
	}
}

func TestGzipBody(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"logGroupName":"zipped"}`))
	_ = zw.Close()
	req := jsonReq("Logs_20140328.CreateLogGroup", "1.1", "")
	req.body = buf.Bytes()
	req.headers["Content-Encoding"] = "gzip"
	if r := e.do(t, req); r.status != 200 {
		t.Fatalf("gzip request = %d %q", r.status, r.body)
	}
	if _, ok := e.logs.groups["zipped"]; !ok {
		t.Errorf("gzip body not decoded")
	}
	req.body = []byte("not gzip")
	if r := e.do(t, req); r.status != 400 || parseJSONErr(t, r)["__type"] != "SerializationException" {
		t.Errorf("bad gzip = %d %q", r.status, r.body)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	big := `{"logGroupName":"` + strings.Repeat("x", 11<<20) + `"}`
	r := e.do(t, jsonReq("Logs_20140328.CreateLogGroup", "1.1", big))
	if r.status != 413 || parseJSONErr(t, r)["__type"] != "RequestEntityTooLargeException" {
		t.Errorf("oversized body = %d %q", r.status, truncateBytes(r.body))
	}
	// A small gzip body that inflates past the limit is refused too.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(big))
	_ = zw.Close()
	req := jsonReq("Logs_20140328.CreateLogGroup", "1.1", "")
	req.body, req.headers["Content-Encoding"] = buf.Bytes(), "gzip"
	if r := e.do(t, req); r.status != 413 {
		t.Errorf("gzip bomb = %d %q", r.status, truncateBytes(r.body))
	}
}

func truncateBytes(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

func TestMethodAndContentType(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	if r := e.do(t, rawReq{method: http.MethodGet, service: "sns"}); r.status != 405 {
		t.Errorf("GET / = %d", r.status)
	}
	r := e.do(t, rawReq{service: "sns", body: []byte("x"), headers: map[string]string{"Content-Type": "text/plain"}})
	if r.status != 400 {
		t.Errorf("text/plain POST = %d %q", r.status, r.body)
	}
	_ = url.Values{}
}

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestQueryErrorWithoutMessage follows CloudWatch's recorded awsQuery answer to SetAlarmState of an
// unknown alarm (localstack's snapshot of AWS, test_set_alarm_invalid_input): the Error element has
// a Type and a Code and no Message element at all.
func TestQueryErrorWithoutMessage(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	r := e.do(t, formReq("monitoring", "Action=SetAlarmState&Version=2010-08-01&AlarmName=silent&StateValue=OK&StateReason=r"))
	if r.status != 404 {
		t.Errorf("status = %d (%s)", r.status, r.body)
	}
	if want := "<Error><Type>Sender</Type><Code>ResourceNotFound</Code></Error>"; !strings.Contains(string(r.body), want) {
		t.Errorf("body = %s, want %s", r.body, want)
	}
}

// TestRequestIDHeaderSpelling reads the raw response to check the request-id header's name as
// it goes on the wire: AWS spells it x-amzn-RequestId (net/http would canonicalize it to
// X-Amzn-Requestid if it were set with Header.Set).
func TestRequestIDHeaderSpelling(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /?Action=ListMetrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	if !strings.Contains(head, "\r\nx-amzn-RequestId: ") {
		t.Errorf("response head lacks x-amzn-RequestId spelled as AWS does:\n%s", head)
	}
}
