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
	// MarkProcessed records the object as processed (idempotent).
	MarkProcessed(ctx context.Context, source, key string, at time.Time, records int) error
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
	Now         func() time.Time
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
	var total Stats
	out, err := s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(s.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: s.WaitSeconds,
	})
	if err != nil {
		return total, fmt.Errorf("receive SQS messages: %w", err)
	}
	var errs []error
	for _, m := range out.Messages {
		refs, err := ParseNotification(aws.ToString(m.Body))
		if err != nil {
			// A message that is not a notification can never succeed: drop it rather than let it
			// come back forever.
			errs = append(errs, fmt.Errorf("message %s: %w", aws.ToString(m.MessageId), err))
			if _, err := s.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				errs = append(errs, fmt.Errorf("delete SQS message: %w", err))
			}
			continue
		}
		ok := true
		for _, ref := range refs {
			if ref.Bucket != s.Bucket || !strings.HasPrefix(ref.Key, s.Prefix) {
				continue
			}
			st, err := s.object(ctx, ref.Key)
			total.Add(st)
			if err != nil {
				errs = append(errs, err)
				ok = false
				break
			}
		}
		if !ok {
			continue // the message comes back after its visibility timeout
		}
		if _, err := s.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			errs = append(errs, fmt.Errorf("delete SQS message: %w", err))
		}
	}
	return total, errors.Join(errs...)
}

func (s *S3Source) pollRound(ctx context.Context) (Stats, error) {
	var total Stats
	p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return total, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		for _, o := range page.Contents {
			st, err := s.object(ctx, aws.ToString(o.Key))
			total.Add(st)
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// object processes one object unless the log says it was processed.
func (s *S3Source) object(ctx context.Context, key string) (Stats, error) {
	if cloudtrail.ParseKey(key).Digest {
		return Stats{}, nil
	}
	done, err := s.Log.Processed(ctx, s.Name, key)
	if err != nil {
		return Stats{}, fmt.Errorf("check processed objects: %w", err)
	}
	if done {
		return Stats{}, nil
	}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return Stats{}, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return Stats{}, fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	res, err := cloudtrail.DecodeObject(key, data)
	var st Stats
	switch {
	case errors.Is(err, cloudtrail.ErrNotRecords):
	case err != nil:
		// A corrupt object never gets better: record it as processed (with no records) so it does
		// not block the queue, and report it.
		if merr := s.Log.MarkProcessed(ctx, s.Name, key, s.now(), 0); merr != nil {
			return st, fmt.Errorf("record processed object: %w", merr)
		}
		return st, fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	default:
		if st, err = s.Sink.Deliver(ctx, s.Dest, res); err != nil {
			return st, err
		}
	}
	if err := s.Log.MarkProcessed(ctx, s.Name, key, s.now(), st.Records); err != nil {
		return st, fmt.Errorf("record processed object: %w", err)
	}
	return st, nil
}
