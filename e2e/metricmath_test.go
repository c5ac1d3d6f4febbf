package e2e

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

func mathMetricStat(name string) *cwtypes.MetricStat {
	return &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String(name)},
		Period: aws.Int32(60), Stat: aws.String("Sum")}
}

// Metric math through aws-sdk-go-v2: GetMetricData evaluates an expression over two metrics (the
// error rate of the User Guide), labels it, refuses a bad expression with a ValidationError, and an
// alarm on an expression reaches ALARM at the next regular evaluation with the expression's value in
// its reason and StateReasonData.
func TestMetricMathSDK(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	cc := cwClient(s)
	at := time.Now().UTC().Truncate(time.Minute)
	if _, err := cc.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Errors"), Value: aws.Float64(5), Timestamp: aws.Time(at)},
		{MetricName: aws.String("Requests"), Value: aws.Float64(20), Timestamp: aws.Time(at)},
	}}); err != nil {
		t.Fatal(err)
	}
	// The alarm first, so that its regular evaluation runs while GetMetricData is checked.
	if _, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("ErrorsDoubled"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(10),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
		Metrics: []cwtypes.MetricDataQuery{
			{Id: aws.String("m1"), MetricStat: mathMetricStat("Errors"), ReturnData: aws.Bool(false)},
			{Id: aws.String("e1"), Expression: aws.String("m1*2"), Label: aws.String("Errors doubled"), ReturnData: aws.Bool(true)},
		},
	}); err != nil {
		t.Fatal(err)
	}

	out, err := cc.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(at.Add(-5 * time.Minute)), EndTime: aws.Time(at.Add(5 * time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("errors"), MetricStat: mathMetricStat("Errors"), ReturnData: aws.Bool(false)},
			{Id: aws.String("requests"), MetricStat: mathMetricStat("Requests"), ReturnData: aws.Bool(false)},
			{Id: aws.String("rate"), Expression: aws.String("100*errors/requests"), Label: aws.String("Error rate")},
			{Id: aws.String("e2"), Expression: aws.String("FILL(METRICS(), 0)")},
			{Id: aws.String("div"), Expression: aws.String("requests/(errors-5)")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.MetricDataResults {
		line := aws.ToString(r.Id) + "[" + aws.ToString(r.Label) + "]"
		if n := len(r.Values); n > 0 {
			line += " " + r.Timestamps[0].UTC().Format("15:04") + "=" + strconv.FormatFloat(r.Values[0], 'g', -1, 64)
		}
		for _, m := range r.Messages {
			line += " {" + aws.ToString(m.Code) + ": " + aws.ToString(m.Value) + "}"
		}
		got = append(got, line)
	}
	want := []string{"rate[Error rate] " + at.Format("15:04") + "=25", "e2[Errors] " + at.Add(4*time.Minute).Format("15:04") + "=0",
		"e2[Requests] " + at.Add(4*time.Minute).Format("15:04") + "=0",
		"div[div] {ArithmeticError: One or more data-points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)}"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("GetMetricData:\n got %q\nwant %q", got, want)
	}

	_, err = cc.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(at.Add(-5 * time.Minute)), EndTime: aws.Time(at),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("e1 + 1")}},
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" ||
		ae.ErrorMessage() != "The expressions of MetricDataQueries depend on each other in a cycle: e1 -> e1." {
		t.Errorf("cycle: %v", err)
	}

	a, _ := waitState(t, ctx, cc, "ErrorsDoubled", cwtypes.StateValueAlarm, 80*time.Second)
	if r := aws.ToString(a.StateReason); r != "Threshold Crossed: 1 datapoint [10.0 ("+at.Format("02/01/06 15:04:05")+")] was greater than or equal to the threshold (10.0)." {
		t.Errorf("StateReason %q", r)
	}
	if d := aws.ToString(a.StateReasonData); !strings.Contains(d, `"evaluatedDatapoints":[{"timestamp":"`+at.Format("2006-01-02T15:04:05.000+0000")+`","value":10.0}]`) {
		t.Errorf("StateReasonData %s", d)
	}
	if len(a.Metrics) != 2 || aws.ToString(a.Metrics[1].Expression) != "m1*2" {
		t.Errorf("DescribeAlarms Metrics %+v", a.Metrics)
	}
}

// TestMetricMathCLI runs GetMetricData with an expression through each installed aws CLI (one
// server, one metric per CLI).
func TestMetricMathCLI(t *testing.T) {
	s := startServer(t, "")
	at := time.Now().UTC().Truncate(time.Minute)
	for _, major := range []string{"v2", "v1"} {
		t.Run(major, func(t *testing.T) {
			c := findCLI(t, major)
			metric := "Errors" + major
			c.run(t, s, "cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name", metric, "--value", "3",
				"--timestamp", at.Format(time.RFC3339))
			var out struct {
				MetricDataResults []struct {
					Id, Label, StatusCode string
					Values                []float64
				}
			}
			decode(t, c.run(t, s, "cloudwatch", "get-metric-data",
				"--start-time", at.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", at.Add(time.Minute).Format(time.RFC3339),
				"--metric-data-queries", `[{"Id":"m1","MetricStat":{"Metric":{"Namespace":"App","MetricName":"`+metric+`"},"Period":60,"Stat":"Sum"},"ReturnData":false},`+
					`{"Id":"e1","Expression":"IF(m1 > 2, m1 * 10, 0)"}]`), &out)
			if len(out.MetricDataResults) != 1 || out.MetricDataResults[0].Id != "e1" || out.MetricDataResults[0].Label != "e1" ||
				len(out.MetricDataResults[0].Values) != 1 || out.MetricDataResults[0].Values[0] != 30 {
				t.Errorf("get-metric-data: %+v", out)
			}
			_, errOut, code := c.try(t, s, "cloudwatch", "get-metric-data",
				"--start-time", at.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", at.Format(time.RFC3339),
				"--metric-data-queries", `[{"Id":"e1","Expression":"LAMBDA(\"fn\")"}]`)
			if code == 0 || !strings.Contains(errOut, "ValidationError") || !strings.Contains(errOut, "The function LAMBDA is not supported by trailwatch: it needs AWS Lambda") {
				t.Errorf("refused function: exit %d %s", code, errOut)
			}
		})
	}
}
