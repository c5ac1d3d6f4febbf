package awsapi_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/trailwatch/trailwatch/internal/awsclient"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/trailwatch/trailwatch/internal/awsapi"
)

func sdkCreds(key, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, "")
}

func cwClient(e *testEnv, key, secret string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		BaseEndpoint: aws.String(e.srv.URL), Region: "eu-west-1",
		Credentials: sdkCreds(key, secret), RetryMaxAttempts: 1, HTTPClient: awsclient.HTTPClient(),
	})
}

func logsClient(e *testEnv, key, secret string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		BaseEndpoint: aws.String(e.srv.URL), Region: "us-east-1",
		Credentials: sdkCreds(key, secret), RetryMaxAttempts: 1, HTTPClient: awsclient.HTTPClient(),
	})
}

func snsClient(e *testEnv, key, secret string) *sns.Client {
	return sns.New(sns.Options{
		BaseEndpoint: aws.String(e.srv.URL), Region: "us-east-1",
		Credentials: sdkCreds(key, secret), RetryMaxAttempts: 1, HTTPClient: awsclient.HTTPClient(),
	})
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestSDKCloudWatchCBOR(t *testing.T) {
	e := newTestEnv(t, nil)
	var encodings sync.Map // operation path → Content-Encoding
	inner := e.srv.Config.Handler
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encodings.Store(r.URL.Path, r.Header.Get("Content-Encoding"))
		inner.ServeHTTP(w, r)
	})
	cw := cwClient(e, testAccessKey, testSecret)
	ctx := context.Background()

	_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String("RootLogin"),
		AlarmActions:       []string{"arn:aws:sns:eu-west-1:111111111111:alarms"},
		MetricName:         aws.String("RootAccountUsage"),
		Namespace:          aws.String("CloudTrailMetrics"),
		Statistic:          cwtypes.StatisticSum,
		Dimensions:         []cwtypes.Dimension{{Name: aws.String("Env"), Value: aws.String("prod")}, {Name: aws.String("Team"), Value: aws.String("sec")}},
		Period:             aws.Int32(300),
		EvaluationPeriods:  aws.Int32(1),
		Threshold:          aws.Float64(1.5),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData:   aws.String("notBreaching"),
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	got := e.mon.alarms["RootLogin"]
	if got.Threshold == nil || *got.Threshold != 1.5 || *got.Period != 300 || len(got.Dimensions) != 2 || got.Dimensions[1].Value != "sec" ||
		got.Statistic == nil || *got.Statistic != "Sum" || got.DatapointsToAlarm != nil {
		t.Errorf("decoded input = %+v", got)
	}
	id := e.mon.callers[0]
	if id.AccountID != testAccount || id.Region != "eu-west-1" || id.AccessKeyID != testAccessKey || id.Protocol != awsapi.ProtocolCBOR || id.RequestID == "" {
		t.Errorf("caller = %+v", id)
	}

	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"RootLogin"}})
	if err != nil {
		t.Fatalf("DescribeAlarms: %v", err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms = %+v", out)
	}
	a := out.MetricAlarms[0]
	if aws.ToString(a.AlarmArn) != "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:RootLogin" ||
		aws.ToFloat64(a.Threshold) != 1.5 || a.StateValue != cwtypes.StateValueInsufficientData ||
		!a.StateUpdatedTimestamp.Equal(time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC)) ||
		len(a.Dimensions) != 2 || aws.ToString(a.Dimensions[0].Name) != "Env" || len(a.OKActions) != 0 {
		t.Errorf("alarm = %+v", a)
	}

	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("x")})
	var nf *cwtypes.ResourceNotFound
	if !errors.As(err, &nf) || nf.ErrorCode() != "ResourceNotFound" || !strings.Contains(nf.ErrorMessage(), "nope") {
		t.Errorf("SetAlarmState error = %v", err)
	}

	// A body of ≥ 10 KiB is gzip-compressed by the SDK.
	var data []cwtypes.MetricDatum
	for i := range 200 {
		data = append(data, cwtypes.MetricDatum{
			MetricName: aws.String("Latency"), Value: aws.Float64(float64(i) + 0.25),
			Timestamp:  aws.Time(time.Date(2025, 11, 26, 19, 0, i%60, 0, time.UTC)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String(strings.Repeat("h", 40))}},
			Unit:       cwtypes.StandardUnitMilliseconds,
		})
	}
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: data}); err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	if enc, _ := encodings.Load("/service/GraniteServiceVersion20100801/operation/PutMetricData"); enc != "gzip" {
		t.Errorf("PutMetricData Content-Encoding = %q, want the SDK's gzip", enc)
	}
	pd := e.mon.data[0]
	if len(pd.MetricData) != 200 || *pd.MetricData[199].Value != 199.25 || !pd.MetricData[61].Timestamp.Equal(time.Date(2025, 11, 26, 19, 0, 1, 0, time.UTC)) {
		t.Errorf("PutMetricData decoded %d data, last %+v", len(pd.MetricData), pd.MetricData[199])
	}

	lm, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{MetricName: aws.String("Latency")})
	if err != nil || len(lm.Metrics) != 200 || aws.ToString(lm.Metrics[0].Namespace) != "App" {
		t.Errorf("ListMetrics = %v, %v", lm, err)
	}

	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"x"}})
	if code := apiCode(t, err); code != "InternalFailure" {
		t.Errorf("internal failure code = %q", code)
	}
	if strings.Contains(err.Error(), "database is locked") {
		t.Errorf("internal error leaked: %v", err)
	}
}

