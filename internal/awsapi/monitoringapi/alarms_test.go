package monitoringapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/monitoringapi"
	"github.com/trailwatch/trailwatch/internal/javafmt"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

// newAlarmEnv serves the monitoring service with the alarm operations over SQLite and runs the
// scheduler; it returns the server URL.
func newAlarmEnv(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	msvc := metrics.NewService(db, nil)
	asvc, err := alarm.NewService(ctx, db, msvc, nil)
	if err != nil {
		t.Fatal(err)
	}
	asvc.OnError = func(err error) { t.Errorf("alarm evaluation: %v", err) }
	done := make(chan struct{})
	go func() { asvc.Run(ctx); close(done) }()
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:    []*awsapi.Service{monitoringapi.NewService(msvc, monitoringapi.AlarmOperations(msvc, asvc))},
		Credentials: creds{key1: {secret1, account1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		db.Close()
	})
	return srv.URL
}

// send signs and sends a raw request (the protocols no SDK here speaks: awsJson 1.0 and raw query).
func send(t *testing.T, base, contentType string, headers map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key1, SecretAccessKey: secret1},
		req, hex.EncodeToString(sum[:]), "monitoring", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func jsonOp(t *testing.T, base, op string, queryMode bool, body string) (int, http.Header, string) {
	h := map[string]string{"X-Amz-Target": "GraniteServiceVersion20100801." + op}
	if queryMode {
		h["X-Amzn-Query-Mode"] = "true"
	}
	return send(t, base, "application/x-amz-json-1.0", h, body)
}

// TestAlarmsJSON10 drives the alarm operations over awsJson 1.0, the third protocol CloudWatch accepts.
func TestAlarmsJSON10(t *testing.T) {
	base := newAlarmEnv(t)
	st, _, body := jsonOp(t, base, "PutMetricAlarm", false, `{"AlarmName":"root","MetricName":"RootAccountUsage","Namespace":"CloudTrailMetrics",
		"Statistic":"Sum","Period":300,"EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold",
		"AlarmActions":["arn:aws:sns:us-east-1:111111111111:t"],"Tags":[{"Key":"k","Value":"v"}]}`)
	if st != 200 {
		t.Fatalf("PutMetricAlarm: %d %s", st, body)
	}
	st, _, body = jsonOp(t, base, "DescribeAlarms", false, `{}`)
	var out struct {
		MetricAlarms    []map[string]any
		CompositeAlarms []any
	}
	if err := json.Unmarshal([]byte(body), &out); st != 200 || err != nil {
		t.Fatalf("DescribeAlarms: %d %s", st, body)
	}
	if out.CompositeAlarms == nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms body %s", body)
	}
	m := out.MetricAlarms[0]
	if _, ok := m["StateUpdatedTimestamp"].(float64); !ok || m["StateValue"] != "INSUFFICIENT_DATA" || m["StateReason"] != "Unchecked: Initial alarm creation" {
		t.Errorf("alarm %v", m)
	}
	for _, absent := range []string{"AlarmDescription", "Unit", "TreatMissingData", "DatapointsToAlarm", "StateReasonData"} {
		if _, ok := m[absent]; ok {
			t.Errorf("%s present in %v", absent, m)
		}
	}
	if d, ok := m["Dimensions"].([]any); !ok || len(d) != 0 {
		t.Errorf("Dimensions %v", m["Dimensions"])
	}

	// ResourceNotFound: 400 without query mode, 404 with it, and the query code in x-amzn-query-error.
	for _, qm := range []bool{false, true} {
		st, hdr, body := jsonOp(t, base, "SetAlarmState", qm, `{"AlarmName":"nope","StateValue":"OK","StateReason":"x"}`)
		want := 400
		if qm {
			want = 404
		}
		if st != want || hdr.Get("x-amzn-query-error") != "ResourceNotFound;Sender" || !strings.Contains(body, "ResourceNotFound") {
			t.Errorf("query mode %v: %d %v %s", qm, st, hdr.Get("x-amzn-query-error"), body)
		}
	}
	st, _, body = jsonOp(t, base, "PutMetricAlarm", false, `{"AlarmName":"x","MetricName":"m","Namespace":"n","Statistic":"Sum",
		"Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":3,"Threshold":1,"ComparisonOperator":"GreaterThanThreshold"}`)
	if st != 400 || !strings.Contains(body, `"message":"DatapointsToAlarm must be less than or equal to EvaluationPeriods"`) ||
		!strings.Contains(body, "ValidationException") {
		t.Errorf("M > N: %d %s", st, body)
	}
	st, _, body = jsonOp(t, base, "DescribeAlarmHistory", false, `{"AlarmName":"root"}`)
	if st != 200 || !strings.Contains(body, `"HistorySummary":"Alarm \"root\" created"`) {
		t.Errorf("history: %d %s", st, body)
	}
}

