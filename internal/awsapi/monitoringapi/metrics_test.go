package monitoringapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/trailwatch/trailwatch/internal/awsclient"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/monitoringapi"
	"github.com/trailwatch/trailwatch/internal/corpus"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const (
	key1, secret1, account1 = "AKIDMETRICSONE", "secret-one", "111111111111"
	key2, secret2, account2 = "AKIDMETRICSTWO", "secret-two", "222222222222"
)

type creds map[string][2]string

func (c creds) Lookup(id string) (string, string, bool) {
	v, ok := c[id]
	return v[0], v[1], ok
}

type env struct {
	url string
	db  *sqlite.DB

	mu        sync.Mutex
	protocols map[string]bool // wire protocols seen, from the request headers
}

// protocolOf names the protocol of a request the way the awsapi dispatcher tells them apart.
func protocolOf(r *http.Request) string {
	switch ct := r.Header.Get("Content-Type"); {
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		return "cbor"
	case strings.HasPrefix(ct, "application/x-amz-json"):
		return "json"
	default:
		return "query"
	}
}

// newEnv serves the monitoring service over a fresh SQLite database. The clock is the real one:
// the SDK signs with it and SigV4 checks skew.
func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := metrics.NewService(db, nil)
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:    []*awsapi.Service{monitoringapi.NewService(svc)},
		Credentials: creds{key1: {secret1, account1}, key2: {secret2, account2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, protocols: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.protocols[protocolOf(r)] = true
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *env) client(key, secret string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		BaseEndpoint: aws.String(e.url), Region: "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts: 1, HTTPClient: awsclient.HTTPClient(),
	})
}

