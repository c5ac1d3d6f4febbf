package logsapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"github.com/trailwatch/trailwatch/internal/awsclient"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/logsapi"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const (
	accessKey = "AKIDTRAILWATCHTEST"
	secret    = "trailwatch-test-secret"
	account   = "111111111111"
	group     = "CloudTrail/DefaultLogGroup"
	stream    = "111111111111_CloudTrail_us-east-1"
	// rootPattern is the CIS root-account-usage filter (filter-patterns.md §10, spaced variant).
	rootPattern = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
)

type creds struct{}

func (creds) Lookup(id string) (string, string, bool) { return secret, account, id == accessKey }

// now is the logs service's clock; the SDK signs with the real clock, which awsapi checks.
var now = time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)

type env struct {
	client  *cloudwatchlogs.Client
	db      *sqlite.DB
	samples [][]metrics.Sample
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{db: db}
	svc := logs.NewService(db, func() time.Time { return now })
	svc.OnSamples = func(ss []metrics.Sample) {
		var filtered []metrics.Sample // the metric filters' samples, without the AWS/Logs ones counting every batch
		for _, s := range ss {
			if s.Namespace != logs.ServiceNamespace {
				filtered = append(filtered, s)
			}
		}
		e.samples = append(e.samples, filtered)
	}
	h, err := awsapi.NewHandler(awsapi.Config{Services: []*awsapi.Service{logsapi.NewService(svc)}, Credentials: creds{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.client = cloudwatchlogs.New(cloudwatchlogs.Options{
		BaseEndpoint: aws.String(srv.URL), Region: "us-east-1", RetryMaxAttempts: 1, HTTPClient: awsclient.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
	})
	return e
}

// records reads testdata/cloudtrail.jsonl: CloudTrail records as CloudTrail writes them to Logs.
func records(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/cloudtrail.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(line.Event))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func apiError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("error = %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func TestRootLoginFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group),
		Tags: map[string]string{"team": "security"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(rootPattern),
		MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("RootAccountUsage"),
			MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}},
	}); err != nil {
		t.Fatal(err)
	}

	recs := records(t)
	base := now.Add(-10 * time.Minute).UnixMilli()
	var evs []types.InputLogEvent
	for i, r := range recs {
		evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(base + int64(i)*1000), Message: aws.String(r)})
	}
	put, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil {
		t.Fatal(err)
	}
	if put.RejectedLogEventsInfo != nil || len(aws.ToString(put.NextSequenceToken)) != 56 {
		t.Fatalf("PutLogEvents = %+v, %+v", put.RejectedLogEventsInfo, aws.ToString(put.NextSequenceToken))
	}

	// The oracle: testdata/README.md.
	wantIdx := []int{1, 5, 7, 15, 17, 19}
	fl, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(rootPattern)})
	if err != nil {
		t.Fatal(err)
	}
	var gotMsgs, wantMsgs []string
	for _, ev := range fl.Events {
		gotMsgs = append(gotMsgs, aws.ToString(ev.Message))
		if aws.ToString(ev.LogStreamName) != stream || aws.ToInt64(ev.IngestionTime) != now.UnixMilli() || aws.ToString(ev.EventId) == "" {
			t.Errorf("event fields = %+v", ev)
		}
	}
	for _, i := range wantIdx {
		wantMsgs = append(wantMsgs, recs[i])
	}
	if !reflect.DeepEqual(gotMsgs, wantMsgs) || fl.NextToken != nil {
		t.Fatalf("FilterLogEvents returned %d events (next %v), want records %v", len(gotMsgs), fl.NextToken, wantIdx)
	}

	// The metric filter published one sample per matching record, at the record's timestamp.
	if len(e.samples) != 1 || len(e.samples[0]) != len(wantIdx) {
		t.Fatalf("OnSamples got %v", e.samples)
	}
	for k, s := range e.samples[0] {
		if s.Namespace != "CloudTrailMetrics" || s.MetricName != "RootAccountUsage" || s.Value != 1 || s.AccountID != account ||
			s.Region != "us-east-1" || s.Timestamp.UnixMilli() != base+int64(wantIdx[k])*1000 {
			t.Errorf("sample %d = %+v", k, s)
		}
	}
	aggs, err := e.db.QueryAggregates(ctx, metrics.Scope{AccountID: account, Region: "us-east-1"},
		metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}, now.Add(-time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, a := range aggs {
		total += a.Sum
	}
	if total != float64(len(wantIdx)) {
		t.Fatalf("stored datapoints sum to %v, want %d (%+v)", total, len(wantIdx), aggs)
	}

	tm, err := c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(rootPattern), LogEventMessages: recs[:8]})
	if err != nil {
		t.Fatal(err)
	}
	var numbers []int64
	for _, m := range tm.Matches {
		numbers = append(numbers, m.EventNumber)
		if aws.ToString(m.EventMessage) != recs[m.EventNumber-1] || m.ExtractedValues == nil || len(m.ExtractedValues) != 0 {
			t.Errorf("match = %+v", m)
		}
	}
	if !reflect.DeepEqual(numbers, []int64{2, 6, 8}) {
		t.Fatalf("TestMetricFilter event numbers = %v, want [2 6 8]", numbers)
	}

	mf, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	if len(mf.MetricFilters) != 1 || aws.ToString(mf.MetricFilters[0].FilterPattern) != rootPattern ||
		aws.ToInt64(mf.MetricFilters[0].CreationTime) != now.UnixMilli() || mf.MetricFilters[0].MetricTransformations[0].DefaultValue != nil {
		t.Fatalf("DescribeMetricFilters = %+v", mf.MetricFilters)
	}

	lg, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("CloudTrail/")})
	if err != nil {
		t.Fatal(err)
	}
	g := lg.LogGroups[0]
	if len(lg.LogGroups) != 1 || aws.ToString(g.Arn) != "arn:aws:logs:us-east-1:"+account+":log-group:"+group+":*" ||
		aws.ToString(g.LogGroupArn) != "arn:aws:logs:us-east-1:"+account+":log-group:"+group ||
		aws.ToInt32(g.MetricFilterCount) != 1 || aws.ToInt64(g.StoredBytes) == 0 || g.RetentionInDays != nil || g.LogGroupClass != types.LogGroupClassStandard {
		t.Fatalf("DescribeLogGroups = %+v", g)
	}
	tags, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g.LogGroupArn})
	if err != nil || !reflect.DeepEqual(tags.Tags, map[string]string{"team": "security"}) {
		t.Fatalf("ListTagsForResource = %v, %v", tags, err)
	}

	ls, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	s := ls.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != base || aws.ToInt64(s.LastEventTimestamp) != base+19000 ||
		aws.ToInt64(s.LastIngestionTime) != now.UnixMilli() || aws.ToString(s.UploadSequenceToken) != aws.ToString(put.NextSequenceToken) {
		t.Fatalf("DescribeLogStreams = %+v", s)
	}

	// GetLogEvents pages through the stream; at the end the same forward token comes back.
	var all []string
	var token *string
	for range 10 {
		ge, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
			StartFromHead: aws.Bool(true), Limit: aws.Int32(8), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range ge.Events {
			all = append(all, aws.ToString(ev.Message))
		}
		if token != nil && aws.ToString(ge.NextForwardToken) == *token {
			break
		}
		token = ge.NextForwardToken
	}
	if !reflect.DeepEqual(all, recs) {
		t.Fatalf("GetLogEvents paged %d events, want all %d in order", len(all), len(recs))
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client
	ts := aws.Int64(now.UnixMilli())

	_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("missing"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: ts, Message: aws.String("m")}}})
	apiError(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("SDK did not map the error to its modeled type: %T", err)
	}

	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")})
	apiError(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: ts, Message: aws.String("m")}}})
	apiError(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}

	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: ts, Message: aws.String(strings.Repeat("x", 262144))}}})
	apiError(t, err, "InvalidParameterException", "Log event too large: 262170 bytes exceeds limit of 262144")

	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: ts, Message: aws.String("b")}, {Timestamp: aws.Int64(*ts - 1), Message: aws.String("a")}}})
	apiError(t, err, "InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.")

	_, err = c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("f"),
		FilterPattern: aws.String(`{ $.userIdentity.type = "Root" `), MetricTransformations: []types.MetricTransformation{{
			MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("1")}}})
	apiError(t, err, "InvalidParameterException", "Invalid metric filter pattern")

	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.a = `)})
	apiError(t, err, "InvalidParameterException", "Invalid filter pattern")

	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
	apiError(t, err, "InvalidParameterException", "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")

	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("garbage")})
	apiError(t, err, "InvalidParameterException", "The specified nextToken is invalid.")

	_, err = c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("absent")})
	apiError(t, err, "ResourceNotFoundException", "The specified metric filter does not exist.")
}
