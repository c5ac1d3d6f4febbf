package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/corpus"
	"github.com/trailwatch/trailwatch/internal/moto"
)

// genS3Corpus makes an S3-layout corpus of three accounts in objects of up to 1,000 records and
// returns the directory and the CIS root count.
func genS3Corpus(t testing.TB, events int) (string, int) {
	t.Helper()
	dir, sum := corpus.S3(t, events, "--rate", "50", "--accounts", "3", "--per-file", "1000")
	return dir, sum.CISRootMatches
}

// flakyLog fails every other MarkProcessed call (a whole set of objects), as a crash after storing an object's
// events and before recording it would.
type flakyLog struct {
	ObjectLog
	mu sync.Mutex
	n  int
}

func (f *flakyLog) MarkProcessed(ctx context.Context, source string, keys []string, records []int, at time.Time) error {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if n%2 == 0 {
		return errors.New("simulated crash")
	}
	return f.ObjectLog.MarkProcessed(ctx, source, keys, records, at)
}

// drain runs rounds until the queue is empty.
func drain(t *testing.T, src *S3Source) {
	t.Helper()
	empty := 0
	for i := 0; empty < 2; i++ {
		st, err := src.Round(context.Background())

		if st.Records == 0 && err == nil {
			empty++
		} else {
			empty = 0
		}
		if i > 2000 {
			t.Fatal("queue does not drain")
		}
	}
}