func apiError(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func dim(n, v string) cwtypes.Dimension {
	return cwtypes.Dimension{Name: aws.String(n), Value: aws.String(v)}
}

func TestSDKMetricsCBOR(t *testing.T) {
	e := newEnv(t)
	cw := e.client(key1, secret1)
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)

	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("App"),
		MetricData: []cwtypes.MetricDatum{
			{MetricName: aws.String("Latency"), Value: aws.Float64(10), Unit: cwtypes.StandardUnitMilliseconds,
				Timestamp: aws.Time(base.Add(5 * time.Second)), Dimensions: []cwtypes.Dimension{dim("Host", "h1"), dim("Env", "prod")}},
			{MetricName: aws.String("Latency"), Values: []float64{20, 30}, Counts: []float64{1, 2}, Unit: cwtypes.StandardUnitMilliseconds,
				Timestamp: aws.Time(base.Add(40 * time.Second)), Dimensions: []cwtypes.Dimension{dim("Env", "prod"), dim("Host", "h1")}},
			{MetricName: aws.String("Latency"), Unit: cwtypes.StandardUnitMilliseconds, Timestamp: aws.Time(base.Add(6 * time.Minute)),
				StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(2), Sum: aws.Float64(100), Minimum: aws.Float64(50), Maximum: aws.Float64(50)},
				Dimensions:      []cwtypes.Dimension{dim("Host", "h1"), dim("Env", "prod")}},
			{MetricName: aws.String("Errors"), Value: aws.Float64(1), Timestamp: aws.Time(base)},
		},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}

	lm, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("App"),
		Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("Host")}}})
	if err != nil {
		t.Fatalf("ListMetrics: %v", err)
	}
	if len(lm.Metrics) != 1 || aws.ToString(lm.Metrics[0].MetricName) != "Latency" || len(lm.Metrics[0].Dimensions) != 2 ||
		aws.ToString(lm.Metrics[0].Dimensions[0].Name) != "Env" || lm.NextToken != nil {
		t.Errorf("ListMetrics = %+v", lm.Metrics)
	}
	all, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{RecentlyActive: cwtypes.RecentlyActivePt3h})
	if err != nil || len(all.Metrics) != 2 {
		t.Errorf("ListMetrics(PT3H) = %+v, %v", all, err)
	}

	gs, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"),
		Dimensions: []cwtypes.Dimension{dim("Env", "prod"), dim("Host", "h1")},
		StartTime:  aws.Time(base), EndTime: aws.Time(base.Add(10 * time.Minute)), Period: aws.Int32(300),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount, cwtypes.StatisticSum, cwtypes.StatisticAverage, cwtypes.StatisticMaximum},
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics: %v", err)
	}
	sort.Slice(gs.Datapoints, func(i, j int) bool { return gs.Datapoints[i].Timestamp.Before(*gs.Datapoints[j].Timestamp) })
	if aws.ToString(gs.Label) != "Latency" || len(gs.Datapoints) != 2 {
		t.Fatalf("GetMetricStatistics = %+v", gs)
	}
	d0, d1 := gs.Datapoints[0], gs.Datapoints[1]
	if !d0.Timestamp.Equal(base) || aws.ToFloat64(d0.SampleCount) != 4 || aws.ToFloat64(d0.Sum) != 90 || aws.ToFloat64(d0.Average) != 22.5 ||
		aws.ToFloat64(d0.Maximum) != 30 || d0.Minimum != nil || d0.Unit != cwtypes.StandardUnitMilliseconds {
		t.Errorf("first datapoint = %+v", d0)
	}
	if !d1.Timestamp.Equal(base.Add(5*time.Minute)) || aws.ToFloat64(d1.Sum) != 100 || aws.ToFloat64(d1.SampleCount) != 2 {
		t.Errorf("second datapoint = %+v", d1)
	}

	pct, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"),
		Dimensions: []cwtypes.Dimension{dim("Host", "h1"), dim("Env", "prod")},
		StartTime:  aws.Time(base), EndTime: aws.Time(base.Add(10 * time.Minute)), Period: aws.Int32(600),
		ExtendedStatistics: []string{"p50", "p99.9"}, Unit: cwtypes.StandardUnitMilliseconds,
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics(percentiles): %v", err)
	}
	if len(pct.Datapoints) != 1 || pct.Datapoints[0].ExtendedStatistics["p50"] != 30 || pct.Datapoints[0].ExtendedStatistics["p99.9"] != 50 {
		t.Errorf("percentiles = %+v", pct.Datapoints)
	}

	md, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(10 * time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("lat"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Sum"),
				Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"),
					Dimensions: []cwtypes.Dimension{dim("Host", "h1"), dim("Env", "prod")}}}},
			{Id: aws.String("err"), Label: aws.String("errors"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(300), Stat: aws.String("SampleCount"),
				Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Errors")}}},
		},
		ScanBy: cwtypes.ScanByTimestampAscending,
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(md.MetricDataResults) != 2 || md.NextToken != nil {
		t.Fatalf("GetMetricData = %+v", md)
	}
	lat, errs := md.MetricDataResults[0], md.MetricDataResults[1]
	if aws.ToString(lat.Id) != "lat" || aws.ToString(lat.Label) != "Latency" || lat.StatusCode != cwtypes.StatusCodeComplete ||
		len(lat.Timestamps) != 2 || !lat.Timestamps[0].Equal(base) || !lat.Timestamps[1].Equal(base.Add(6*time.Minute)) ||
		lat.Values[0] != 90 || lat.Values[1] != 100 {
		t.Errorf("lat = %+v", lat)
	}
	if aws.ToString(errs.Label) != "errors" || len(errs.Values) != 1 || errs.Values[0] != 1 {
		t.Errorf("err = %+v", errs)
	}

	// Paginated: one datapoint per page.
	paged, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(10 * time.Minute)), MaxDatapoints: aws.Int32(1),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("lat"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"),
				Dimensions: []cwtypes.Dimension{dim("Host", "h1"), dim("Env", "prod")}}}}},
	})
	if err != nil || paged.NextToken == nil || paged.MetricDataResults[0].StatusCode != cwtypes.StatusCodePartialData ||
		len(paged.MetricDataResults[0].Values) != 1 || paged.MetricDataResults[0].Values[0] != 50 {
		t.Fatalf("paged GetMetricData = %+v, %v", paged, err)
	}

	// Another account sees none of it.
	other := e.client(key2, secret2)
	ol, err := other.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	if err != nil || len(ol.Metrics) != 0 {
		t.Errorf("other account ListMetrics = %+v, %v", ol, err)
	}
}

