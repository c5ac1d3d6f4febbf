package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
)

// S3API is the part of the S3 client an S3Source uses; *s3.Client implements it.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// SQSAPI is the part of the SQS client an S3Source uses; *sqs.Client implements it.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// ObjectLog is the durable record of the objects a source has processed, so that each object is
// processed once across restarts.
type ObjectLog interface {
	// Processed reports whether the source already processed the object.
	Processed(ctx context.Context, source, key string) (bool, error)
	// MarkProcessed records objects (keys, with the number of records each held) as processed,
	// in one transaction (idempotent).
	MarkProcessed(ctx context.Context, source string, keys []string, records []int, at time.Time) error
}

// S3Source reads CloudTrail log files from an S3 bucket, either from SQS notifications of new
// objects (QueueURL set) or by listing the bucket (polling mode, for buckets without
// notifications).
//
// Each object is processed once: its records are durably stored (Sink), then it is recorded in
// the ObjectLog, then its SQS message is deleted. A crash between any two steps repeats the
// earlier ones, which deduplication makes harmless; a message is deleted only after all its
// objects' events are stored. Objects are identified by key alone: CloudTrail never rewrites a key
// (each file name carries a unique id).
type S3Source struct {
	// Name identifies the source in the ObjectLog (a trail ARN).
	Name           string
	Bucket, Prefix string
	QueueURL       string
	S3             S3API
	SQS            SQSAPI
	Log            ObjectLog
	Sink           Deliverer
	Dest           Destination
	// Interval is the pause between rounds that found nothing (polling mode, or an empty queue
	// with WaitSeconds 0); 0 means one minute.
	Interval time.Duration
	// WaitSeconds is the SQS long-poll wait, 0 to 20.
	WaitSeconds int32
	// Workers is how many objects (polling) or messages (queue) are processed at once; 0 means 4.
	// Concurrent batches share SQLite commits (group commit), which is most of the gain.
	Workers int
	Now     func() time.Time
	// OnError, when non-nil, is told of each failed round.
	OnError func(error)

	mu        sync.Mutex
	lastTime  time.Time
	lastError string
	lastErrAt time.Time
}

// Status is what GetTrailStatus reports about a source.
type Status struct {
	// LatestDelivery is when an object's records were last stored.
	LatestDelivery time.Time
	// LatestError is the last round's error ("" after a successful round) and when it happened.
	LatestError     string
	LatestErrorTime time.Time
}

// Status returns the source's latest delivery and error.
func (s *S3Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{LatestDelivery: s.lastTime, LatestError: s.lastError, LatestErrorTime: s.lastErrAt}
}

func (s *S3Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *S3Source) record(err error, delivered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if delivered {
		s.lastTime = s.now()
	}
	if err != nil {
		s.lastError, s.lastErrAt = err.Error(), s.now()
	} else {
		s.lastError = ""
	}
}

// Run processes rounds until ctx is cancelled. A round that fails is reported and retried after
// Interval; a round that found work is followed at once by the next.
func (s *S3Source) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		st, err := s.Round(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && s.OnError != nil {
			s.OnError(err)
		}
		if err == nil && st.Records > 0 && s.QueueURL != "" {
			continue
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Round does one unit of work: in queue mode it receives up to 10 messages and processes their
// objects; in polling mode it lists the bucket under Prefix and processes every object not yet
// processed.
func (s *S3Source) Round(ctx context.Context) (Stats, error) {
	var st Stats
	var err error
	if s.QueueURL != "" {
		st, err = s.queueRound(ctx)
	} else {
		st, err = s.pollRound(ctx)
	}
	s.record(err, st.Stored > 0 || st.Duplicates > 0)
	return st, err
}

func (s *S3Source) queueRound(ctx context.Context) (Stats, error) {
	out, err := s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: s.WaitSeconds,
	})
	if err != nil {
		return Stats{}, fmt.Errorf("receive SQS messages: %w", err)
	}
	var errs []error
	var keys []string
	var handles []*string
	seen := map[string]bool{}
	for _, m := range out.Messages {
		refs, err := ParseNotification(aws.ToString(m.Body))
		if err != nil {
			// A message that is not a notification can never succeed: drop it rather than let it
			// come back forever.
			errs = append(errs, fmt.Errorf("message %s: %w", aws.ToString(m.MessageId), err))
		}
		for _, ref := range refs {
			if ref.Bucket == s.Bucket && strings.HasPrefix(ref.Key, s.Prefix) && !seen[ref.Key] {
				seen[ref.Key] = true
				keys = append(keys, ref.Key)
			}
		}
		handles = append(handles, m.ReceiptHandle)
	}
	st, err := s.processKeys(ctx, keys)
	if err != nil {
		// The messages come back after their visibility timeout; objects already stored are
		// skipped then.
		return st, errors.Join(append(errs, err)...)
	}
	for _, h := range handles {
		if _, err := s.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: h}); err != nil {
			errs = append(errs, fmt.Errorf("delete SQS message: %w", err))
		}
	}
	return st, errors.Join(errs...)
}