// TestS3SourceMoto ingests a gen-cloudtrail S3 corpus through moto's S3 with SQS notifications:
// the CIS root sum equals the generator's count; a crash between storing an object and recording
// it (half the objects) and notifying every object a second time change nothing; a polling
// source over the same bucket ingests the same corpus.
func TestS3SourceMoto(t *testing.T) {
	url := moto.Start(t)
	corpus, wantRoot := genS3Corpus(t, 20000)
	ctx := context.Background()
	s3c, sqsc := moto.Clients(url)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ct-bucket")}); err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ct-queue"), Attributes: map[string]string{"VisibilityTimeout": "0"}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("ct-bucket"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(attrs.Attributes["QueueArn"]), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var totalBytes int64
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		data, _ := os.ReadFile(p)
		totalBytes += int64(len(data))
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ct-bucket"), Key: aws.String(rel), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rel)
		return nil
	})
	// A digest file and a non-record object are ignored.
	for _, k := range []string{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/25/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261125T200000Z.json.gz",
		"AWSLogs/111122223333/CloudTrail/us-east-1/ConfigWritabilityCheckFile"} {
		s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ct-bucket"), Key: aws.String(k), Body: bytes.NewReader([]byte(`{"digestStartTime":"x"}`))})
	}

	e := newEnv(t, time.Now)
	log := &flakyLog{ObjectLog: e.db}
	src := &S3Source{Name: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t", Bucket: "ct-bucket", QueueURL: aws.ToString(q.QueueUrl),
		S3: s3c, SQS: sqsc, Log: log, Sink: e.sink, Dest: e.dest}
	drain(t, src)
	if got := e.rootSum(t); got != float64(wantRoot) {
		t.Fatalf("after first pass with simulated crashes: root sum %v, want %d", got, wantRoot)
	}
	if n := e.eventCount(t); n != 20000 {
		t.Fatalf("%d events stored, want 20000", n)
	}
	// Every object notified again (the crashed ones for real, the others as duplicates).
	src.Log = e.db
	for _, k := range keys {
		body := fmt.Sprintf(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"ct-bucket"},"object":{"key":%q}}}]}`, k)
		if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, src)
	if got, n := e.rootSum(t), e.eventCount(t); got != float64(wantRoot) || n != 20000 {
		t.Fatalf("after notifying twice: root sum %v, %d events; want %d, 20000", got, n, wantRoot)
	}
	if st := src.Status(); st.LatestDelivery.IsZero() || st.LatestError != "" {
		t.Fatalf("status %+v", st)
	}

	// Polling mode, into a fresh database whose log group has all 14 CIS filters, so that the speed
	// logged is the (fetch, decode, store, apply the CIS filters).
	e2 := newCISEnv(t)
	poll := &S3Source{Name: "poll", Bucket: "ct-bucket", Prefix: "AWSLogs/", S3: s3c, Log: e2.db, Sink: e2.sink, Dest: e2.dest}
	start := time.Now()
	st, err := poll.Round(ctx)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if got := e2.rootSum(t); got != float64(wantRoot) || st.Stored != 20000 {
		t.Fatalf("polling: root sum %v, stats %+v; want %d", got, st, wantRoot)
	}
	t.Logf("polling round over moto, 14 CIS filters: %d events, %d objects, %.0f events/s, %.1f MB/s (uncompressed %.1f MB)",
		st.Records, len(keys), float64(st.Records)/elapsed.Seconds(), float64(st.Bytes)/1e6/elapsed.Seconds(), float64(st.Bytes)/1e6)
	// A second round finds everything processed.
	if st, err := poll.Round(ctx); err != nil || st.Records != 0 {
		t.Fatalf("second polling round: %+v %v", st, err)
	}
}

// fakeQueue is an SQS stand-in for the Run loop test: receives fail first, then return one
// message, then nothing.
type fakeQueue struct {
	mu       sync.Mutex
	calls    []time.Time
	deleted  int
	messages []string
}

func (f *fakeQueue) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, time.Now())
	if len(f.calls) == 1 {
		return nil, errors.New("connection refused")
	}
	out := &sqs.ReceiveMessageOutput{}
	for _, m := range f.messages {
		out.Messages = append(out.Messages, sqstypes.Message{Body: aws.String(m), ReceiptHandle: aws.String("h"), MessageId: aws.String("m")})
	}
	f.messages = nil
	return out, nil
}

func (f *fakeQueue) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.mu.Lock()
	f.deleted++
	f.mu.Unlock()
	return &sqs.DeleteMessageOutput{}, nil
}

type fakeBucket map[string][]byte

func (b fakeBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	data, ok := b[aws.ToString(in.Key)]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (b fakeBucket) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

type memLog struct {
	mu   sync.Mutex
	done map[string]bool
}

func (m *memLog) Processed(_ context.Context, source, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.done[source+"\x00"+key], nil
}

func (m *memLog) MarkProcessed(_ context.Context, source string, keys []string, _ []int, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.done[source+"\x00"+k] = true
	}
	return nil
}

type countingSink struct {
	mu      sync.Mutex
	records int
}

func (c *countingSink) Deliver(_ context.Context, _ Destination, res cloudtrail.Result) (Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records += len(res.Records)
	return Stats{Records: len(res.Records), Stored: len(res.Records)}, nil
}

// TestRunRetries checks the Run loop with a fake clock: a failed round is retried after Interval,
// a round that found work is followed at once, an empty round waits Interval, and cancelling
// stops the loop; GetTrailStatus's error clears after a good round.
func TestRunRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{messages: []string{`{"s3Bucket":"b","s3ObjectKey":["AWSLogs/1/CloudTrail/us-east-1/f.json"]}`}}
		sink := &countingSink{}
		var errs []error
		src := &S3Source{Name: "t", Bucket: "b", QueueURL: "q", SQS: q, Log: &memLog{done: map[string]bool{}}, Sink: sink,
			S3:       fakeBucket{"AWSLogs/1/CloudTrail/us-east-1/f.json": []byte(`{"Records":[{"eventTime":"2026-11-25T20:10:04Z","eventID":"x"}]}`)},
			Interval: 30 * time.Second, OnError: func(err error) { errs = append(errs, err) }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		start := time.Now()
		go func() { done <- src.Run(ctx) }()
		synctest.Wait()
		if len(errs) != 1 || src.Status().LatestError == "" {
			t.Fatalf("first round: errs %v, status %+v", errs, src.Status())
		}
		time.Sleep(30 * time.Second) // fake time: the retry is due
		synctest.Wait()
		time.Sleep(95 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		var offsets []time.Duration
		for _, c := range q.calls {
			offsets = append(offsets, c.Sub(start))
		}
		// 0: fails; 30s: one message (work, so again at once); 30s: empty; 60s, 90s, 120s: empty.
		want := []time.Duration{0, 30 * time.Second, 30 * time.Second, 60 * time.Second, 90 * time.Second, 120 * time.Second}
		if fmt.Sprint(offsets) != fmt.Sprint(want) || sink.records != 1 || q.deleted != 1 {
			t.Fatalf("receives at %v (want %v), %d records, %d deleted", offsets, want, sink.records, q.deleted)
		}
		if st := src.Status(); st.LatestError != "" || st.LatestDelivery.IsZero() {
			t.Fatalf("status %+v", st)
		}
	})
}
