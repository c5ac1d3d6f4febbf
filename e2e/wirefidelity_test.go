package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// fidelityWant is what botocore must decode from the calls of testdata/wire_fidelity.py, in every
// protocol: AWS's answers as recorded in localstack's AWS-validated snapshots
// (test_get_metric_data_different_units_no_unit_in_query, test_label_generation,
// test_put_metric_alarm, test_set_alarm_invalid_input, test_store_tags), with each number's Python
// type: doubles decode as float, integers as int. DescribeAlarms' LogAlarms is null and absent from
// the keys because botocore 1.43's model predates it (aws-sdk-go-v2 checks it below).
const fidelityWant = `{
 "DescribeAlarms": {"CompositeAlarms": [], "EvaluationPeriods": ["int", 1], "LogAlarms": null, "Period": ["int", 60],
  "RequestIdHeader": true, "StateReason": "Unchecked: Initial alarm creation", "StateUpdatedTimestamp": "datetime",
  "Threshold": ["float", 30.0], "keys": ["CompositeAlarms", "MetricAlarms"]},
 "GetMetricData": {"Messages": [], "MetricDataResults": [
  {"Id": "m1", "Label": "m-test", "StatusCode": "Complete", "Timestamps": ["datetime"], "Values": [["float", 60000.0]],
   "Messages": [{"Code": "MultipleUnits", "Value": "Multiple units returned: '[Milliseconds, Seconds]'"}]},
  {"Id": "sum60", "Label": "metric1 Sum 60", "StatusCode": "Complete", "Timestamps": ["datetime"], "Values": [["float", 7.0]]},
  {"Id": "min30", "Label": "metric1 Minimum 30", "StatusCode": "Complete", "Timestamps": ["datetime"], "Values": [["float", 7.0]]}]},
 "GetMetricStatistics": {"Label": "both", "Datapoints": [
  {"Maximum": ["float", 20.0], "SampleCount": ["float", 9.0], "Sum": ["float", 72.0], "Timestamp": "datetime", "Unit": "Count"}]},
 "TagResource": [], "UntagResource": [],
 "ListTagsForResource": [{"Key": "k", "Value": "v"}],
 "ListTagsOfDeletedAlarm": [],
 "SetAlarmStateError": {"Code": "ResourceNotFound", "HasMessage": false}
}`

// fidelityLogsWant is the CloudWatch Logs part, run with the JSON pass: defaultValue is a Double
// and decodes as a float; ListLogGroups' pattern is the API reference's example form.
const fidelityLogsWant = `{"defaultValue": ["float", 0.0], "ListLogGroups": [
 {"logGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/fidelity", "logGroupClass": "STANDARD", "logGroupName": "/aws/lambda/fidelity"},
 {"logGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:/fidelity/json", "logGroupClass": "STANDARD", "logGroupName": "/fidelity/json"}]}`

// TestWireFidelityBotocore runs the same calls through botocore in each of CloudWatch's three
// protocols (awsQuery, awsJson 1.0, Smithy RPC v2 CBOR; Logs in awsJson 1.1) and compares the
// decoded answers, number types included, with AWS's.
func TestWireFidelityBotocore(t *testing.T) {
	python := corpus.Python(t, "botocore")
	s := startServer(t, "")
	for _, proto := range []string{"query", "json", "smithy-rpc-v2-cbor"} {
		t.Run(proto, func(t *testing.T) {
			cmd := exec.Command(python, "testdata/wire_fidelity.py", s.URL, proto)
			cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey,
				"AWS_DEFAULT_REGION="+testRegion, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("wire_fidelity.py %s: %v\n%s", proto, err, stderr.String())
			}
			var got, want map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("output %s: %v", raw, err)
			}
			if err := json.Unmarshal([]byte(fidelityWant), &want); err != nil {
				t.Fatal(err)
			}
			want["protocol"] = proto
			if proto == "json" {
				var l any
				if err := json.Unmarshal([]byte(fidelityLogsWant), &l); err != nil {
					t.Fatal(err)
				}
				want["Logs"] = l
			}
			for k := range want {
				if !reflect.DeepEqual(got[k], want[k]) {
					g, _ := json.Marshal(got[k])
					w, _ := json.Marshal(want[k])
					t.Errorf("%s:\n got %s\nwant %s", k, g, w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected %s in the output", k)
				}
			}
		})
	}
}

