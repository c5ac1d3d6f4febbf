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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	mu      sync.Mutex
	done    map[string]bool
	cursors map[string]string
}

func (m *memLog) Cursors(_ context.Context, source string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for k, v := range m.cursors {
		if part, ok := strings.CutPrefix(k, source+"\x00"); ok {
			out[part] = v
		}
	}
	return out, nil
}

func (m *memLog) SaveCursors(_ context.Context, source string, cursors map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cursors == nil {
		m.cursors = map[string]string{}
	}
	for part, key := range cursors {
		m.cursors[source+"\x00"+part] = key
	}
	return nil
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

// listingBucket is an S3 stand-in that lists as S3 does (keys in byte order, Prefix,
// StartAfter, MaxKeys up to 1,000, continuation tokens) and counts the listings and the keys
// they return. GetObject of a key in fail fails.
type listingBucket struct {
	mu      sync.Mutex
	objects map[string][]byte
	fail    map[string]bool
	lists   int
	keys    int
}

func newListingBucket() *listingBucket {
	return &listingBucket{objects: map[string][]byte{}, fail: map[string]bool{}}
}

// put stores an object: one record for a .json.gz key, nothing for others (CloudTrail's
// ConfigWritabilityCheckFile is empty).
func (b *listingBucket) put(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !strings.HasSuffix(key, ".json.gz") {
		b.objects[key] = nil
		return
	}
	b.objects[key] = fmt.Appendf(nil, `{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-25T20:10:04Z","eventID":%q,"eventName":"ConsoleLogin"}]}`, key)
}

func (b *listingBucket) counts() (lists, keys int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lists, keys = b.lists, b.keys
	b.lists, b.keys = 0, 0
	return lists, keys
}

func (b *listingBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := aws.ToString(in.Key)
	data, ok := b.objects[k]
	if !ok || b.fail[k] {
		return nil, errors.New("AccessDenied")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (b *listingBucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lists++
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	after := max(aws.ToString(in.StartAfter), aws.ToString(in.ContinuationToken))
	limit := 1000
	if n := int(aws.ToInt32(in.MaxKeys)); n > 0 && n < limit {
		limit = n
	}
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(false)}
	for _, k := range keys {
		if !strings.HasPrefix(k, aws.ToString(in.Prefix)) || k <= after {
			continue
		}
		if len(out.Contents) == limit {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = out.Contents[limit-1].Key
			break
		}
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	b.keys += len(out.Contents)
	return out, nil
}

// countingLog counts the processed-set lookups of an ObjectLog.
type countingLog struct {
	ObjectLog
	lookups atomic.Int64
}

func (c *countingLog) Processed(ctx context.Context, source, key string) (bool, error) {
	c.lookups.Add(1)
	return c.ObjectLog.Processed(ctx, source, key)
}

// ctKey is the key CloudTrail gives a log file of account and region delivered at t.
func ctKey(account, region string, t time.Time, unique string) string {
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz",
		account, region, t.Format("2006/01/02"), account, region, t.Format("20060102T1504Z"), unique)
}

var (
	cursorAccounts = []string{"111122223333", "444455556666"}
	cursorRegions  = []string{"eu-west-1", "us-east-1"}
	historyEnd     = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
)

// fillHistory puts days of history in b: for each account and region a log file every 30 minutes,
// an hourly digest, and CloudTrail's ConfigWritabilityCheckFile; and an organization trail's
// files. It returns the number of log files.
func fillHistory(b *listingBucket, days int) int {
	n := 0
	for _, acct := range cursorAccounts {
		for _, region := range cursorRegions {
			b.put("AWSLogs/" + acct + "/CloudTrail/" + region + "/ConfigWritabilityCheckFile")
			for t := historyEnd.AddDate(0, 0, -days); t.Before(historyEnd); t = t.Add(30 * time.Minute) {
				b.put(ctKey(acct, region, t, "Mu0KsOhtH1ar15ZZ"))
				n++
				if t.Minute() == 0 {
					b.put(fmt.Sprintf("AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_main_%s_%s.json.gz",
						acct, region, t.Format("2006/01/02"), acct, region, region, t.Format("20060102T150405Z")))
				}
			}
		}
	}
	for t := historyEnd.AddDate(0, 0, -days); t.Before(historyEnd); t = t.Add(time.Hour) {
		b.put(strings.Replace(ctKey("777788889999", "us-east-1", t, "Zx9KsOhtH1ar15QQ"), "AWSLogs/", "AWSLogs/o-exampleorgid/", 1))
		n++
	}
	return n
}

// TestPollingCostsWhatIsNew is issue 11's item 6: after a first round over a bucket of history, a
// round that finds one new file lists, returns and looks up the same handful of keys whether the
// history is 2 days or 8 (O(new), not O(N)), also after a restart (the cursors are stored), for a
// bucket of several accounts, regions and an organization trail's layout.
func TestPollingCostsWhatIsNew(t *testing.T) {
	type cost struct{ lists, keys, lookups int }
	measure := func(days int) cost {
		ctx := context.Background()
		b := newListingBucket()
		n := fillHistory(b, days)
		e := newEnv(t, time.Now)
		sink := &countingSink{}
		log := &countingLog{ObjectLog: e.db}
		src := &S3Source{Name: "poll", Bucket: "ct", S3: b, Log: log, Sink: sink}
		if _, err := src.Round(ctx); err != nil {
			t.Fatal(err)
		}
		if sink.records != n {
			t.Fatalf("%d days: first round stored %d records, want %d", days, sink.records, n)
		}
		b.put(ctKey("444455556666", "eu-west-1", historyEnd.Add(10*time.Minute), "NewNewNewNewNew1"))
		b.counts()
		log.lookups.Store(0)
		// A restart: a new source of the same name over the same store.
		src = &S3Source{Name: "poll", Bucket: "ct", S3: b, Log: log, Sink: sink}
		st, err := src.Round(ctx)
		if err != nil || st.Records != 1 || sink.records != n+1 {
			t.Fatalf("%d days: second round %+v, %v; %d records in all, want %d", days, st, err, sink.records, n+1)
		}
		lists, keys := b.counts()
		return cost{lists, keys, int(log.lookups.Load())}
	}
	small, large := measure(2), measure(8)
	t.Logf("second round: %+v over 2 days of history, %+v over 8", small, large)
	if small != large {
		t.Fatalf("the second round's cost grows with the history: %+v over 2 days, %+v over 8", small, large)
	}
	// 9 partitions (5 of log files, 4 of digests): a one-key listing to find each and one to list
	// it, plus the last; the keys are those of the one-hour window (up to 4 a partition with the
	// ConfigWritabilityCheckFile) and the new file; digests are not looked up.
	if large.lists > 2*9+1 || large.keys > 9+4*4+1+4*2+1+1 || large.lookups > 4*4+1+1+1 {
		t.Fatalf("second round costs %+v", large)
	}
}

// TestPollingLateAndNewPartitions pins the look-back decision: a file that shows up after later
// ones is read if its name's time is within Lookback of the newest file's, and missed beyond; a
// new account (sorting before the others) is read from its beginning; an object that cannot be
// read holds its partition's cursor and is read once it can be, while the other partitions
// move on.
func TestPollingLateAndNewPartitions(t *testing.T) {
	ctx := context.Background()
	b := newListingBucket()
	n := fillHistory(b, 1)
	sink := &countingSink{}
	log := &memLog{done: map[string]bool{}}
	src := &S3Source{Name: "poll", Bucket: "ct", S3: b, Log: log, Sink: sink} // Lookback: one hour
	round := func(step string, wantRecords int, wantErr bool) {
		t.Helper()
		st, err := src.Round(ctx)
		if (err != nil) != wantErr || st.Records != wantRecords {
			t.Fatalf("%s: round stored %d records (%v), want %d (error %v)", step, st.Records, err, wantRecords, wantErr)
		}
	}
	round("first", n, false)
	newest := historyEnd.Add(-30 * time.Minute)                                                // the last file of each partition
	b.put(ctKey("111122223333", "us-east-1", newest.Add(-20*time.Minute), "AAAAAAAAAAAAAAAA")) // late, in the window
	b.put(ctKey("111122223333", "us-east-1", newest.Add(-3*time.Hour), "BBBBBBBBBBBBBBBB"))    // late beyond it
	round("late files", 1, false)
	for i := range 3 {
		b.put(ctKey("000011112222", "us-east-1", historyEnd.AddDate(0, 0, -3).Add(time.Duration(i)*time.Hour), "CCCCCCCCCCCCCCCC"))
	}
	round("a new account", 3, false)

	bad := ctKey("444455556666", "us-east-1", historyEnd, "DDDDDDDDDDDDDDDD")
	b.put(bad)
	b.fail[bad] = true
	b.put(ctKey("444455556666", "us-east-1", historyEnd.Add(5*time.Minute), "EEEEEEEEEEEEEEEE"))
	b.put(ctKey("444455556666", "us-east-1", historyEnd.Add(3*time.Hour), "FFFFFFFFFFFFFFFF"))
	b.put(ctKey("444455556666", "us-west-2", historyEnd.Add(3*time.Hour), "GGGGGGGGGGGGGGGG"))
	round("an unreadable file", 3, true)
	round("the unreadable file again", 0, true)
	b.mu.Lock()
	delete(b.fail, bad)
	b.mu.Unlock()
	round("the file readable", 1, false)
	round("nothing new", 0, false)
	cur, _ := log.Cursors(ctx, "poll")
	if got, want := cur["AWSLogs/444455556666/CloudTrail/us-east-1/"], ctKey("444455556666", "us-east-1", historyEnd.Add(3*time.Hour), "FFFFFFFFFFFFFFFF"); got != want {
		t.Fatalf("cursor %q, want %q", got, want)
	}
}

// TestPollingOtherLayouts: keys outside date partitions (a bucket of another layout, or files
// beside CloudTrail's) are still read, every round through the processed set, before, between and
// after partitions.
func TestPollingOtherLayouts(t *testing.T) {
	ctx := context.Background()
	b := newListingBucket()
	for i := range 30 {
		b.put(fmt.Sprintf("AWSLogs/a-flat/f%02d.json.gz", i))
		b.put(fmt.Sprintf("AWSLogs/zz-flat/f%02d.json.gz", i))
	}
	n := 60 + fillHistory(b, 1)
	sink := &countingSink{}
	src := &S3Source{Name: "poll", Bucket: "ct", Prefix: "AWSLogs/", S3: b, Log: &memLog{done: map[string]bool{}}, Sink: sink}
	if st, err := src.Round(ctx); err != nil || st.Records != n {
		t.Fatalf("first round %+v, %v; want %d records", st, err, n)
	}
	b.put("AWSLogs/a-flat/f99.json.gz")
	b.put("AWSLogs/111122223333/README.json.gz")
	b.put("AWSLogs/zz-flat/f99.json.gz")
	if st, err := src.Round(ctx); err != nil || st.Records != 3 {
		t.Fatalf("second round %+v, %v; want 3 records", st, err)
	}
}

func TestDatePartition(t *testing.T) {
	tests := []struct {
		key, part string
		ok        bool
	}{
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_x.json.gz", "AWSLogs/111122223333/CloudTrail/us-east-1/", true},
		{"org/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/01/02/f.json.gz", "org/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/", true},
		{"2026/11/25/f.json", "", true},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/ConfigWritabilityCheckFile", "", false},
		{"logs/2026/13/25/f.json", "", false},
		{"logs/x2026/11/25/f.json", "", false},
		{"logs/2026/11/25", "", false},
	}
	for _, tt := range tests {
		if part, ok := datePartition(tt.key); part != tt.part || ok != tt.ok {
			t.Errorf("datePartition(%q) = %q, %v; want %q, %v", tt.key, part, ok, tt.part, tt.ok)
		}
	}
}

func TestWindowStart(t *testing.T) {
	s := &S3Source{Lookback: time.Hour}
	p := "AWSLogs/111122223333/CloudTrail/us-east-1/"
	tests := []struct{ cursor, want string }{
		{p + "2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_Mu0KsOhtH1ar15ZZ.json.gz",
			p + "2026/11/25/111122223333_CloudTrail_us-east-1_20261125T1910Z"},
		// Across midnight, the window starts in the previous day's directory.
		{p + "2026/11/25/111122223333_CloudTrail_us-east-1_20261125T0010Z_Mu0KsOhtH1ar15ZZ.json.gz",
			p + "2026/11/24/111122223333_CloudTrail_us-east-1_20261124T2310Z"},
		// Digest files carry seconds.
		{"AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/25/1_CloudTrail-Digest_us-east-1_main_us-east-1_20261125T200000Z.json.gz",
			"AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/25/1_CloudTrail-Digest_us-east-1_main_us-east-1_20261125T190000Z"},
		// Without a time in the name, or with one that is not the directory's day: by days.
		{"logs/2026/11/25/events-0001.json", "logs/2026/11/24/"},
		{p + "2026/11/25/111122223333_CloudTrail_us-east-1_20261130T0010Z_x.json.gz", p + "2026/11/24/"},
	}
	for _, tt := range tests {
		if got := s.windowStart(tt.cursor); got != tt.want {
			t.Errorf("windowStart(%q)\n got %q\nwant %q", tt.cursor, got, tt.want)
		}
	}
}

// FuzzDatePartition checks the key parsing the cursors rely on: a partition is a prefix of its
// key, empty or ending in "/", and a cursor's window starts inside its partition, before it.
func FuzzDatePartition(f *testing.F) {
	f.Add("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_x.json.gz")
	f.Add("a/2026/11/25/_20261125T201000Z")
	f.Add("2026/02/29/x")
	f.Fuzz(func(t *testing.T, key string) {
		part, ok := datePartition(key)
		if !ok {
			return
		}
		if !strings.HasPrefix(key, part) || part != "" && !strings.HasSuffix(part, "/") {
			t.Fatalf("datePartition(%q) = %q", key, part)
		}
		s := &S3Source{}
		w := s.windowStart(key)
		if !strings.HasPrefix(w, part) || w >= key {
			t.Fatalf("windowStart(%q) = %q: not in %q before the key", key, w, part)
		}
	})
}