// parallel runs fn(0..n-1) on up to Workers goroutines and waits for them.
func (s *S3Source) parallel(n int, fn func(i int)) {
	workers := s.Workers
	if workers <= 0 {
		workers = 4
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// pollChunk is how many objects a polling round stores together.
const pollChunk = 100

func (s *S3Source) pollRound(ctx context.Context) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Chunks are fetched and decoded ahead while the previous chunk is being stored: decoding and
	// SQLite's single writer then overlap.
	chunks := make(chan prepared, 1)
	var listErr error
	go func() {
		defer close(chunks)
		p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				listErr = fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
				return
			}
			for i := 0; i < len(page.Contents); i += pollChunk {
				var keys []string
				for _, o := range page.Contents[i:min(i+pollChunk, len(page.Contents))] {
					keys = append(keys, aws.ToString(o.Key))
				}
				select {
				case chunks <- s.prepare(ctx, keys):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var total Stats
	for p := range chunks {
		st, err := s.commit(ctx, p)
		total.Add(st)
		if err != nil {
			cancel()
			for range chunks {
			}
			return total, err
		}
	}
	return total, listErr
}

// prepared is a set of objects fetched and decoded, ready to be stored.
type prepared struct {
	records cloudtrail.Result
	keys    []string // objects to record as processed once the records are stored
	counts  []int
	err     error // failures to report (objects not in keys are retried later)
}

// fetched is one object read and decoded.
type fetched struct {
	key string
	res cloudtrail.Result
	err error // reading failed: retry later
	bad error // decoding failed: the object never gets better
}

// processKeys stores the records of the objects not yet processed, together: they are fetched and
// decoded concurrently, delivered as one set (a few large transactions), then recorded as
// processed in one transaction. Nothing is recorded unless the records are stored.
func (s *S3Source) processKeys(ctx context.Context, keys []string) (Stats, error) {
	return s.commit(ctx, s.prepare(ctx, keys))
}

// prepare fetches and decodes the objects not yet processed.
func (s *S3Source) prepare(ctx context.Context, keys []string) prepared {
	var p prepared
	var todo []string
	for _, k := range keys {
		if cloudtrail.ParseKey(k).Digest {
			continue
		}
		done, err := s.Log.Processed(ctx, s.Name, k)
		if err != nil {
			p.err = fmt.Errorf("check processed objects: %w", err)
			return prepared{err: p.err}
		}
		if !done {
			todo = append(todo, k)
		}
	}
	objs := make([]fetched, len(todo))
	s.parallel(len(todo), func(i int) { objs[i] = s.fetch(ctx, todo[i]) })
	var errs []error
	for _, o := range objs {
		switch {
		case o.err != nil:
			errs = append(errs, o.err)
		case o.bad != nil:
			errs = append(errs, o.bad)
			p.keys, p.counts = append(p.keys, o.key), append(p.counts, 0)
		default:
			p.records.Records = append(p.records.Records, o.res.Records...)
			p.records.Skipped += o.res.Skipped
			p.keys, p.counts = append(p.keys, o.key), append(p.counts, len(o.res.Records))
		}
	}
	p.err = errors.Join(errs...)
	return p
}

// commit stores prepared records, then records their objects as processed.
func (s *S3Source) commit(ctx context.Context, p prepared) (Stats, error) {
	st, err := s.Sink.Deliver(ctx, s.Dest, p.records)
	if err != nil {
		return st, err
	}
	if len(p.keys) > 0 {
		if err := s.Log.MarkProcessed(ctx, s.Name, p.keys, p.counts, s.now()); err != nil {
			return st, fmt.Errorf("record processed objects: %w", err)
		}
	}
	return st, p.err
}

// fetch reads and decodes one object. Objects that hold no records decode to nothing.
func (s *S3Source) fetch(ctx context.Context, key string) fetched {
	f := fetched{key: key}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		f.err = fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
		return f
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		f.err = fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
		return f
	}
	f.res, err = cloudtrail.DecodeObject(key, data)
	if err != nil && !errors.Is(err, cloudtrail.ErrNotRecords) {
		f.bad = fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	}
	return f
}
