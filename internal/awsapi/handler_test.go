package awsapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	creds := staticCreds{}
	ok := func(context.Context, *struct{}) (*struct{}, error) { return nil, nil }
	tests := []struct {
		name string
		cfg  awsapi.Config
		want string
	}{
		{"no credentials", awsapi.Config{}, "Credentials is required"},
		{"no signing name", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{}}}, "without SigningName"},
		{"duplicate service", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a"}, {SigningName: "a"}}}, "duplicate service"},
		{"duplicate prefix", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{
			{SigningName: "a", TargetPrefixes: []string{"P"}, JSONVersion: "1.1"}, {SigningName: "b", TargetPrefixes: []string{"P"}, JSONVersion: "1.1"}}}, "duplicate target prefix"},
		{"bad JSON version", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a", TargetPrefixes: []string{"P"}, JSONVersion: "2"}}}, "JSONVersion"},
		{"unsupported field", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a", Operations: map[string]awsapi.Operation{
			"X": awsapi.Op(func(context.Context, *struct {
				C chan int `json:"C"`
			}) (*struct{}, error) {
				return nil, nil
			})}}}}, "unsupported type chan int"},
		{"non-struct input", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a", Operations: map[string]awsapi.Operation{
			"X": awsapi.Op(func(context.Context, *string) (*struct{}, error) { return nil, nil })}}}}, "is not a struct"},
		{"nil operation", awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a", Operations: map[string]awsapi.Operation{"X": nil}}}}, "nil operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := awsapi.NewHandler(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := awsapi.NewHandler(awsapi.Config{Credentials: creds, Services: []*awsapi.Service{{SigningName: "a", Operations: map[string]awsapi.Operation{"X": awsapi.Op(ok)}}}}); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

// TestInternalFailureIsLogged checks that a non-API error and a panic are logged with the request
// id and answered with InternalFailure, without the internal text.
func TestInternalFailureIsLogged(t *testing.T) {
	var logs bytes.Buffer
	svc := &awsapi.Service{SigningName: "logs", TargetPrefixes: []string{"Logs_20140328"}, JSONVersion: "1.1", Operations: map[string]awsapi.Operation{
		"Fail":  awsapi.Op(func(context.Context, *struct{}) (*struct{}, error) { return nil, errSecret }),
		"Panic": awsapi.Op(func(context.Context, *struct{}) (*struct{}, error) { panic("secret panic") }),
	}}
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{svc}, Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now: func() time.Time { return fixedNow }, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{}
	e.srv = newServer(t, h)
	for _, op := range []string{"Fail", "Panic"} {
		r := e.do(t, jsonReq("Logs_20140328."+op, "1.1", `{}`))
		m := parseJSONErr(t, r)
		if r.status != 500 || m["__type"] != "InternalFailure" || strings.Contains(string(r.body), "secret") {
			t.Errorf("%s: %d %s", op, r.status, r.body)
		}
		if !strings.Contains(logs.String(), r.header.Get("x-amzn-RequestId")) {
			t.Errorf("%s: log %q lacks the request id", op, logs.String())
		}
	}
	if !strings.Contains(logs.String(), `msg="aws request" service=logs operation=Fail protocol=awsJson1_1 status=500`) {
		t.Errorf("no debug request log in %q", logs.String())
	}
	if !strings.Contains(logs.String(), "secret panic") || !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("log = %q", logs.String())
	}
}

type secretError struct{}

func (secretError) Error() string { return "disk on fire" }

var errSecret = secretError{}

func TestUnsignedOperation(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	// SubscribeURL: an unsigned GET.
	r := e.do(t, rawReq{method: http.MethodGet, noSign: true, path: "/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Token=tok"})
	if r.status != 200 || !strings.Contains(string(r.body), "<SubscriptionArn>arn:aws:sns:us-east-1:1:t:tok/account=</SubscriptionArn>") {
		t.Errorf("unsigned ConfirmSubscription = %d %s", r.status, r.body)
	}
	// SNS's own links carry no Version (Service.UnsignedParameters).
	r = e.do(t, rawReq{method: http.MethodGet, noSign: true, path: "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=tok"})
	if r.status != 200 || !strings.Contains(string(r.body), "<SubscriptionArn>arn:aws:sns:us-east-1:1:t:tok/account=</SubscriptionArn>") {
		t.Errorf("unsigned ConfirmSubscription without Version = %d %s", r.status, r.body)
	}
	// Only the listed parameters: anything more needs a signature, in the URL or in a form body.
	r = e.do(t, rawReq{method: http.MethodGet, noSign: true, path: "/?Action=ConfirmSubscription&TopicArn=t&Token=tok&AuthenticateOnUnsubscribe=true"})
	if r.status != 403 || parseQueryErr(t, r).Error.Code != "MissingAuthenticationToken" {
		t.Errorf("unsigned ConfirmSubscription with another parameter = %d %s", r.status, r.body)
	}
	extra := formReq("sns", "Action=ConfirmSubscription&Version=2010-03-31&TopicArn=t&Token=tok&Other=1")
	extra.noSign = true
	if r = e.do(t, extra); r.status != 403 || parseQueryErr(t, r).Error.Code != "MissingAuthenticationToken" {
		t.Errorf("unsigned form with another parameter = %d %s", r.status, r.body)
	}
	// A signed call still needs its Version.
	r = e.do(t, rawReq{method: http.MethodGet, service: "sns", key: testAccessKey, secret: testSecret, path: "/?Action=ConfirmSubscription&TopicArn=t&Token=tok"})
	if r.status != 400 || parseQueryErr(t, r).Error.Code != "InvalidAction" {
		t.Errorf("signed ConfirmSubscription without Version = %d %s", r.status, r.body)
	}
	// A signature, when present, is still checked.
	r = e.do(t, rawReq{method: http.MethodGet, service: "sns", key: testAccessKey, secret: "wrong", path: "/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn=t&Token=tok"})
	if r.status != 403 {
		t.Errorf("badly signed ConfirmSubscription = %d %s", r.status, r.body)
	}
	// A large unsigned form is not parsed; it is refused without a service namespace.
	big := formReq("sns", "Action=ConfirmSubscription&Version=2010-03-31&TopicArn=t&Token="+strings.Repeat("x", 70<<10))
	big.noSign = true
	r = e.do(t, big)
	if q := parseQueryErr(t, r); r.status != 403 || q.Error.Code != "MissingAuthenticationToken" || q.Xmlns != "" {
		t.Errorf("large unsigned form = %d %+v", r.status, q)
	}
	// Other operations still need a signature.
	r = e.do(t, rawReq{method: http.MethodGet, noSign: true, path: "/?Action=ListTopics&Version=2010-03-31"})
	if r.status != 403 || parseQueryErr(t, r).Error.Code != "MissingAuthenticationToken" {
		t.Errorf("unsigned ListTopics = %d %s", r.status, r.body)
	}
}

// TestTargetSpellings routes both CloudTrail X-Amz-Target spellings (awscli uses the namespaced
// one, aws-sdk-go-v2 the short one) to one service.
func TestTargetSpellings(t *testing.T) {
	svc := &awsapi.Service{SigningName: "cloudtrail", JSONVersion: "1.1",
		TargetPrefixes: []string{"CloudTrail_20131101", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"},
		Operations: map[string]awsapi.Operation{"DescribeTrails": awsapi.Op(func(context.Context, *struct{}) (*struct {
			TrailList []string `json:"trailList"`
		}, error) {
			return nil, nil
		})}}
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{svc}, Credentials: staticCreds{testAccessKey: {testSecret, testAccount}}, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: newServer(t, h)}
	for _, target := range []string{"CloudTrail_20131101.DescribeTrails", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails"} {
		req := jsonReq(target, "1.1", `{}`)
		req.service = "cloudtrail"
		if r := e.do(t, req); r.status != 200 || string(r.body) != `{"trailList":[]}` {
			t.Errorf("%s = %d %s", target, r.status, r.body)
		}
	}
}
