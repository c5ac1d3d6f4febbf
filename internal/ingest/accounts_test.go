package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// TestManyAccounts delivers root sign-ins from several AWS accounts and regions into one log group:
// each lands in its own <account>_CloudTrail_<region> stream, a metric filter with
// recipientAccountId and awsRegion dimensions counts them per account and region, and another
// trailwatch account sees none of it.
func TestManyAccounts(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, func() time.Time { return now })
	ctx := context.Background()
	if err := e.logs.PutMetricFilter(ctx, testScope, logs.PutMetricFilterInput{LogGroupName: "ct", FilterName: "root-by-account", FilterPattern: cisRoot,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootByAccount", MetricNamespace: "CloudTrailMetrics", MetricValue: "1",
			Dimensions: map[string]string{"Account": "$.recipientAccountId", "Region": "$.awsRegion"}}}}); err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]int{{"111111111111", "us-east-1"}: 3, {"222222222222", "us-east-1"}: 1, {"222222222222", "eu-west-1"}: 2}
	var body []byte
	body = append(body, `{"Records":[`...)
	i := 0
	for k, n := range want {
		for range n {
			if i > 0 {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"eventTime":%q,"eventID":"e%d","recipientAccountId":%q,"awsRegion":%q,"userIdentity":{"type":"Root"},"eventType":"AwsConsoleSignIn"}`,
				now.Add(-time.Minute).Format(time.RFC3339), i, k[0], k[1])
			i++
		}
	}
	body = append(body, "]}"...)
	res, err := cloudtrail.DecodeObject("x.json", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sink.Deliver(ctx, e.dest, res); err != nil {
		t.Fatal(err)
	}
	for k, n := range want {
		st, err := e.db.GetLogStream(ctx, testScope, "ct", k[0]+"_CloudTrail_"+k[1])
		if err != nil || st.StoredBytes == 0 {
			t.Fatalf("stream of %v: %+v %v", k, st, err)
		}
		m := metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootByAccount",
			Dimensions: []metrics.Dimension{{Name: "Account", Value: k[0]}, {Name: "Region", Value: k[1]}}}
		aggs, err := e.db.QueryAggregates(ctx, metrics.Scope(testScope), m, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, a := range aggs {
			sum += a.Sum
		}
		if sum != float64(n) {
			t.Errorf("%v: sum %v, want %d", k, sum, n)
		}
	}
	other := metrics.Scope{AccountID: "999999999999", Region: "us-east-1"}
	aggs, err := e.db.QueryAggregates(ctx, other, metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(aggs) != 0 {
		t.Fatalf("another trailwatch account sees %v %v", aggs, err)
	}
	if _, err := e.db.GetLogGroup(ctx, logs.Scope(other), "ct"); err == nil {
		t.Fatal("another trailwatch account sees the log group")
	}
}
