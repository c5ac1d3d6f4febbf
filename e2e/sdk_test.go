package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/awsclient"
	"github.com/trailwatch/trailwatch/internal/corpus"
)

// sdkConfig is an aws-sdk-go-v2 configuration pointed at the server, with retries off so that a test sees
// every failure, and awsclient's HTTP client, without which a loaded machine makes smithy-go fail
// random responses client-side (see package awsclient).
func sdkConfig(s *server) aws.Config {
	return aws.Config{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       awsclient.HTTPClient(),
	}
}

func logsClient(s *server) *cloudwatchlogs.Client { return cloudwatchlogs.NewFromConfig(sdkConfig(s)) }
func cwClient(s *server) *cloudwatch.Client       { return cloudwatch.NewFromConfig(sdkConfig(s)) }

// genCorpus runs ../shared/tools/gen-cloudtrail and returns the records (one JSON document each) and the
// number the CIS root pattern must match.
func genCorpus(t *testing.T, events int) ([]string, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ct.ndjson")
	sum := corpus.Generate(t, "--events", strconv.Itoa(events), "--root-every", "97", "--out", out)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var records []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		records = append(records, sc.Text())
	}
	if len(records) != sum.Events || sum.CISRootMatches == 0 {
		t.Fatalf("corpus has %d records, summary says %+v", len(records), sum)
	}
	return records, sum.CISRootMatches
}

// batchEnd returns the end of the PutLogEvents batch that starts at records[i]: at most 1,000 events and
// at most AWS's 1,048,576 bytes, counting each message's bytes plus 26.
func batchEnd(records []string, i int) int {
	size := 0
	j := i
	for j < len(records) && j-i < 1000 && size+len(records[j])+26 <= 1048576 {
		size += len(records[j]) + 26
		j++
	}
	return j
}

// setupRootFilter creates the log group, stream and CIS root metric filter through the SDK.
func setupRootFilter(t *testing.T, ctx context.Context, lc *cloudwatchlogs.Client, group, stream string) {
	t.Helper()
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	_, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String("RootAccountUsage"), FilterPattern: aws.String(cisRoot),
		MetricTransformations: []logtypes.MetricTransformation{{
			MetricName: aws.String("RootAccountUsage"), MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1"),
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rootSum reads the RootAccountUsage Sum over the last hours with the SDK (RPCv2 CBOR).
func rootSum(t *testing.T, ctx context.Context, cc *cloudwatch.Client) float64 {
	t.Helper()
	now := time.Now()
	out, err := cc.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("CloudTrailMetrics"), MetricName: aws.String("RootAccountUsage"),
		StartTime: aws.Time(now.Add(-3 * time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, d := range out.Datapoints {
		sum += aws.ToFloat64(d.Sum)
	}
	return sum
}

// TestSDKIngestAndMetric puts a generated corpus through the SDK and checks the CIS root metric equals the
// generator's count exactly.
func TestSDKIngestAndMetric(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "")
	lc, cc := logsClient(s), cwClient(s)
	records, wantRoot := genCorpus(t, 5000)
	setupRootFilter(t, ctx, lc, "ct", "s")
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	for i := 0; i < len(records); {
		end := batchEnd(records, i)
		events := make([]logtypes.InputLogEvent, 0, end-i)
		for j := i; j < end; j++ {
			events = append(events, logtypes.InputLogEvent{Timestamp: aws.Int64(base + int64(j)), Message: aws.String(records[j])})
		}
		out, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String("s"), LogEvents: events})
		if err != nil {
			t.Fatal(err)
		}
		if out.RejectedLogEventsInfo != nil {
			t.Fatalf("rejected: %+v", out.RejectedLogEventsInfo)
		}
		i = end
	}
	if got := storedEvents(t, ctx, lc, "ct"); got != len(records) {
		t.Errorf("stored %d events, want %d", got, len(records))
	}
	if got := rootSum(t, ctx, cc); got != float64(wantRoot) {
		t.Errorf("RootAccountUsage Sum = %v, want %d (gen-cloudtrail cis_root_matches)", got, wantRoot)
	}

	// An unknown log group is AWS's ResourceNotFoundException through the SDK too.
	_, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("missing"), LogStreamName: aws.String("s"),
		LogEvents: []logtypes.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("x")}}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ResourceNotFoundException" {
		t.Errorf("PutLogEvents to a missing group: %v, want ResourceNotFoundException", err)
	}
}

// TestCrashKeepsAcknowledgedEvents kills the server with SIGKILL while batches are in flight, restarts it
// on the same data, and checks that every acknowledged event and datapoint is there, that the batch in
// flight was stored whole or not at all, and that the metric agrees with the stored events.
func TestCrashKeepsAcknowledgedEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := startServer(t, dir)
	lc := logsClient(s)
	records, _ := genCorpus(t, 20000)
	setupRootFilter(t, ctx, lc, "ct", "s")

	rootIn := func(batch []string) int {
		n := 0
		for _, r := range batch {
			var ev map[string]any
			if err := json.Unmarshal([]byte(r), &ev); err != nil {
				t.Fatal(err)
			}
			if cisRootOracle(ev) {
				n++
			}
		}
		return n
	}
	const batchSize = 500
	var acked, ackedRoot, inflight, inflightRoot atomic.Int64
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		base := time.Now().Add(-30 * time.Minute).UnixMilli()
		for i := 0; i < len(records); i += batchSize {
			batch := records[i:min(i+batchSize, len(records))]
			events := make([]logtypes.InputLogEvent, len(batch))
			for j, r := range batch {
				events[j] = logtypes.InputLogEvent{Timestamp: aws.Int64(base + int64(i+j)), Message: aws.String(r)}
			}
			inflight.Store(int64(len(batch)))
			inflightRoot.Store(int64(rootIn(batch)))
			_, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("ct"), LogStreamName: aws.String("s"), LogEvents: events})
			if err != nil {
				return // the server is gone
			}
			acked.Add(int64(len(batch)))
			ackedRoot.Add(int64(rootIn(batch)))
			inflight.Store(0)
			inflightRoot.Store(0)
		}
	}()
	for acked.Load() < 5*batchSize {
		select {
		case <-stopped:
			t.Fatal("ingest finished before the crash; make the corpus larger")
		case <-time.After(time.Millisecond):
		}
	}
	s.kill()
	<-stopped

	s2 := startServer(t, dir)
	lc2, cc2 := logsClient(s2), cwClient(s2)
	stored := int64(storedEvents(t, ctx, lc2, "ct"))
	a, f := acked.Load(), inflight.Load()
	if stored != a && stored != a+f {
		t.Fatalf("after the crash %d events are stored; %d were acknowledged and %d in flight: a batch was lost or torn", stored, a, f)
	}
	wantRoot := ackedRoot.Load()
	if stored == a+f {
		wantRoot += inflightRoot.Load()
	}
	if got := rootSum(t, ctx, cc2); got != float64(wantRoot) {
		t.Errorf("RootAccountUsage Sum after restart = %v, want %d for the %d stored events", got, wantRoot, stored)
	}
	t.Logf("killed after %d acknowledged events (%d in flight); %d stored after restart", a, f, stored)
}
