package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// serviceStat returns the Sum and SampleCount of an AWS/ service metric over the last hour (and
// the next, for clocks a little apart), summed over its datapoints, through GetMetricStatistics.
func serviceStat(t *testing.T, ctx context.Context, cc *cloudwatch.Client, namespace, name string, dims ...cwtypes.Dimension) (sum, count float64) {
	t.Helper()
	now := time.Now()
	out, err := cc.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String(namespace), MetricName: aws.String(name), Dimensions: dims,
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range out.Datapoints {
		sum += aws.ToFloat64(d.Sum)
		count += aws.ToFloat64(d.SampleCount)
	}
	return sum, count
}

func groupDim(group string) cwtypes.Dimension {
	return cwtypes.Dimension{Name: aws.String("LogGroupName"), Value: aws.String(group)}
}

// TestServiceMetricsOverTheWire: events put with the SDK show up in AWS/Logs IncomingLogEvents
// and IncomingBytes with their exact sums, per log group and for the account; a dead-man alarm
// (period 60, 1 evaluation period, missing data breaching) on a log group that receives nothing
// goes to ALARM by evaluation at the next minute boundary, and its action's publish shows up in
// AWS/SNS NumberOfMessagesPublished of the topic; when events arrive again it returns to OK. The
// same cycle on the README's 5-minute, 3-period alarm is TestCloudTrailStoppedAlarm (internal/app),
// on a fake clock.
func TestServiceMetricsOverTheWire(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	createTopic(t, s)
	const trailGroup, quietGroup = "CloudTrail/DefaultLogGroup", "CloudTrail/Stopped"
	for _, g := range []string{trailGroup, quietGroup} {
		if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
		if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s")}); err != nil {
			t.Fatal(err)
		}
	}
	// The alarm first, so that the wait for its evaluation overlaps the metric checks.
	_, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("CloudTrailStopped"), Namespace: aws.String("AWS/Logs"), MetricName: aws.String("IncomingLogEvents"),
		Dimensions: []cwtypes.Dimension{groupDim(quietGroup)}, Statistic: cwtypes.StatisticSum, Period: aws.Int32(60),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold,
		TreatMissingData: aws.String("breaching"), AlarmActions: []string{topicARN},
	})
	if err != nil {
		t.Fatal(err)
	}

	// Two batches: 3 events of 10, 20 and 30 bytes, then 2 of 5 bytes and "é" (2 bytes); each
	// event counts its UTF-8 bytes plus 26.
	batches := [][]string{
		{strings.Repeat("a", 10), strings.Repeat("b", 20), strings.Repeat("c", 30)},
		{strings.Repeat("d", 5), "é"},
	}
	wantEvents, wantBytes := 5.0, float64(10+20+30+5+2+5*26)
	for _, b := range batches {
		var evs []logtypes.InputLogEvent
		for _, m := range b {
			evs = append(evs, logtypes.InputLogEvent{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(m)})
		}
		if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(trailGroup), LogStreamName: aws.String("s"), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, group string // group "" is the account-wide metric
		sum, smpl   float64
	}{
		{"IncomingLogEvents", trailGroup, wantEvents, 2},
		{"IncomingBytes", trailGroup, wantBytes, 2},
		{"IncomingLogEvents", "", wantEvents, 2},
		{"IncomingBytes", "", wantBytes, 2},
		{"IncomingLogEvents", quietGroup, 0, 0},
	} {
		var dims []cwtypes.Dimension
		if c.group != "" {
			dims = append(dims, groupDim(c.group))
		}
		if sum, n := serviceStat(t, ctx, cc, "AWS/Logs", c.name, dims...); sum != c.sum || n != c.smpl {
			t.Errorf("%s of %q: Sum %v SampleCount %v, want %v %v", c.name, c.group, sum, n, c.sum, c.smpl)
		}
	}
	lm, err := cc.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/Logs")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lm.Metrics) != 4 {
		t.Errorf("ListMetrics AWS/Logs: %d metrics, want IncomingLogEvents and IncomingBytes, with and without LogGroupName", len(lm.Metrics))
	}

	// The quiet group's alarm: evaluated at the next minute boundary (at most a minute away).
	a, _ := waitState(t, ctx, cc, "CloudTrailStopped", cwtypes.StateValueAlarm, 75*time.Second)
	if !strings.Contains(aws.ToString(a.StateReason), "no datapoints were received") {
		t.Errorf("reason %q", aws.ToString(a.StateReason))
	}
	topic := cwtypes.Dimension{Name: aws.String("TopicName"), Value: aws.String(topicARN[strings.LastIndexByte(topicARN, ':')+1:])}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sum, n := serviceStat(t, ctx, cc, "AWS/SNS", "NumberOfMessagesPublished", topic)
		if sum == 1 && n == 1 {
			break
		}
		if time.Now().After(deadline) || sum > 1 {
			t.Fatalf("AWS/SNS NumberOfMessagesPublished of the alarm's topic: Sum %v SampleCount %v, want 1", sum, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if sum, n := serviceStat(t, ctx, cc, "AWS/SNS", "PublishSize", topic); sum <= 0 || n != 1 {
		t.Errorf("AWS/SNS PublishSize: Sum %v SampleCount %v", sum, n)
	}

	// Events arrive again: the evaluation after the minute that holds them returns the alarm to OK
	// (early evaluation only ever raises an alarm, so this waits for a minute boundary or two).
	if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(quietGroup), LogStreamName: aws.String("s"),
		LogEvents: []logtypes.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("resumed")}}}); err != nil {
		t.Fatal(err)
	}
	waitState(t, ctx, cc, "CloudTrailStopped", cwtypes.StateValueOk, 135*time.Second)
}
