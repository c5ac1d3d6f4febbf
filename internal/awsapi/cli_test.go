package awsapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// The real aws CLIs, found on PATH (corpus.AWSCLI): Debian's awscli 2.9.19 speaks awsQuery to
// CloudWatch; the pip CLI v1 (botocore 1.43) speaks RPC v2 CBOR to it. Both speak awsJson 1.1 to Logs
// and awsQuery to SNS.

// cli runs one aws CLI binary against a test server with static credentials and no user config.
type cli struct {
	t    *testing.T
	bin  string
	env  []string
	base []string
	e    *testEnv
}

func newCLI(t *testing.T, bin string, e *testEnv, key, secret string) *cli {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" { // CI must run this test, not skip it
			t.Fatalf("%s not installed: %v", bin, err)
		}
		t.Skipf("%s not installed: %v", bin, err)
	}
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+home,
		"AWS_ACCESS_KEY_ID="+key,
		"AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
	)
	return &cli{t: t, bin: bin, env: env, base: []string{"--endpoint-url", e.srv.URL, "--output", "json"}, e: e}
}

// run executes the CLI and returns stdout, stderr and whether it succeeded.
func (c *cli) run(args ...string) (string, string, bool) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(append([]string{}, c.base...), args...)...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	c.syncServices()
	err := cmd.Run()
	c.syncServices()
	return out.String(), errb.String(), err == nil
}

// syncServices takes and releases the toy services' locks, under which their operations record
// what they received. A CLI process orders nothing for the race detector; this orders the test's
// reads of those records after the handlers' writes of the last run and before the next run's.
func (c *cli) syncServices() {
	for _, mu := range []*sync.Mutex{&c.e.mon.mu, &c.e.logs.mu, &c.e.sns.mu} {
		mu.Lock()
		mu.Unlock() //lint:ignore SA2001 the empty critical section is the point
	}
}

// ok runs a command that must succeed and decodes its JSON output (if any) into v.
func (c *cli) ok(v any, args ...string) {
	c.t.Helper()
	out, stderr, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("aws %s failed: %s", strings.Join(args, " "), stderr)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

// fails runs a command that must fail and returns its stderr.
func (c *cli) fails(args ...string) string {
	c.t.Helper()
	out, stderr, ok := c.run(args...)
	if ok {
		c.t.Fatalf("aws %s succeeded: %s", strings.Join(args, " "), out)
	}
	return stderr
}

type cliAlarms struct {
	MetricAlarms []struct {
		AlarmName             string
		AlarmArn              string
		AlarmActions          []string
		OKActions             []string
		StateValue            string
		StateUpdatedTimestamp any // ISO 8601 from CLI v2, epoch seconds from CLI v1 (cli_timestamp_format=none)
		Threshold             float64
		Period                int
		Dimensions            []struct{ Name, Value string }
	}
	CompositeAlarms []any
}

// testCLICloudWatch drives the toy CloudWatch through one CLI; the CLI decides the protocol.
func testCLICloudWatch(t *testing.T, bin string, wantProto string) {
	e := newTestEnv(t, nil)
	c := newCLI(t, bin, e, testAccessKey, testSecret)
	c.ok(nil, "cloudwatch", "put-metric-alarm", "--alarm-name", "RootLogin", "--metric-name", "RootAccountUsage",
		"--namespace", "CloudTrailMetrics", "--statistic", "Sum", "--period", "300", "--evaluation-periods", "1",
		"--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold", "--treat-missing-data", "notBreaching",
		"--alarm-actions", "arn:aws:sns:us-east-1:111111111111:alarms", "--ok-actions",
		"--dimensions", "Name=Env,Value=prod", "Name=Team,Value=a&b c")
	if got := string(e.mon.firstCaller().Protocol); got != wantProto {
		t.Errorf("protocol = %s, want %s", got, wantProto)
	}
	a := e.mon.alarms["RootLogin"]
	if *a.Threshold != 1 || *a.Period != 300 || len(a.Dimensions) != 2 || a.Dimensions[1].Value != "a&b c" || len(a.AlarmActions) != 1 {
		t.Errorf("decoded alarm = %+v", a)
	}
	if a.OKActions == nil || len(a.OKActions) != 0 {
		t.Errorf("empty --ok-actions decoded as %#v, want an empty list", a.OKActions)
	}

	var out cliAlarms
	c.ok(&out, "cloudwatch", "describe-alarms", "--alarm-names", "RootLogin")
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("describe-alarms = %+v", out)
	}
	m := out.MetricAlarms[0]
	if m.AlarmArn != "arn:aws:cloudwatch:us-east-1:111111111111:alarm:RootLogin" || m.Threshold != 1 || m.Period != 300 ||
		m.Dimensions[1].Value != "a&b c" || m.StateValue != "INSUFFICIENT_DATA" || !validCLITime(m.StateUpdatedTimestamp) {
		t.Errorf("alarm = %+v", m)
	}
	if out.CompositeAlarms == nil {
		t.Errorf("CompositeAlarms missing from output")
	}

	stderr := c.fails("cloudwatch", "set-alarm-state", "--alarm-name", "nope", "--state-value", "ALARM", "--state-reason", "x")
	if !cliError(stderr, "ResourceNotFound", "SetAlarmState", "Alarm nope not found") {
		t.Errorf("set-alarm-state stderr = %q", stderr)
	}

	c.ok(nil, "cloudwatch", "put-metric-data", "--namespace", "App", "--metric-data",
		`[{"MetricName":"Latency","Value":1.5,"Unit":"Milliseconds","Timestamp":"2025-11-26T19:00:07Z","Dimensions":[{"Name":"Host","Value":"h1"}]},`+
			`{"MetricName":"Errors","Values":[1,2,3],"Counts":[1,1,2]}]`)
	d := e.mon.data[0]
	if len(d.MetricData) != 2 || *d.MetricData[0].Value != 1.5 || d.MetricData[0].Timestamp.UnixMilli() != 1764183607000 || len(d.MetricData[1].Values) != 3 {
		t.Errorf("put-metric-data decoded %+v", d)
	}
	var lm struct {
		Metrics []struct{ Namespace, MetricName string }
	}
	c.ok(&lm, "cloudwatch", "list-metrics", "--metric-name", "Errors")
	if len(lm.Metrics) != 1 || lm.Metrics[0].Namespace != "App" {
		t.Errorf("list-metrics = %+v", lm)
	}

	bad := newCLI(t, bin, e, testAccessKey, "wrong-secret")
	if stderr := bad.fails("cloudwatch", "describe-alarms"); !strings.Contains(stderr, "(SignatureDoesNotMatch)") {
		t.Errorf("bad secret stderr = %q", stderr)
	}
	unknown := newCLI(t, bin, e, "AKIDNOBODY", testSecret)
	if stderr := unknown.fails("cloudwatch", "describe-alarms"); !strings.Contains(stderr, "(InvalidClientTokenId)") {
		t.Errorf("unknown key stderr = %q", stderr)
	}
}

