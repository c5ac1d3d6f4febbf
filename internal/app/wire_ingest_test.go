package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/logsapi"
	"github.com/trailwatch/trailwatch/internal/corpus"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/moto"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

const (
	wiAccount = "111122223333"
	wiRegion  = "us-east-1"
	wiKey     = "AKIAWIRETEST00000001"
	wiSecret  = "wire/ingest/test/secret"
	cisRoot   = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
)

// wired is a server's ingest side mounted on an httptest server, as serve.go will mount it.
type wired struct {
	url  string
	db   *sqlite.DB
	logs *logs.Service
}

func wire(t *testing.T, opts IngestOptions) *wired {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: wiRegion, AccountID: wiAccount})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, srv.opts.DataDir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logsSvc := logs.NewService(db, nil)
	var wg sync.WaitGroup
	services, routes, _, err := srv.wireIngest(ctx, sqliteBackend{db}, logsSvc, &wg, opts)
	if err != nil {
		t.Fatal(err)
	}
	services = append(services, logsapi.NewService(logsSvc)) // the backfill command describes its filter
	api, err := awsapi.NewHandler(awsapi.Config{Services: services, Credentials: &keyStore{accountID: wiAccount, keys: map[string]string{wiKey: wiSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.Close(); cancel(); wg.Wait(); db.Close() })
	sc := logs.Scope{AccountID: wiAccount, Region: wiRegion}
	if err := logsSvc.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "CloudTrail/logs"}); err != nil {
		t.Fatal(err)
	}
	if err := logsSvc.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "CloudTrail/logs", FilterName: "root", FilterPattern: cisRoot,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}); err != nil {
		t.Fatal(err)
	}
	return &wired{url: hs.URL, db: db, logs: logsSvc}
}

// call sends a signed awsJson 1.1 CloudTrail request with the given X-Amz-Target prefix.
func (w *wired) call(t *testing.T, prefix, op string, in any) (int, map[string]any) {
	t.Helper()
	return w.callAs(t, "cloudtrail", prefix, op, in)
}

// callAs is call with a SigV4 service name.
func (w *wired) callAs(t *testing.T, service, prefix, op string, in any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", w.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", prefix+"."+op)
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: wiKey, SecretAccessKey: wiSecret}, req,
		hex.EncodeToString(sum[:]), service, wiRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func (w *wired) rootSum(t *testing.T) float64 {
	aggs, err := w.db.QueryAggregates(context.Background(), metrics.Scope{AccountID: wiAccount, Region: wiRegion},
		metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}, time.Unix(0, 0), time.Now().Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, a := range aggs {
		s += a.Sum
	}
	return s
}

const (
	sdkTarget = "CloudTrail_20131101"
	cliTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
)