func TestSDKLogsJSON(t *testing.T) {
	e := newTestEnv(t, nil)
	cl := logsClient(e, testAccessKey, testSecret)
	ctx := context.Background()
	if _, err := cl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("CloudTrail/DefaultLogGroup")}); err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}
	_, err := cl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("CloudTrail/DefaultLogGroup")})
	var exists *logstypes.ResourceAlreadyExistsException
	if !errors.As(err, &exists) || exists.ErrorMessage() != "The specified log group already exists" {
		t.Errorf("second CreateLogGroup error = %v", err)
	}
	pl, err := cl.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String("CloudTrail/DefaultLogGroup"), LogStreamName: aws.String("s"),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(1764183600000), Message: aws.String(`{"eventName":"ConsoleLogin","x":"<&>` + "\u2028\x01" + `"}`)}},
	})
	if err != nil {
		t.Fatalf("PutLogEvents: %v", err)
	}
	if pl.RejectedLogEventsInfo == nil || aws.ToInt32(pl.RejectedLogEventsInfo.TooOldLogEventEndIndex) != 0 || pl.RejectedLogEventsInfo.TooNewLogEventStartIndex != nil {
		t.Errorf("PutLogEvents output = %+v", pl.RejectedLogEventsInfo)
	}
	if len(e.logs.events) != 1 || e.logs.events[0].Timestamp != 1764183600000 || e.logs.events[0].Message != `{"eventName":"ConsoleLogin","x":"<&>`+"\u2028\x01"+`"}` {
		t.Errorf("events = %+v", e.logs.events)
	}
	_, err = cl.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("missing"), LogStreamName: aws.String("s"),
		LogEvents: []logstypes.InputLogEvent{{Timestamp: aws.Int64(1), Message: aws.String("m")}}})
	var nf *logstypes.ResourceNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "The specified log group does not exist." {
		t.Errorf("PutLogEvents missing group error = %v", err)
	}
	if _, err := cl.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("CloudTrail/DefaultLogGroup"), FilterName: aws.String("Root"),
		FilterPattern: aws.String(`{ $.userIdentity.type = "Root" }`),
		MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"),
			MetricValue: aws.String("1"), DefaultValue: aws.Float64(0), Dimensions: map[string]string{"a": "$.b"}}},
	}); err != nil {
		t.Fatalf("PutMetricFilter: %v", err)
	}
	mf, err := cl.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{})
	if err != nil || len(mf.MetricFilters) != 1 || aws.ToFloat64(mf.MetricFilters[0].MetricTransformations[0].DefaultValue) != 0 ||
		mf.MetricFilters[0].MetricTransformations[0].DefaultValue == nil || mf.MetricFilters[0].MetricTransformations[0].Dimensions["a"] != "$.b" {
		t.Errorf("DescribeMetricFilters = %+v, %v", mf, err)
	}
	dg, err := cl.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(dg.LogGroups) != 1 || aws.ToInt64(dg.LogGroups[0].CreationTime) != 1764183600123 || dg.LogGroups[0].RetentionInDays != nil {
		t.Errorf("DescribeLogGroups = %+v, %v", dg, err)
	}
}