func TestCLIv2CloudWatchQuery(t *testing.T) { testCLICloudWatch(t, corpus.AWSCLI(t, 2), "awsQuery") }

// botocore 1.43 ranks "json" above "smithy-rpc-v2-cbor" in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS, so
// CLI v1 speaks awsJson 1.0 to CloudWatch; TestBotocoreCBOR forces CBOR.
func TestCLIv1CloudWatchJSON(t *testing.T) { testCLICloudWatch(t, corpus.AWSCLI(t, 1), "awsJson1_0") }

// cliError reports whether stderr is botocore's rendering of the error, with or without the
// retry note that AWS_MAX_ATTEMPTS adds.
func cliError(stderr, code, op, msg string) bool {
	prefix := "An error occurred (" + code + ") when calling the " + op + " operation"
	i := strings.Index(stderr, prefix)
	if i < 0 {
		return false
	}
	rest := strings.TrimPrefix(stderr[i+len(prefix):], " (reached max retries: 0)")
	return strings.HasPrefix(rest, ": "+msg)
}

// validCLITime accepts 2025-11-26T19:00:00.123 in either CLI rendering.
func validCLITime(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.HasPrefix(t, "2025-11-26T19:00:00.123")
	case float64:
		return t == 1764183600.123
	}
	return false
}

