package logsapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TestListLogGroups drives ListLogGroups through aws-sdk-go-v2. The pattern rules are the API
// reference's: "^" matches by prefix, a plain string anywhere and case sensitively, "|" separates
// alternatives ("^/aws/lambda|discovery", the reference's example), "." is a wildcard.
func TestListLogGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, g := range []struct{ name, class string }{
		{"/aws/lambda/a", ""}, {"/aws/lambda/b", ""}, {"app/discovery-x", "INFREQUENT_ACCESS"},
		{"CloudTrail/DefaultLogGroup", ""}, {"/aws/lambdaX", ""},
	} {
		in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g.name)}
		if g.class != "" {
			in.LogGroupClass = types.LogGroupClass(g.class)
		}
		if _, err := e.client.CreateLogGroup(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		in    cloudwatchlogs.ListLogGroupsInput
		want  string
		pages int
	}{
		{"all", cloudwatchlogs.ListLogGroupsInput{}, "/aws/lambda/a /aws/lambda/b /aws/lambdaX CloudTrail/DefaultLogGroup app/discovery-x", 1},
		{"prefix", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("^/aws/lambda/")}, "/aws/lambda/a /aws/lambda/b", 1},
		{"alternatives", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("^/aws/lambda/|discovery")}, "/aws/lambda/a /aws/lambda/b app/discovery-x", 1},
		{"substring", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("Trail")}, "CloudTrail/DefaultLogGroup", 1},
		{"case sensitive", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("trail")}, "", 1},
		{"prefix anchors", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("^discovery")}, "", 1},
		{"wildcard", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("lambda.a")}, "/aws/lambda/a", 1},
		{"class", cloudwatchlogs.ListLogGroupsInput{LogGroupClass: types.LogGroupClassInfrequentAccess}, "app/discovery-x", 1},
		{"pages of two", cloudwatchlogs.ListLogGroupsInput{Limit: aws.Int32(2)}, "/aws/lambda/a /aws/lambda/b /aws/lambdaX CloudTrail/DefaultLogGroup app/discovery-x", 3},
		{"pages of a filtered list", cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("lambda"), Limit: aws.Int32(2)}, "/aws/lambda/a /aws/lambda/b /aws/lambdaX", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			pages := 0
			in := tt.in
			for more := true; more; more = in.NextToken != nil {
				out, err := e.client.ListLogGroups(ctx, &in)
				if err != nil {
					t.Fatal(err)
				}
				in.NextToken = out.NextToken
				pages++
				for _, g := range out.LogGroups {
					names = append(names, aws.ToString(g.LogGroupName))
					arn := "arn:aws:logs:us-east-1:" + account + ":log-group:" + aws.ToString(g.LogGroupName)
					if aws.ToString(g.LogGroupArn) != arn || g.LogGroupClass == "" {
						t.Errorf("summary %+v, want ARN %s and a class", g, arn)
					}
				}
			}
			if got := strings.Join(names, " "); got != tt.want || pages != tt.pages {
				t.Errorf("got %q in %d pages, want %q in %d", got, pages, tt.want, tt.pages)
			}
		})
	}
	const pat = `(\^?[\.\-_\/#A-Za-z0-9]{3,24})(\|\^?[\.\-_\/#A-Za-z0-9]{3,24}){0,4}`
	for _, bad := range []struct {
		in   cloudwatchlogs.ListLogGroupsInput
		want string
	}{
		{cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("a b c")},
			"1 validation error detected: Value 'a b c' at 'logGroupNamePattern' failed to satisfy constraint: Member must satisfy regular expression pattern: " + pat},
		{cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("abc|de")},
			"1 validation error detected: Value 'abc|de' at 'logGroupNamePattern' failed to satisfy constraint: Member must satisfy regular expression pattern: " + pat},
		{cloudwatchlogs.ListLogGroupsInput{LogGroupNamePattern: aws.String("abc|def|ghi|jkl|mno|pqr")},
			"1 validation error detected: Value 'abc|def|ghi|jkl|mno|pqr' at 'logGroupNamePattern' failed to satisfy constraint: Member must satisfy regular expression pattern: " + pat},
		{cloudwatchlogs.ListLogGroupsInput{Limit: aws.Int32(1001)},
			"1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{cloudwatchlogs.ListLogGroupsInput{NextToken: aws.String("nope")}, "The specified nextToken is invalid."},
	} {
		_, err := e.client.ListLogGroups(ctx, &bad.in)
		apiError(t, err, "InvalidParameterException", bad.want)
	}
}

// recordingTransport keeps the raw body of every response, for the checks of number types that
// decoded values cannot show.
type recordingTransport struct{ bodies [][]byte }

func (r *recordingTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.bodies = append(r.bodies, b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// TestMetricFilterDefaultValueIsADouble: defaultValue is a Double in the model, and AWS sends
// doubles as Java prints them ("defaultValue":0.0), so a client that keeps JSON's number types
// (botocore) sees a float, not an int.
func TestMetricFilterDefaultValueIsADouble(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &recordingTransport{}
	if _, err := e.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	for _, dv := range []float64{0, 1, 2.5} {
		if _, err := e.client.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("g"),
			FilterName: aws.String("f"), FilterPattern: aws.String(""),
			MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("m"), MetricNamespace: aws.String("n"),
				MetricValue: aws.String("1"), DefaultValue: aws.Float64(dv)}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("g")},
			func(o *cloudwatchlogs.Options) { o.HTTPClient = rec }); err != nil {
			t.Fatal(err)
		}
		body := string(rec.bodies[len(rec.bodies)-1])
		want := map[float64]string{0: `"defaultValue":0.0`, 1: `"defaultValue":1.0`, 2.5: `"defaultValue":2.5`}[dv]
		if !strings.Contains(body, want) {
			t.Errorf("DescribeMetricFilters body %s lacks %s", body, want)
		}
	}
}