func TestSDKSNSQuery(t *testing.T) {
	e := newTestEnv(t, nil)
	c := snsClient(e, testAccessKey, testSecret)
	ctx := context.Background()
	ct, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms"), Attributes: map[string]string{"DisplayName": "Alarms & <stuff>"},
		Tags: []snstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	if aws.ToString(ct.TopicArn) != "arn:aws:sns:us-east-1:111111111111:alarms" {
		t.Errorf("TopicArn = %q", aws.ToString(ct.TopicArn))
	}
	ga, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: ct.TopicArn})
	if err != nil || ga.Attributes["DisplayName"] != "Alarms & <stuff>" || ga.Attributes["TopicArn"] != *ct.TopicArn {
		t.Errorf("GetTopicAttributes = %+v, %v", ga, err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:111111111111:nope")})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Topic does not exist" {
		t.Errorf("GetTopicAttributes missing = %v", err)
	}
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: ct.TopicArn, Message: aws.String("hello\nworld"), Subject: aws.String("s"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"attr1": {DataType: aws.String("String"), StringValue: aws.String("v1")},
			"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		}})
	if err != nil || aws.ToString(pub.MessageId) == "" {
		t.Fatalf("Publish = %+v, %v", pub, err)
	}
	p := e.sns.published[0]
	if p.Message != "hello\nworld" || p.MessageAttributes["attr1"].DataType != "String" || *p.MessageAttributes["attr1"].StringValue != "v1" ||
		string(p.MessageAttributes["bin"].BinaryValue) != "\x00\x01\x02\xff" {
		t.Errorf("published = %+v", p)
	}
	lt, err := c.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(lt.Topics) != 1 {
		t.Errorf("ListTopics = %+v, %v", lt, err)
	}
}

func TestSDKAuthErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"cbor unknown key", func() error {
			_, err := cwClient(e, "AKIDUNKNOWN", testSecret).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}, "InvalidClientTokenId"}, // the query code wins through x-amzn-query-error
		{"cbor bad secret", func() error {
			_, err := cwClient(e, testAccessKey, "wrong").DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
			return err
		}, "SignatureDoesNotMatch"},
		{"json unknown key", func() error {
			_, err := logsClient(e, "AKIDUNKNOWN", testSecret).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
			return err
		}, "UnrecognizedClientException"},
		{"json bad secret", func() error {
			_, err := logsClient(e, testAccessKey, "wrong").DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
			return err
		}, "InvalidSignatureException"},
		{"query unknown key", func() error {
			_, err := snsClient(e, "AKIDUNKNOWN", testSecret).ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}, "InvalidClientTokenId"},
		{"query bad secret", func() error {
			_, err := snsClient(e, testAccessKey, "wrong").ListTopics(ctx, &sns.ListTopicsInput{})
			return err
		}, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apiCode(t, tt.call()); got != tt.want {
				t.Errorf("code = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSDKOverTLS runs the three SDK clients against an HTTPS endpoint (HTTP/2 where negotiated):
// the signer's host canonicalisation and payload signing differ on TLS.
func TestSDKOverTLS(t *testing.T) {
	e := newTestEnv(t, nil)
	h := e.srv.Config.Handler
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	ctx := context.Background()
	creds := sdkCreds(testAccessKey, testSecret)
	cw := cloudwatch.New(cloudwatch.Options{BaseEndpoint: aws.String(tlsSrv.URL), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1, HTTPClient: awsclient.Wrap(tlsSrv.Client())})
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("tls"), Threshold: aws.Float64(1)}); err != nil {
		t.Errorf("CloudWatch over TLS: %v", err)
	}
	cl := cloudwatchlogs.New(cloudwatchlogs.Options{BaseEndpoint: aws.String(tlsSrv.URL), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1, HTTPClient: awsclient.Wrap(tlsSrv.Client())})
	if _, err := cl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("tls")}); err != nil {
		t.Errorf("Logs over TLS: %v", err)
	}
	sc := sns.New(sns.Options{BaseEndpoint: aws.String(tlsSrv.URL), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1, HTTPClient: awsclient.Wrap(tlsSrv.Client())})
	if _, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tls")}); err != nil {
		t.Errorf("SNS over TLS: %v", err)
	}
	if len(e.mon.callers) != 1 || len(e.logs.groups) != 1 || len(e.sns.topics) != 1 {
		t.Errorf("calls not served: %d alarms callers, %d groups, %d topics", len(e.mon.callers), len(e.logs.groups), len(e.sns.topics))
	}
}

// TestSDKConcurrent serves many clients at once (run with -race: shapes are cached and response
// buffers pooled across requests).
func TestSDKConcurrent(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx := context.Background()
	cw := cwClient(e, testAccessKey, testSecret)
	cl := logsClient(e, testAccessKey, testSecret)
	sc := snsClient(e, testAccessKey, testSecret)
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Threshold: aws.Float64(2)}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
				if err == nil && (len(out.MetricAlarms) != 1 || aws.ToFloat64(out.MetricAlarms[0].Threshold) != 2) {
					err = fmt.Errorf("DescribeAlarms = %+v", out.MetricAlarms)
				}
				if err == nil {
					_, err = cl.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
				}
				if err == nil {
					_, err = sc.ListTopics(ctx, &sns.ListTopicsInput{})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