// TestWireFidelitySDK checks the same answers through aws-sdk-go-v2 (RPC v2 CBOR for CloudWatch,
// awsJson 1.1 for Logs): a result without messages has none, labels say what differs,
// DescribeAlarms carries the LogAlarms list, TagResource succeeds, the tags of a deleted alarm are
// an empty list, and an error without a message has none.
func TestWireFidelitySDK(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	cw := cwClient(s)
	ns := "Fidelity/sdk"
	now := time.Now().UTC().Truncate(time.Minute)
	at := now.Add(-2 * time.Minute)
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(ns), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("m-test"), Timestamp: aws.Time(at), Value: aws.Float64(60000), Unit: cwtypes.StandardUnitMilliseconds},
		{MetricName: aws.String("m-test"), Timestamp: aws.Time(at), Value: aws.Float64(60), Unit: cwtypes.StandardUnitSeconds},
		{MetricName: aws.String("metric1"), Timestamp: aws.Time(at), Value: aws.Float64(7), Unit: cwtypes.StandardUnitSeconds},
	}}); err != nil {
		t.Fatal(err)
	}
	q := func(id, name, stat string, period int32) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name)}, Period: aws.Int32(period), Stat: aws.String(stat)}}
	}
	gmd, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-10 * time.Minute)), EndTime: aws.Time(now.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{q("m1", "m-test", "Sum", 60), q("sum", "metric1", "Sum", 60), q("max", "metric1", "Maximum", 60)}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range gmd.MetricDataResults {
		line := aws.ToString(r.Id) + "[" + aws.ToString(r.Label) + "]"
		for _, v := range r.Values {
			line += " " + strconv.FormatFloat(v, 'f', -1, 64)
		}
		if r.Messages != nil {
			line += " messages:"
			for _, m := range r.Messages {
				line += " " + aws.ToString(m.Code) + "=" + aws.ToString(m.Value)
			}
		}
		got = append(got, line)
	}
	want := []string{"m1[m-test] 60000 messages: MultipleUnits=Multiple units returned: '[Milliseconds, Seconds]'", "sum[metric1 Sum] 7", "max[metric1 Maximum] 7"}
	if !reflect.DeepEqual(got, want) || gmd.Messages == nil {
		t.Errorf("GetMetricData:\n got %q (response messages %v)\nwant %q", got, gmd.Messages, want)
	}

	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("fidelity"), MetricName: aws.String("metric1"),
		Namespace: aws.String(ns), Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(30), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold}); err != nil {
		t.Fatal(err)
	}
	da, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"fidelity"}})
	if err != nil {
		t.Fatal(err)
	}
	if da.LogAlarms == nil || len(da.LogAlarms) != 0 || da.CompositeAlarms == nil || len(da.MetricAlarms) != 1 || aws.ToFloat64(da.MetricAlarms[0].Threshold) != 30 {
		t.Errorf("DescribeAlarms = %+v", da)
	}
	arn := da.MetricAlarms[0].AlarmArn
	if _, err := cw.TagResource(ctx, &cloudwatch.TagResourceInput{ResourceARN: arn, Tags: []cwtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"fidelity"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := cw.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: arn})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("ListTagsForResource of the deleted alarm = %+v, %v; want an empty list", tags, err)
	}
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("no-such-alarm"), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFound" || ae.ErrorMessage() != "" {
		t.Errorf("SetAlarmState of an unknown alarm: %v", err)
	}

	lc := logsClient(s)
	for _, g := range []string{"/aws/lambda/fidelity", "/fidelity/sdk", "other"} {
		if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	lg, err := lc.ListLogGroups(ctx, &cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("^/aws/lambda|fidelity/sdk")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range lg.LogGroups {
		names = append(names, aws.ToString(g.LogGroupName))
	}
	if strings.Join(names, " ") != "/aws/lambda/fidelity /fidelity/sdk" {
		t.Errorf("ListLogGroups = %v", names)
	}
}
