package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// benchPutLogEvents is a 1,000-event PutLogEvents body of CloudTrail-sized messages.
func benchPutLogEvents() []byte {
	in := putLogEventsInput{LogGroupName: "CloudTrail/DefaultLogGroup", LogStreamName: "s"}
	msg := `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111111111111","arn":"arn:aws:iam::111111111111:root"},` +
		`"eventTime":"2025-11-26T19:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"203.0.113.7","responseElements":{"ConsoleLogin":"Success"}}`
	for i := range 1000 {
		in.LogEvents = append(in.LogEvents, inputLogEvent{Timestamp: 1764183600000 + int64(i), Message: msg})
	}
	b, _ := json.Marshal(in)
	return b
}

// BenchmarkHandlerPutLogEvents measures the whole server side of one request: SigV4
// verification, JSON decoding of 1,000 events, the (trivial) handler and the response.
func BenchmarkHandlerPutLogEvents(b *testing.B) {
	body := benchPutLogEvents()
	l := &toyLogs{groups: map[string]int64{"CloudTrail/DefaultLogGroup": 1}}
	svc := l.service()
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{svc}, Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now: func() time.Time { return fixedNow }})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "http://localhost:4566/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}, req,
		hex.EncodeToString(sum[:]), "logs", "us-east-1", fixedNow); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := req.Clone(context.Background())
		r.Body = readCloser(body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		l.events = l.events[:0]
	}
}

// BenchmarkResponseEncoding serves a 100-alarm DescribeAlarms output in each protocol, SigV4
// verification included.
func BenchmarkResponseEncoding(b *testing.B) {
	out := &describeAlarmsOutput{}
	for i := range 100 {
		out.MetricAlarms = append(out.MetricAlarms, metricAlarm{
			AlarmName: ptr(fmt.Sprintf("alarm-%d", i)), AlarmActions: []string{"arn:aws:sns:us-east-1:111111111111:alarms"},
			StateValue: ptr("OK"), StateUpdatedTimestamp: &awsapi.Time{Time: fixedNow}, Threshold: ptr(1.5), Period: ptr(int32(300)),
			Dimensions: []dimension{{"Env", "prod"}}, StateReason: ptr(strings.Repeat("r", 100)),
		})
	}
	for _, proto := range []string{"query", "json", "cbor"} {
		b.Run(proto, func(b *testing.B) {
			svc := (&toyMonitoring{alarms: map[string]putMetricAlarmInput{}}).service()
			svc.Operations["DescribeAlarms"] = awsapi.Op(func(context.Context, *describeAlarmsInput) (*describeAlarmsOutput, error) { return out, nil })
			h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{svc}, Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
				Now: func() time.Time { return fixedNow }})
			if err != nil {
				b.Fatal(err)
			}
			var rr rawReq
			switch proto {
			case "query":
				rr = formReq("monitoring", "Action=DescribeAlarms&Version=2010-08-01")
			case "json":
				rr = jsonReq("GraniteServiceVersion20100801.DescribeAlarms", "1.0", "{}")
			case "cbor":
				rr = cborReq("DescribeAlarms", map[string]any{}, true)
			}
			req := httptest.NewRequest(http.MethodPost, "http://localhost:4566"+defaultPath(rr.path), bytes.NewReader(rr.body))
			for k, v := range rr.headers {
				req.Header.Set(k, v)
			}
			sum := sha256.Sum256(rr.body)
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}, req,
				hex.EncodeToString(sum[:]), "monitoring", "us-east-1", fixedNow); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := req.Clone(context.Background())
				r.Body = readCloser(rr.body)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func defaultPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
