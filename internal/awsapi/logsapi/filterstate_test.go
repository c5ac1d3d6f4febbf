package logsapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// bodyRecorder is an HTTP client that keeps the last response body it passed on.
type bodyRecorder struct{ last []byte }

func (r *bodyRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	r.last, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(r.last))
	return resp, err
}

// TestDescribeDisabledFilter disables a metric filter over the wire (1,001 distinct dimension values
// in one PutLogEvents call) and describes it: the SDK still decodes AWS's shape, and the response
// carries trailwatch's state members for that filter only.
func TestDescribeDisabledFilter(t *testing.T) {
	e := newEnv(t)
	rec := &bodyRecorder{}
	c := cloudwatchlogs.New(e.client.Options(), func(o *cloudwatchlogs.Options) { o.HTTPClient = rec })
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ name, dim string }{{"calls", ""}, {"users", "$.user"}} {
		mt := types.MetricTransformation{MetricName: aws.String(f.name), MetricNamespace: aws.String("App"), MetricValue: aws.String("1")}
		if f.dim != "" {
			mt.Dimensions = map[string]string{"User": f.dim}
		}
		if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String(f.name),
			FilterPattern: aws.String(`{ $.user = * }`), MetricTransformations: []types.MetricTransformation{mt}}); err != nil {
			t.Fatal(err)
		}
	}
	var evs []types.InputLogEvent
	for i := range 1001 {
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String(fmt.Sprintf(`{"user":"u%d"}`, i))})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricFilters) != 2 || aws.ToString(out.MetricFilters[1].FilterName) != "users" {
		t.Fatalf("SDK decoded %+v", out.MetricFilters)
	}
	raw := string(rec.last)
	if strings.Count(raw, `"trailwatchFilterState":"DISABLED"`) != 1 || strings.Count(raw, `"trailwatchFilterStateReason":`) != 1 {
		t.Fatalf("response lacks the state of the disabled filter only: %s", raw)
	}
	// calls sorts before users, so users' members are the last ones.
	if users := strings.Index(raw, `"filterName":"users"`); users < 0 || strings.Index(raw, "trailwatchFilterState") < users {
		t.Fatalf("state members on the wrong filter: %s", raw)
	}
}

// TestDescribeLiveSince: every filter carries trailwatchLiveSince beside AWS's creationTime, and a
// filter disabled by its dimensions' cardinality and enabled again by an identical put carries the
// paused period too (trailwatch backfill reads them), while the SDK still decodes AWS's shape.
func TestDescribeLiveSince(t *testing.T) {
	e := newEnv(t)
	rec := &bodyRecorder{}
	c := cloudwatchlogs.New(e.client.Options(), func(o *cloudwatchlogs.Options) { o.HTTPClient = rec })
	ctx := context.Background()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	put := func() {
		t.Helper()
		mt := types.MetricTransformation{MetricName: aws.String("users"), MetricNamespace: aws.String("App"), MetricValue: aws.String("1"),
			Dimensions: map[string]string{"User": "$.user"}}
		if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String("users"),
			FilterPattern: aws.String(`{ $.user = * }`), MetricTransformations: []types.MetricTransformation{mt}}); err != nil {
			t.Fatal(err)
		}
	}
	describe := func() string {
		t.Helper()
		out, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
		if err != nil || len(out.MetricFilters) != 1 || aws.ToInt64(out.MetricFilters[0].CreationTime) != now.UnixMilli() {
			t.Fatalf("SDK decoded %+v, %v", out, err)
		}
		return string(rec.last)
	}
	put()
	ms := fmt.Sprint(now.UnixMilli())
	if raw := describe(); !strings.Contains(raw, `"trailwatchLiveSince":`+ms) || strings.Contains(raw, "trailwatchPaused") {
		t.Fatalf("new filter: %s", raw)
	}
	var evs []types.InputLogEvent
	for i := range 1001 {
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String(fmt.Sprintf(`{"user":"u%d"}`, i))})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	put() // enables it again
	raw := describe()
	if !strings.Contains(raw, `"trailwatchLiveSince":`+ms) || !strings.Contains(raw, `"trailwatchPausedFrom":`+ms) ||
		!strings.Contains(raw, `"trailwatchPausedUntil":`+ms) || strings.Contains(raw, "trailwatchFilterState") {
		t.Fatalf("re-enabled filter: %s", raw)
	}
}