// TestTrailAPI drives the trail operations through both target spellings and checks the errors.
func TestTrailAPI(t *testing.T) {
	w := wire(t, DefaultIngestOptions())
	arn := "arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/logs:*"
	status, out := w.call(t, sdkTarget, "CreateTrail", map[string]any{"Name": "main", "S3BucketName": "ct-bucket", "CloudWatchLogsLogGroupArn": arn,
		"CloudWatchLogsRoleArn": "arn:aws:iam::111122223333:role/ct", "IsMultiRegionTrail": true,
		"TagsList": []map[string]string{{"Key": "trailwatch:sqs-queue-url", "Value": "http://q"}}})
	if status != 200 || out["TrailARN"] != "arn:aws:cloudtrail:us-east-1:111122223333:trail/main" || out["SqsQueueUrl"] != "http://q" || out["IsMultiRegionTrail"] != true {
		t.Fatalf("CreateTrail: %d %v", status, out)
	}
	tests := []struct {
		prefix, op string
		in         map[string]any
		status     int
		code       string
	}{
		{cliTarget, "CreateTrail", map[string]any{"Name": "main", "S3BucketName": "b"}, 400, "TrailAlreadyExistsException"},
		{cliTarget, "CreateTrail", map[string]any{"Name": "ab", "S3BucketName": "b"}, 400, "InvalidTrailNameException"},
		{cliTarget, "CreateTrail", map[string]any{"Name": "-bad", "S3BucketName": "b"}, 400, "InvalidTrailNameException"},
		{cliTarget, "CreateTrail", map[string]any{"Name": "other", "S3BucketName": "b", "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:missing:*"}, 400, "InvalidCloudWatchLogsLogGroupArnException"},
		{cliTarget, "CreateTrail", map[string]any{"Name": "other", "S3BucketName": "b", "CloudWatchLogsLogGroupArn": "arn:aws:logs:eu-west-1:999999999999:log-group:x"}, 400, "InvalidCloudWatchLogsLogGroupArnException"},
		{cliTarget, "GetTrail", map[string]any{"Name": "nope"}, 400, "TrailNotFoundException"},
		{sdkTarget, "StartLogging", map[string]any{"Name": "nope"}, 400, "TrailNotFoundException"},
		{cliTarget, "GetTrail", map[string]any{"Name": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}, 200, ""},
		{cliTarget, "StartLogging", map[string]any{"Name": "main"}, 200, ""},
	}
	for _, tt := range tests {
		status, out := w.call(t, tt.prefix, tt.op, tt.in)
		code, _ := out["__type"].(string)
		if status != tt.status || !strings.HasSuffix(code, tt.code) {
			t.Errorf("%s %v: %d %v, want %d %s", tt.op, tt.in, status, out, tt.status, tt.code)
		}
	}
	_, out = w.call(t, cliTarget, "GetTrailStatus", map[string]any{"Name": "main"})
	if out["IsLogging"] != true || out["StartLoggingTime"] == nil || out["LatestDeliveryTime"] != nil {
		t.Fatalf("status after StartLogging: %v", out)
	}
	_, out = w.call(t, sdkTarget, "UpdateTrail", map[string]any{"Name": "main", "S3KeyPrefix": "org"})
	if out["S3KeyPrefix"] != "org" || out["S3BucketName"] != "ct-bucket" {
		t.Fatalf("UpdateTrail: %v", out)
	}
	_, out = w.call(t, sdkTarget, "DescribeTrails", map[string]any{})
	if list, _ := out["trailList"].([]any); len(list) != 1 || list[0].(map[string]any)["HomeRegion"] != wiRegion {
		t.Fatalf("DescribeTrails: %v", out)
	}
	w.call(t, cliTarget, "StopLogging", map[string]any{"Name": "main"})
	_, out = w.call(t, cliTarget, "GetTrailStatus", map[string]any{"Name": "main"})
	if out["IsLogging"] != false || out["StopLoggingTime"] == nil {
		t.Fatalf("status after StopLogging: %v", out)
	}
	if status, _ := w.call(t, sdkTarget, "DeleteTrail", map[string]any{"Name": "main"}); status != 200 {
		t.Fatalf("DeleteTrail: %d", status)
	}
	_, out = w.call(t, sdkTarget, "DescribeTrails", map[string]any{})
	if list, _ := out["trailList"].([]any); len(list) != 0 {
		t.Fatalf("DescribeTrails after delete: %v", out)
	}
}