// TestAlarmsQueryXML checks the awsQuery rendering: the three lists present when empty (LogAlarms
// too, as AWS sends it), the Result wrapper, and ResourceNotFound as a 404.
func TestAlarmsQueryXML(t *testing.T) {
	base := newAlarmEnv(t)
	form := url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}}
	st, _, body := send(t, base, "application/x-www-form-urlencoded; charset=utf-8", nil, form.Encode())
	if st != 200 || !strings.Contains(body, "<DescribeAlarmsResult><CompositeAlarms/><MetricAlarms/><LogAlarms/></DescribeAlarmsResult>") {
		t.Errorf("DescribeAlarms: %d %s", st, body)
	}
	form = url.Values{"Action": {"SetAlarmState"}, "Version": {"2010-08-01"}, "AlarmName": {"nope"}, "StateValue": {"OK"}, "StateReason": {"x"}}
	st, _, body = send(t, base, "application/x-www-form-urlencoded; charset=utf-8", nil, form.Encode())
	if st != 404 || !strings.Contains(body, "<Code>ResourceNotFound</Code>") {
		t.Errorf("SetAlarmState unknown: %d %s", st, body)
	}
}

// TestSDKPutMetricDataTriggersAlarm: over RPCv2 CBOR, a PutMetricData datapoint moves a Sum >= alarm to
// ALARM without waiting for the minute (the early evaluation), and DescribeAlarmsForMetric finds it.
func TestSDKPutMetricDataTriggersAlarm(t *testing.T) {
	base := newAlarmEnv(t)
	c := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(base), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key1, SecretAccessKey: secret1}, nil
		})})
	ctx := context.Background()
	_, err := c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), MetricName: aws.String("Count"),
		Namespace: aws.String("App"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(2), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("h1")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Count"), Value: aws.Float64(2), Dimensions: []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("h1")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		out, err := c.DescribeAlarmsForMetric(ctx, &cloudwatch.DescribeAlarmsForMetricInput{MetricName: aws.String("Count"),
			Namespace: aws.String("App"), Dimensions: []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("h1")}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == cwtypes.StateValueAlarm {
			if !bytes.Contains([]byte(aws.ToString(out.MetricAlarms[0].StateReason)), []byte("was greater than or equal to the threshold (2.0)")) {
				t.Errorf("reason %q", aws.ToString(out.MetricAlarms[0].StateReason))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alarm not in ALARM: %+v", out.MetricAlarms)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMetricMathAlarmRefused: metric math is not evaluated yet, so PutMetricAlarm (awsQuery, as the
// aws CLI sends it) answers a ValidationError for an alarm whose returned query is an expression and
// stores nothing; the same Metrics list returning its MetricStat is accepted.
// PutMetricAlarm over awsQuery accepts an alarm watching a metric math expression (issue 18 lifted
// the refusal) and refuses a bad expression with a ValidationError.
func TestMetricMathAlarmOverQuery(t *testing.T) {
	base := newAlarmEnv(t)
	put := func(name, expr string, returnStat bool) (int, string) {
		form := url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}, "AlarmName": {name},
			"EvaluationPeriods": {"1"}, "Threshold": {"1"}, "ComparisonOperator": {"GreaterThanOrEqualToThreshold"},
			"Metrics.member.1.Id":                           {"m1"},
			"Metrics.member.1.MetricStat.Metric.Namespace":  {"CloudTrailMetrics"},
			"Metrics.member.1.MetricStat.Metric.MetricName": {"RootAccountUsage"},
			"Metrics.member.1.MetricStat.Period":            {"300"},
			"Metrics.member.1.MetricStat.Stat":              {"Sum"},
			"Metrics.member.1.ReturnData":                   {strconv.FormatBool(returnStat)},
			"Metrics.member.2.Id":                           {"e1"},
			"Metrics.member.2.Expression":                   {expr},
			"Metrics.member.2.ReturnData":                   {strconv.FormatBool(!returnStat)},
		}
		st, _, body := send(t, base, "application/x-www-form-urlencoded; charset=utf-8", nil, form.Encode())
		return st, body
	}
	if st, body := put("math", "m1*2", false); st != 200 {
		t.Errorf("returned expression: %d %s", st, body)
	}
	st, body := put("bad", "m1*", false)
	if st != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") ||
		!strings.Contains(body, "<Message>Invalid metrics list: the expression of Id e1 in Metrics is not a valid metric math expression: Unexpected end of expression at position 4.</Message>") {
		t.Errorf("bad expression: %d %s", st, body)
	}
	if st, body := put("stat", "m1*2", true); st != 200 {
		t.Errorf("returned MetricStat: %d %s", st, body)
	}
	form := url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}}
	st, _, body = send(t, base, "application/x-www-form-urlencoded; charset=utf-8", nil, form.Encode())
	if st != 200 || strings.Contains(body, "<AlarmName>bad</AlarmName>") || !strings.Contains(body, "<AlarmName>math</AlarmName>") ||
		!strings.Contains(body, "<AlarmName>stat</AlarmName>") || !strings.Contains(body, "<Expression>m1*2</Expression>") {
		t.Errorf("DescribeAlarms: %d %s", st, body)
	}
}