func TestCLIv2LogsAndSNS(t *testing.T) {
	e := newTestEnv(t, nil)
	c := newCLI(t, corpus.AWSCLI(t, 2), e, testAccessKey, testSecret)
	c.ok(nil, "logs", "create-log-group", "--log-group-name", "CloudTrail/DefaultLogGroup")
	stderr := c.fails("logs", "create-log-group", "--log-group-name", "CloudTrail/DefaultLogGroup")
	if !cliError(stderr, "ResourceAlreadyExistsException", "CreateLogGroup", "The specified log group already exists") {
		t.Errorf("stderr = %q", stderr)
	}
	c.ok(nil, "logs", "put-log-events", "--log-group-name", "CloudTrail/DefaultLogGroup", "--log-stream-name", "s",
		"--log-events", `[{"timestamp":1764183600000,"message":"{\"eventName\":\"ConsoleLogin\"}"}]`)
	if len(e.logs.events) != 1 || e.logs.events[0].Message != `{"eventName":"ConsoleLogin"}` {
		t.Errorf("events = %+v", e.logs.events)
	}
	var groups struct {
		LogGroups []struct {
			LogGroupName string
			CreationTime int64
		} `json:"logGroups"`
	}
	c.ok(&groups, "logs", "describe-log-groups")
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].CreationTime != 1764183600123 {
		t.Errorf("describe-log-groups = %+v", groups)
	}

	var topic struct{ TopicArn string }
	c.ok(&topic, "sns", "create-topic", "--name", "alarms", "--attributes", "DisplayName=Ops")
	if topic.TopicArn != "arn:aws:sns:us-east-1:111111111111:alarms" {
		t.Errorf("TopicArn = %q", topic.TopicArn)
	}
	var attrs struct{ Attributes map[string]string }
	c.ok(&attrs, "sns", "get-topic-attributes", "--topic-arn", topic.TopicArn)
	if attrs.Attributes["DisplayName"] != "Ops" {
		t.Errorf("attributes = %+v", attrs)
	}
	var pub struct{ MessageId string }
	c.ok(&pub, "sns", "publish", "--topic-arn", topic.TopicArn, "--message", "hi", "--message-attributes",
		`{"k":{"DataType":"String","StringValue":"v"}}`)
	if pub.MessageId == "" || e.sns.published[0].MessageAttributes["k"].StringValue == nil || *e.sns.published[0].MessageAttributes["k"].StringValue != "v" {
		t.Errorf("publish = %+v / %+v", pub, e.sns.published)
	}
	stderr = c.fails("sns", "get-topic-attributes", "--topic-arn", "arn:aws:sns:us-east-1:111111111111:nope")
	if !cliError(stderr, "NotFound", "GetTopicAttributes", "Topic does not exist") {
		t.Errorf("stderr = %q", stderr)
	}
}

// TestBotocoreCBOR drives the CloudWatch toy with botocore's own RPC v2 CBOR serializer and parser
// (integer tag-1 timestamps, its own CBOR encoder), which CLI v1 would use if it ranked CBOR first.
func TestBotocoreCBOR(t *testing.T) {
	python := corpus.Python(t, "botocore")
	e := newTestEnv(t, nil)
	c := newCLI(t, python, e, testAccessKey, testSecret)
	cmd := exec.Command(python, "testdata/botocore_cbor.py", e.srv.URL)
	cmd.Env = c.env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("botocore script: %v\n%s", err, stderr.String())
	}
	var res struct {
		Protocol string `json:"protocol"`
		Alarm    struct {
			AlarmArn              string
			Threshold             float64
			Period                int
			StateUpdatedTimestamp string
			Dimensions            []struct{ Name, Value string }
			OKActions             []string
		} `json:"alarm"`
		CompositeAlarms []any
		Error           struct {
			Code, Message string
			Status        int
		} `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if res.Protocol != "smithy-rpc-v2-cbor" || e.mon.firstCaller().Protocol != "rpcv2Cbor" {
		t.Fatalf("protocol = %s / %s", res.Protocol, e.mon.firstCaller().Protocol)
	}
	a := res.Alarm
	if a.AlarmArn != "arn:aws:cloudwatch:ap-southeast-2:111111111111:alarm:RootLogin" || a.Threshold != 0.5 || a.Period != 60 ||
		a.StateUpdatedTimestamp != "2025-11-26T19:00:00.123000+00:00" || len(a.Dimensions) != 1 || a.OKActions == nil || res.CompositeAlarms == nil {
		t.Errorf("alarm = %+v, composite %v", a, res.CompositeAlarms)
	}
	// botocore sends X-Amzn-Query-Mode: true for this query-compatible service: the modeled 404.
	if res.Error.Code != "ResourceNotFound" || res.Error.Message != "Alarm nope not found" || res.Error.Status != 404 {
		t.Errorf("error = %+v", res.Error)
	}
	if got := e.mon.data[0].MetricData[0]; got.Timestamp == nil || got.Timestamp.UnixMilli() != 1764183607000 && got.Timestamp.UnixMilli() != 1764183607250 || *got.Value != 2.25 {
		t.Errorf("put-metric-data = %+v", got)
	}
	if !e.mon.alarms["RootLogin"].Dimensions[0].equal("Env", "prod") {
		t.Errorf("dimensions = %+v", e.mon.alarms["RootLogin"].Dimensions)
	}
}