func TestSDKMetricsErrors(t *testing.T) {
	e := newEnv(t)
	cw := e.client(key1, secret1)
	ctx := context.Background()
	now := time.Now().UTC()

	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}})
	var ipv *cwtypes.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Errorf("AWS/ namespace: %v, want InvalidParameterValueException", err)
	}
	if c, m := apiError(t, err); c != "InvalidParameterValue" || m != "The value AWS/ for parameter Namespace is invalid." {
		t.Errorf("AWS/ namespace: %s %q", c, m)
	}

	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m")}}})
	var ipc *cwtypes.InvalidParameterCombinationException
	if !errors.As(err, &ipc) {
		t.Errorf("no value: %v, want InvalidParameterCombinationException", err)
	}

	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1), Timestamp: aws.Time(now.Add(-15 * 24 * time.Hour))}}})
	if c, m := apiError(t, err); c != "InvalidParameterValue" || m != "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks." {
		t.Errorf("old timestamp: %s %q", c, m)
	}

	_, err = cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("m"),
		StartTime: aws.Time(now.Add(-25 * time.Hour)), EndTime: aws.Time(now), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
	if c, m := apiError(t, err); c != "InvalidParameterCombination" || !strings.HasPrefix(m, "You have requested up to 1500 datapoints, which exceeds the limit of 1440.") {
		t.Errorf("too many datapoints: %s %q", c, m)
	}

	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m1"), Expression: aws.String("SUM(METRICS()")}}})
	if c, m := apiError(t, err); c != "ValidationError" || !strings.Contains(m, "is not a valid metric math expression") {
		t.Errorf("expression: %s %q", c, m)
	}

	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		NextToken: aws.String("nope"), MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m1"),
			MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Sum"), Metric: &cwtypes.Metric{Namespace: aws.String("App"), MetricName: aws.String("m")}}}}})
	var bad *cwtypes.InvalidNextToken
	if !errors.As(err, &bad) {
		t.Errorf("bad NextToken: %v, want InvalidNextToken", err)
	}

	_, err = cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{NextToken: aws.String("nope")})
	if c, _ := apiError(t, err); c != "InvalidParameterValue" {
		t.Errorf("ListMetrics bad token: %v", err)
	}
}

// TestCLIv2Query drives the metric operations through Debian's aws CLI v2, which speaks awsQuery
// to CloudWatch: form-encoded lists and structures in, XML (with the ExtendedStatistics map) out.
func TestCLIv2Query(t *testing.T) {
	if e := testCLI(t, corpus.AWSCLI(t, 2)); e != nil && (!e.protocols["query"] || len(e.protocols) != 1) {
		t.Errorf("CLI v2 used %v, want awsQuery only", e.protocols)
	}
}

// TestCLIv1 drives them through the pip aws CLI v1, whose newer botocore picks another of
// CloudWatch's protocols (JSON or CBOR), so the same checks cover a second wire format.
func TestCLIv1(t *testing.T) {
	if e := testCLI(t, corpus.AWSCLI(t, 1)); e != nil && e.protocols["query"] {
		t.Errorf("CLI v1 used %v, want a non-query protocol", e.protocols)
	}
}

