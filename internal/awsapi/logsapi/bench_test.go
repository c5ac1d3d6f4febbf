package logsapi_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// BenchmarkPutLogEventsHTTP measures the whole server path: four concurrent aws-sdk-go-v2
// clients send PutLogEvents over HTTP (SigV4-signed, awsJson 1.1) to awsapi, logsapi, logs and
// SQLite with the CIS root filter installed. The clients run in the same process, so their
// serialisation and signing share the CPU with the server: the figure is a lower bound for the
// server alone. The corpus is the one of the store benchmark:
//
//	/work/shared/tools/gen-cloudtrail --events 100000 --out /tmp/ct.ndjson
func BenchmarkPutLogEventsHTTP(b *testing.B) {
	path := os.Getenv("TRAILWATCH_CT_CORPUS")
	if path == "" {
		path = "/tmp/ct.ndjson"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("no CloudTrail corpus: %v", err)
	}
	var corpus []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		corpus = append(corpus, sc.Text())
	}
	f.Close()

	e := newEnvB(b)
	ctx := context.Background()
	c := e.client
	const writers = 4
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		b.Fatal(err)
	}
	for w := range writers {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String(fmt.Sprintf("s%d", w))}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(group),
		FilterName: aws.String("root"), FilterPattern: aws.String(rootPattern),
		MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("RootAccountUsage"),
			MetricNamespace: aws.String("CloudTrailMetrics"), MetricValue: aws.String("1")}}}); err != nil {
		b.Fatal(err)
	}
	var batches [][]types.InputLogEvent
	start := now.Add(-time.Hour).UnixMilli()
	for i := 0; i < len(corpus); {
		var evs []types.InputLogEvent
		size := 0
		for ; i < len(corpus) && len(evs) < 1000 && size+len(corpus[i])+26 <= 1048576; i++ {
			size += len(corpus[i]) + 26
			evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(start + int64(i)), Message: aws.String(corpus[i])})
		}
		batches = append(batches, evs)
	}
	var (
		next, events atomic.Int64
		wg           sync.WaitGroup
		errs         = make(chan error, writers)
	)
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			stream := aws.String(fmt.Sprintf("s%d", w))
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				evs := batches[i%int64(len(batches))]
				if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group),
					LogStreamName: stream, LogEvents: evs}); err != nil {
					errs <- err
					return
				}
				events.Add(int64(len(evs)))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(events.Load())/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events.Load())/float64(b.N), "events/batch")
}
