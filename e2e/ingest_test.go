package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwatch/trailwatch/internal/corpus"
	"github.com/trailwatch/trailwatch/internal/moto"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// genS3 makes an S3-layout corpus (corpus.S3) at 20 events per second of eventTime and returns its
// directory and the CIS root count.
func genS3(t *testing.T, events int, extra ...string) (string, int) {
	t.Helper()
	dir, sum := corpus.S3(t, events, append([]string{"--rate", "20"}, extra...)...)
	return dir, sum.CISRootMatches
}

// runCLI runs a trailwatch subcommand with the server's credentials and returns stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey, "AWS_REGION="+testRegion)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("trailwatch %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// storedEvents counts a log group's events with FilterLogEvents, page by page.
func storedEvents(t *testing.T, ctx context.Context, lc *cloudwatchlogs.Client, group string) int {
	t.Helper()
	n := 0
	var token *string
	for {
		page, err := lc.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), NextToken: token})
		if err != nil {
			t.Fatalf("count events of %s after %d: %v", group, n, err)
		}
		n += len(page.Events)
		if page.NextToken == nil || (token != nil && *page.NextToken == *token) {
			return n
		}
		token = page.NextToken
	}
}

var speedRe = regexp.MustCompile(`([0-9]+) events/s, ([0-9.]+) MB/s`)