// testCLI runs the CLI checks with bin and returns the environment (nil when bin is missing).
func testCLI(t *testing.T, bin string) *env {
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" { // CI must run this test, not skip it
			t.Fatalf("%s not installed", bin)
		}
		t.Skipf("%s not installed", bin)
		return nil
	}
	e := newEnv(t)
	home := t.TempDir()
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=" + key1, "AWS_SECRET_ACCESS_KEY=" + secret1,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	base := time.Now().UTC().Truncate(time.Minute).Add(-20 * time.Minute)
	ts := base.Add(10 * time.Second).Format(time.RFC3339)
	if _, stderr, err := run("cloudwatch", "put-metric-data", "--namespace", "CloudTrailMetrics", "--metric-data",
		`[{"MetricName":"RootAccountUsageCount","Values":[1,3],"Counts":[3,1],"Unit":"Count","Timestamp":"`+ts+`"}]`); err != nil {
		t.Fatalf("put-metric-data: %v %s", err, stderr)
	}
	out, stderr, err := run("cloudwatch", "get-metric-statistics", "--namespace", "CloudTrailMetrics", "--metric-name", "RootAccountUsageCount",
		"--start-time", base.Format(time.RFC3339), "--end-time", base.Add(5*time.Minute).Format(time.RFC3339), "--period", "300",
		"--extended-statistics", "p50", "p90")
	if err != nil {
		t.Fatalf("get-metric-statistics: %v %s", err, stderr)
	}
	var gs struct {
		Label      string
		Datapoints []struct {
			Timestamp          any // ISO 8601 from CLI v2, epoch seconds from CLI v1
			Unit               string
			ExtendedStatistics map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(out), &gs); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if gs.Label != "RootAccountUsageCount" || len(gs.Datapoints) != 1 || gs.Datapoints[0].Unit != "Count" ||
		gs.Datapoints[0].ExtendedStatistics["p50"] != 1 || gs.Datapoints[0].ExtendedStatistics["p90"] != 3 {
		t.Errorf("get-metric-statistics = %s", out)
	}
	if ts := cliTime(gs.Datapoints[0].Timestamp); !ts.Equal(base) {
		t.Errorf("datapoint timestamp %v, want %s", gs.Datapoints[0].Timestamp, base)
	}
	out, stderr, err = run("cloudwatch", "get-metric-data", "--start-time", base.Format(time.RFC3339),
		"--end-time", base.Add(5*time.Minute).Format(time.RFC3339), "--metric-data-queries",
		`[{"Id":"root","MetricStat":{"Metric":{"Namespace":"CloudTrailMetrics","MetricName":"RootAccountUsageCount"},"Period":60,"Stat":"Sum"}}]`)
	if err != nil {
		t.Fatalf("get-metric-data: %v %s", err, stderr)
	}
	var gd struct {
		MetricDataResults []struct {
			ID         string `json:"Id"`
			Label      string
			StatusCode string
			Timestamps []any
			Values     []float64
		}
	}
	if err := json.Unmarshal([]byte(out), &gd); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if len(gd.MetricDataResults) != 1 || gd.MetricDataResults[0].ID != "root" || gd.MetricDataResults[0].StatusCode != "Complete" ||
		len(gd.MetricDataResults[0].Values) != 1 || gd.MetricDataResults[0].Values[0] != 6 || len(gd.MetricDataResults[0].Timestamps) != 1 {
		t.Errorf("get-metric-data = %s", out)
	}
	out, stderr, err = run("cloudwatch", "list-metrics", "--namespace", "CloudTrailMetrics")
	if err != nil || !strings.Contains(out, `"MetricName": "RootAccountUsageCount"`) {
		t.Errorf("list-metrics: %v %s %s", err, out, stderr)
	}
	_, stderr, err = run("cloudwatch", "put-metric-data", "--namespace", "AWS/Logs", "--metric-name", "x", "--value", "1")
	if err == nil || !strings.Contains(stderr, "(InvalidParameterValue)") || !strings.Contains(stderr, "The value AWS/ for parameter Namespace is invalid.") {
		t.Errorf("AWS/ namespace via CLI: %v %s", err, stderr)
	}
	t.Logf("%s used %v", bin, e.protocols)
	return e
}

// cliTime reads a timestamp the CLI printed: an ISO 8601 string (CLI v2) or epoch seconds (CLI v1).
func cliTime(v any) time.Time {
	switch v := v.(type) {
	case string:
		t, _ := time.Parse(time.RFC3339, v)
		return t
	case float64:
		return time.Unix(0, int64(v*1e9)).UTC()
	}
	return time.Time{}
}