// TestTaggingQueryResultWrapper: over awsQuery, TagResource and UntagResource answer with the
// empty result element of their modeled output (<TagResourceResult/>), which botocore's query
// parser looks up (KeyError: 'TagResourceResult' without it); ListTagsForResource of the alarm once
// deleted answers an empty list.
func TestTaggingQueryResultWrapper(t *testing.T) {
	base := newAlarmEnv(t)
	post := func(v url.Values) (int, string) {
		v.Set("Version", "2010-08-01")
		st, _, body := send(t, base, "application/x-www-form-urlencoded; charset=utf-8", nil, v.Encode())
		return st, body
	}
	st, body := post(url.Values{"Action": {"PutMetricAlarm"}, "AlarmName": {"a"}, "MetricName": {"m"}, "Namespace": {"n"},
		"Statistic": {"Sum"}, "Period": {"60"}, "EvaluationPeriods": {"1"}, "Threshold": {"1"}, "ComparisonOperator": {"GreaterThanThreshold"}})
	if st != 200 {
		t.Fatalf("PutMetricAlarm: %d %s", st, body)
	}
	arn := "arn:aws:cloudwatch:us-east-1:" + account1 + ":alarm:a"
	tests := []struct {
		form url.Values
		want string
	}{
		{url.Values{"Action": {"TagResource"}, "ResourceARN": {arn}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}},
			"<TagResourceResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><TagResourceResult/><ResponseMetadata>"},
		{url.Values{"Action": {"ListTagsForResource"}, "ResourceARN": {arn}},
			"<ListTagsForResourceResult><Tags><member><Key>k</Key><Value>v</Value></member></Tags></ListTagsForResourceResult>"},
		{url.Values{"Action": {"UntagResource"}, "ResourceARN": {arn}, "TagKeys.member.1": {"k"}},
			"<UntagResourceResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><UntagResourceResult/><ResponseMetadata>"},
		{url.Values{"Action": {"TagResource"}, "ResourceARN": {arn}, "Tags.member.1.Key": {"k2"}, "Tags.member.1.Value": {"v2"}},
			"<TagResourceResult/>"},
		{url.Values{"Action": {"DeleteAlarms"}, "AlarmNames.member.1": {"a"}}, "<DeleteAlarmsResponse"},
		{url.Values{"Action": {"ListTagsForResource"}, "ResourceARN": {arn}}, "<ListTagsForResourceResult><Tags/></ListTagsForResourceResult>"},
	}
	for _, tt := range tests {
		st, body := post(tt.form)
		if st != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s\nwant it to contain %s", tt.form.Get("Action"), st, body, tt.want)
		}
	}
}

// TestGetMetricDataJSON checks GetMetricData's awsJson 1.0 body against the shape of AWS's
// recorded answers: the response's Messages list is always there, a result's Messages only when it
// has one (MultipleUnits), values are doubles ("60000.0"), timestamps epoch seconds as doubles.
func TestGetMetricDataJSON(t *testing.T) {
	base := newAlarmEnv(t)
	now := time.Now().UTC().Truncate(time.Minute)
	st, _, body := jsonOp(t, base, "PutMetricData", false, `{"Namespace":"App","MetricData":[
		{"MetricName":"m","Value":60000,"Unit":"Milliseconds","Timestamp":`+strconv.FormatInt(now.Unix()-60, 10)+`},
		{"MetricName":"m","Value":60,"Unit":"Seconds","Timestamp":`+strconv.FormatInt(now.Unix()-60, 10)+`}]}`)
	if st != 200 {
		t.Fatalf("PutMetricData: %d %s", st, body)
	}
	q := func(id, unit string) string {
		u := ""
		if unit != "" {
			u = `,"Unit":"` + unit + `"`
		}
		return `{"Id":"` + id + `","MetricStat":{"Metric":{"Namespace":"App","MetricName":"m"},"Period":60,"Stat":"Sum"` + u + `}}`
	}
	st, _, body = jsonOp(t, base, "GetMetricData", false, `{"StartTime":`+strconv.FormatInt(now.Unix()-300, 10)+
		`,"EndTime":`+strconv.FormatInt(now.Unix(), 10)+`,"MetricDataQueries":[`+q("any", "")+`,`+q("sec", "Seconds")+`]}`)
	if st != 200 {
		t.Fatalf("GetMetricData: %d %s", st, body)
	}
	ts := `[` + javafmt.Double(float64(now.Unix()-60)) + `]` // e.g. [1.79654766E9]
	want := `{"MetricDataResults":[` +
		`{"Id":"any","Label":"m","Timestamps":` + ts + `,"Values":[60000.0],"StatusCode":"Complete",` +
		`"Messages":[{"Code":"MultipleUnits","Value":"Multiple units returned: '[Milliseconds, Seconds]'"}]},` +
		`{"Id":"sec","Label":"m","Timestamps":` + ts + `,"Values":[60.0],"StatusCode":"Complete"}],"Messages":[]}`
	if body != want {
		t.Errorf("GetMetricData body\n got %s\nwant %s", body, want)
	}
}