// TestIngestFiles ingests a CloudTrail S3 layout directory with trailwatch ingest into a log group
// with the 14 CIS metric filters: the CIS root sum equals the generator's count, and ingesting the same files again stores and counts nothing more.
func TestIngestFiles(t *testing.T) {
	n := 50000
	if v := os.Getenv("TRAILWATCH_E2E_INGEST_EVENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir, wantRoot := genS3(t, n, "--accounts", "5", "--per-file", "1000")
	s := startServer(t, "")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	setupRootFilter(t, ctx, lc, "CloudTrail/logs", "unused")
	// The other CIS filters (CloudWatch.2-14) too, so the speed logged is the issue's: decode,
	// store and apply the CIS filters.
	for _, f := range pattern.CIS()[1:] {
		_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("CloudTrail/logs"), FilterName: aws.String(f.Control), FilterPattern: aws.String(f.Pattern),
			MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String(f.Control), MetricNamespace: aws.String("CIS"), MetricValue: aws.String("1")}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := runCLI(t, "ingest", "--endpoint", s.URL, "--log-group", "CloudTrail/logs", dir)
	t.Logf("first ingest: %s", strings.TrimSpace(out))
	if m := speedRe.FindStringSubmatch(out); m != nil {
		t.Logf("file ingest end to end (decode, PutLogEvents over HTTP, store, CIS filter): %s events/s, %s MB/s", m[1], m[2])
	}
	if got := rootSum(t, ctx, cc); got != float64(wantRoot) {
		t.Fatalf("root sum %v, want %d", got, wantRoot)
	}
	if got := storedEvents(t, ctx, lc, "CloudTrail/logs"); got != n {
		t.Fatalf("%d events stored, want %d", got, n)
	}
	streams, err := lc.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("CloudTrail/logs"), LogStreamNamePrefix: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range streams.LogStreams {
		if name := aws.ToString(st.LogStreamName); name != "unused" && !regexp.MustCompile(`^[0-9]{12}_CloudTrail_[a-z0-9-]+$`).MatchString(name) {
			t.Fatalf("stream %q is not CloudTrail's <account>_CloudTrail_<region>", name)
		}
	}
	runCLI(t, "ingest", "--endpoint", s.URL, "--log-group", "CloudTrail/logs", dir)
	if got, events := rootSum(t, ctx, cc), storedEvents(t, ctx, lc, "CloudTrail/logs"); got != float64(wantRoot) || events != n {
		t.Fatalf("after ingesting twice: root sum %v, %d events; want %d, %d", got, events, wantRoot, n)
	}
}

// TestBackfill ingests a corpus before the metric filter exists (AWS's filters never see it), then
// backfills the filter over the last hours: the root sum becomes the generator's count.
func TestBackfill(t *testing.T) {
	dir, wantRoot := genS3(t, 5000)
	s := startServer(t, "")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	runCLI(t, "ingest", "--endpoint", s.URL, "--log-group", "history", dir)
	_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("history"), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(cisRoot),
		MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rootSum(t, ctx, cc); got != 0 {
		t.Fatalf("root sum before backfill %v", got)
	}
	dry := runCLI(t, "backfill", "--endpoint", s.URL, "--log-group", "history", "--filter-name", "RootAccountUsage", "--start", "3h", "--dry-run")
	if !strings.Contains(dry, fmt.Sprintf("sum %d (dry run", wantRoot)) || rootSum(t, ctx, cc) != 0 {
		t.Fatalf("dry run: %s", dry)
	}
	out := runCLI(t, "backfill", "--endpoint", s.URL, "--log-group", "history", "--filter-name", "RootAccountUsage", "--start", "3h")
	t.Log(strings.TrimSpace(out))
	if got := rootSum(t, ctx, cc); got != float64(wantRoot) {
		t.Fatalf("root sum after backfill %v, want %d", got, wantRoot)
	}
}

// TestS3SQSIngestSurvivesKill uploads a corpus to moto's S3 with SQS notifications, makes a trail
// read it, kills the server with SIGKILL in the middle, restarts it, then notifies every object a
// second time: the CIS root sum equals the generator's count exactly throughout.
func TestS3SQSIngestSurvivesKill(t *testing.T) {
	cli := findCLI(t, "v2")
	motoURL := moto.Start(t)
	dir, wantRoot := genS3(t, 30000, "--accounts", "5", "--per-file", "500")
	t.Setenv("AWS_ACCESS_KEY_ID", "test") // for the server's S3/SQS clients (moto)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	data := t.TempDir()
	s := startServer(t, data, "--aws-endpoint", motoURL, "--poll-interval", "200ms")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	setupRootFilter(t, ctx, lc, "CloudTrail/logs", "unused")

	s3c, sqsc := moto.Clients(motoURL)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("org-trail")}); err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("org-trail-new-objects")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("org-trail"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(attrs.Attributes["QueueArn"]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	// The aws CLI (botocore's target spelling) creates and starts the trail.
	cli.run(t, s, "cloudtrail", "create-trail", "--name", "org", "--s3-bucket-name", "org-trail",
		"--cloud-watch-logs-log-group-arn", "arn:aws:logs:us-east-1:"+testAccount+":log-group:CloudTrail/logs:*",
		"--cloud-watch-logs-role-arn", "arn:aws:iam::"+testAccount+":role/CloudTrail_CloudWatchLogs",
		"--tags-list", "Key=trailwatch:sqs-queue-url,Value="+aws.ToString(q.QueueUrl))
	cli.run(t, s, "cloudtrail", "start-logging", "--name", "org")

	var keys []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		body, _ := os.ReadFile(p)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("org-trail"), Key: aws.String(rel), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rel)
		return nil
	})
	// Kill -9 once some but not all events are in.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if n := storedEvents(t, ctx, lc, "CloudTrail/logs"); n > 0 && n < 30000 {
			break
		} else if n == 30000 {
			t.Log("corpus fully ingested before the kill; the restart still checks idempotence")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no events arrived\n%s", s.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s = startServer(t, data, "--aws-endpoint", motoURL, "--poll-interval", "200ms")
	lc, cc = logsClient(s), cwClient(s)
	waitFor := func(what string) {
		deadline := time.Now().Add(120 * time.Second)
		for rootSum(t, ctx, cc) != float64(wantRoot) || storedEvents(t, ctx, lc, "CloudTrail/logs") != 30000 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: root sum %v (want %d), %d events (want 30000)", what, rootSum(t, ctx, cc), wantRoot, storedEvents(t, ctx, lc, "CloudTrail/logs"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("after kill -9 and restart")
	// Every object notified a second time.
	for _, k := range keys {
		body := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"org-trail"},"object":{"key":%q}}}]}`, k)
		sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)})
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a, _ := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
		if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %v", a.Attributes)
		}
	}
	waitFor("after notifying every object twice")
	status := cli.run(t, s, "cloudtrail", "get-trail-status", "--name", "org")
	if !strings.Contains(status, `"IsLogging": true`) || !strings.Contains(status, "LatestDeliveryTime") {
		t.Fatalf("get-trail-status: %s", status)
	}
}

// TestEventBridgeToAlarmLatency POSTs root console sign-ins as an EventBridge API destination
// delivers them and measures, over TRAILWATCH_E2E_LATENCY_TRIALS trials (default 10, at most 90),
// the time from the POST to the alarm's ALARM state seen by DescribeAlarms. It also checks the
// endpoint's auth and malformed-body answers.
func TestEventBridgeToAlarmLatency(t *testing.T) {
	t.Setenv("TRAILWATCH_EVENTBRIDGE_KEY", "eb-secret")
	s := startServer(t, "", "--eventbridge-log-group", "CloudTrail/logs")
	ctx := context.Background()
	lc, cc := logsClient(s), cwClient(s)
	setupRootFilter(t, ctx, lc, "CloudTrail/logs", "unused")
	_, err := cc.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("root-usage"), MetricName: aws.String("RootAccountUsage"), Namespace: aws.String("CloudTrailMetrics"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
	})
	if err != nil {
		t.Fatal(err)
	}
	post := func(key, body string) int {
		req, _ := http.NewRequest("POST", s.URL+"/ingest/eventbridge", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("x-trailwatch-api-key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// event is an EventBridge delivery of a root sign-in at ts whose eventID is id.
	event := func(id string, ts time.Time) string {
		var detail map[string]any
		decode(t, rootLogin(t, ts), &detail)
		detail["eventID"] = id
		record, _ := json.Marshal(detail)
		return `{"version":"0","id":"` + id + `","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"` +
			testAccount + `","time":"` + ts.UTC().Format(time.RFC3339) + `","region":"us-east-1","resources":[],"detail":` + string(record) + `}`
	}
	if code := post("", event("6f0b8e1e-0000-0000-0000-000000000000", time.Now())); code != 401 {
		t.Fatalf("no key: %d", code)
	}
	if code := post("eb-secret", `{"detail-type":"AWS Console Sign In via CloudTrail","detail":`); code != 400 {
		t.Fatalf("malformed: %d", code)
	}
	if n := storedEvents(t, ctx, lc, "CloudTrail/logs"); n != 0 {
		t.Fatalf("%d events stored by rejected requests", n)
	}
	// Each trial sends a root sign-in with an eventID of its own, which only the trial's own metric
	// filter matches (the CIS root pattern plus the eventID), so each trial has a fresh alarm.
	trials := 10
	if v := os.Getenv("TRAILWATCH_E2E_LATENCY_TRIALS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			trials = min(n, 90) // CloudWatch Logs allows 100 metric filters per log group
		}
	}
	var fromPost, fromReturn []time.Duration
	for i := range trials {
		id := fmt.Sprintf("6f0b8e1e-0000-4000-8000-%012d", i)
		metric, name := "EBRoot"+strconv.Itoa(i), "eb-root-"+strconv.Itoa(i)
		_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName: aws.String("CloudTrail/logs"), FilterName: aws.String(metric),
			FilterPattern:         aws.String(strings.TrimSuffix(cisRoot, " }") + ` && $.eventID = "` + id + `" }`),
			MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String(metric), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		putSeedAlarm(t, ctx, cc, name, metric)
		body := event(id, time.Now()) // before the clock starts: it parses the samples file
		sent := time.Now()
		if code := post("eb-secret", body); code != 200 {
			t.Fatalf("delivery: %d", code)
		}
		returned := time.Now()
		_, seen := waitState(t, ctx, cc, name, cwtypes.StateValueAlarm, 10*time.Second)
		fromPost, fromReturn = append(fromPost, seen.Sub(sent)), append(fromReturn, seen.Sub(returned))
	}
	slices.Sort(fromPost)
	slices.Sort(fromReturn)
	t.Logf("EventBridge POST sent -> alarm ALARM (seen by DescribeAlarms, polled every 2 ms) over %d trials: p50 %v, p99 %v, max %v",
		trials, percentile(fromPost, 0.5), percentile(fromPost, 0.99), fromPost[len(fromPost)-1])
	t.Logf("EventBridge POST answered -> alarm ALARM: p50 %v, p99 %v", percentile(fromReturn, 0.5), percentile(fromReturn, 0.99))
}