// TestTrailDeliversFromS3 creates a trail over moto's S3 and SQS and checks that the corpus
// reaches the log group with the exact CIS root count, that GetTrailStatus reports the delivery,
// and that the trail's log group deduplicates PutLogEvents of the same records.
func TestTrailDeliversFromS3(t *testing.T) {
	url := moto.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	opts := DefaultIngestOptions()
	opts.AWSEndpoint, opts.WaitSeconds, opts.PollInterval = url, 1, 200*time.Millisecond
	w := wire(t, opts)
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(url); o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(url) })
	s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ct-bucket")})
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ct-queue")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("ct-bucket"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(attrs.Attributes["QueueArn"]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})

	status, out := w.call(t, sdkTarget, "CreateTrail", map[string]any{"Name": "main", "S3BucketName": "ct-bucket", "SqsQueueUrl": aws.ToString(q.QueueUrl),
		"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/logs:*"})
	if status != 200 {
		t.Fatalf("CreateTrail: %v", out)
	}
	w.call(t, cliTarget, "StartLogging", map[string]any{"Name": "main"})

	dir, sum := corpus.S3(t, 3000, "--rate", "50", "--accounts", "2", "--per-file", "500")
	var records []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, _ := os.ReadFile(p)
		s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ct-bucket"), Key: aws.String(rel), Body: bytes.NewReader(data)})
		return nil
	})
	sc := logs.Scope{AccountID: wiAccount, Region: wiRegion}
	count := func() int {
		n := 0
		w.db.ScanEvents(ctx, sc, logs.EventQuery{LogGroupName: "CloudTrail/logs"}, func(logs.Event) bool { n++; return true })
		return n
	}
	deadline := time.Now().Add(60 * time.Second)
	for (w.rootSum(t) < float64(sum.CISRootMatches) || count() < 3000) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // waiting for the running source, whose loop is tested with synctest
	}
	if got := w.rootSum(t); got != float64(sum.CISRootMatches) {
		t.Fatalf("root sum %v, want %d", got, sum.CISRootMatches)
	}
	_, out = w.call(t, cliTarget, "GetTrailStatus", map[string]any{"Name": "main"})
	if out["IsLogging"] != true || out["LatestDeliveryTime"] == nil {
		t.Fatalf("GetTrailStatus: %v", out)
	}
	// The same records through PutLogEvents into the trail's group are duplicates.
	var evs []logs.InputLogEvent
	w.db.ScanEvents(ctx, sc, logs.EventQuery{LogGroupName: "CloudTrail/logs"}, func(e logs.Event) bool {
		if len(evs) < 500 {
			evs = append(evs, logs.InputLogEvent{Timestamp: e.Timestamp, Message: e.Message})
			records = append(records, e.Message)
		}
		return true
	})
	w.logs.CreateLogStream(ctx, sc, "CloudTrail/logs", "manual")
	if _, err := w.logs.PutLogEvents(ctx, sc, logs.PutLogEventsInput{LogGroupName: "CloudTrail/logs", LogStreamName: "manual", LogEvents: evs}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3000 || w.rootSum(t) != float64(sum.CISRootMatches) {
		t.Fatalf("after PutLogEvents of stored records: %d events, root sum %v", count(), w.rootSum(t))
	}

	// A trail whose queue does not exist reports the error truthfully.
	w.call(t, sdkTarget, "CreateTrail", map[string]any{"Name": "broken", "S3BucketName": "ct-bucket", "SqsQueueUrl": url + "/123456789012/missing",
		"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/logs"})
	w.call(t, sdkTarget, "StartLogging", map[string]any{"Name": "broken"})
	deadline = time.Now().Add(30 * time.Second)
	for {
		_, out = w.call(t, cliTarget, "GetTrailStatus", map[string]any{"Name": "broken"})
		if out["LatestDeliveryError"] != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if msg, _ := out["LatestDeliveryError"].(string); !strings.Contains(msg, "receive SQS messages") {
		t.Fatalf("broken trail status: %v", out)
	}
}

// TestBackfillAPI stores root sign-ins in a group without filters, adds the CIS filter (which does
// not see them, as in AWS), then backfills it through BackfillMetricFilter: the datapoints appear
// once per call over the chosen range, and errors are AWS-shaped.
func TestBackfillAPI(t *testing.T) {
	w := wire(t, DefaultIngestOptions())
	ctx := context.Background()
	sc := logs.Scope{AccountID: wiAccount, Region: wiRegion}
	if err := w.logs.CreateLogGroup(ctx, sc, logs.CreateLogGroupInput{LogGroupName: "history"}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	var evs []logs.InputLogEvent
	var keys []string
	for i := range 40 {
		msg := fmt.Sprintf(`{"eventID":"h%d","eventTime":"x","userIdentity":{"type":%q},"eventType":"AwsApiCall"}`, i, map[bool]string{true: "Root", false: "IAMUser"}[i%4 == 0])
		evs = append(evs, logs.InputLogEvent{Timestamp: base + int64(i)*1000, Message: msg})
		keys = append(keys, fmt.Sprint(i))
	}
	if _, err := w.logs.PutRecords(ctx, sc, logs.PutRecordsInput{LogGroupName: "history", LogStreamName: "s", Events: evs, DedupKeys: keys}); err != nil {
		t.Fatal(err)
	}
	if err := w.logs.PutMetricFilter(ctx, sc, logs.PutMetricFilterInput{LogGroupName: "history", FilterName: "root", FilterPattern: cisRoot,
		MetricTransformations: []logs.MetricTransformation{{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if got := w.rootSum(t); got != 0 {
		t.Fatalf("root sum before backfill %v", got)
	}
	status, out := w.callAs(t, "trailwatch", BackfillTarget, "BackfillMetricFilter", map[string]any{"logGroupName": "history", "filterName": "root",
		"startTime": base, "endTime": base + 20_000})
	if status != 200 || out["eventsExamined"] != 20.0 || out["sum"] != 5.0 {
		t.Fatalf("backfill of the first 20 s: %d %v", status, out)
	}
	if got := w.rootSum(t); got != 5 {
		t.Fatalf("root sum %v, want 5", got)
	}
	status, out = w.callAs(t, "trailwatch", BackfillTarget, "BackfillMetricFilter", map[string]any{"logGroupName": "history", "filterName": "root", "startTime": base + 20_000})
	if status != 200 || out["sum"] != 5.0 || w.rootSum(t) != 10 {
		t.Fatalf("backfill of the rest: %d %v, sum %v", status, out, w.rootSum(t))
	}
	// The CLI's --server-side calls the same operation; run over the whole range, it counts the
	// events again, as documented.
	t.Setenv("AWS_ACCESS_KEY_ID", wiKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", wiSecret)
	t.Setenv("AWS_REGION", wiRegion)
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"backfill", "--server-side", "--endpoint", w.url, "--log-group", "history", "--filter-name", "root", "--start", "2h"}, nil, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "40 events examined") || w.rootSum(t) != 20 {
		t.Fatalf("backfill --server-side: exit %d, %s%s, sum %v", code, stdout.String(), stderr.String(), w.rootSum(t))
	}
	for _, in := range []map[string]any{{"logGroupName": "history", "filterName": "nope"}, {"logGroupName": "nope", "filterName": "root"}, {"logGroupName": "history"}} {
		if status, out := w.callAs(t, "trailwatch", BackfillTarget, "BackfillMetricFilter", in); status != 400 || out["__type"] == nil {
			t.Errorf("%v: %d %v", in, status, out)
		}
	}
}
