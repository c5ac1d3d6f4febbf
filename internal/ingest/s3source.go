package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
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
	// Cursors returns the source's listing cursors: for each date partition of its bucket, the
	// key up to which every object of the partition has been processed.
	Cursors(ctx context.Context, source string) (map[string]string, error)
	// SaveCursors stores listing cursors (partition to key), replacing those of the same
	// partitions, in one transaction.
	SaveCursors(ctx context.Context, source string, cursors map[string]string) error
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
//
// # Polling costs what is new
//
// A polling round does not list the whole bucket. CloudTrail's keys are
// <prefix>AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz,
// so they sort by date within one account and region but not across them (account, then region,
// then date): one StartAfter for the bucket would skip every account and region but the last.
// The source therefore keeps one cursor per date partition, the key prefix before a YYYY/MM/DD/
// directory (for CloudTrail, one per account, region and kind of file), in the ObjectLog with the
// processed objects, so it survives restarts. The cursor is the last key up to which every listed
// object of the partition was processed; an object that failed holds its partition's cursor, so
// it is retried (and its error shown) every round.
//
// A round walks the bucket partition by partition: a one-key listing finds the next key after the
// previous partition; if it is in a partition, that partition is listed (Prefix = the partition)
// from a little before its cursor, then the walk resumes after the partition's last key. A new
// account or region is found by the same walk and read from its beginning. Keys outside any date
// partition are listed every round, as before, in pages of growing size (a few files such as
// CloudTrail's ConfigWritabilityCheckFile, or a bucket of another layout). A round thus makes
// about two listings per partition and returns the new keys, those of the look-back window and
// one key per partition: it looks up in the processed set only the keys it lists.
//
// The look-back window is Lookback (one hour by default) before the cursor's file time. CloudTrail
// names a file after the minute it was delivered ("the year, month, day, hour, and minute when the
// log file was delivered", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html),
// and it delivers several files in the same minutes, whose random unique strings sort in any
// order; one can become visible in a listing after a file with a later name. A file that shows
// up in the listing more than Lookback after its name's minute is missed. A delivery delayed by an
// outage does not count: the file is named when it is delivered. Keys re-listed in the window are
// checked against the processed set, which is what makes the window safe. When the file name
// carries no time the window is whole days: the round starts at the directory of the day that
// precedes the cursor's day by Lookback (in practice the previous day).
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
	// Lookback is how far before a partition's cursor a polling round lists again, for objects
	// that became visible after later ones; 0 means DefaultLookback.
	Lookback time.Duration
	// MaxObjectBytes bounds one object as stored (before decompression, which the decoder bounds by
	// the same number); 0 means cloudtrail.DefaultMaxDecompressed. An object larger than that is
	// recorded as bad and reported, never read whole.
	MaxObjectBytes int64
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

// DefaultLookback is S3Source.Lookback's default: twelve times CloudTrail's five-minute delivery
// cadence, for files that become visible a little after later ones.
const DefaultLookback = time.Hour

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
// objects; in polling mode it lists what is new under Prefix (see the type's documentation) and
// processes every object not yet processed.
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

// listPage is the page size of listings that keep every key they return.
const listPage = 1000

// listed is a key a polling round listed, with its date partition ("" if it has none).
type listed struct {
	key, part string
}

func (s *S3Source) lookback() time.Duration {
	if s.Lookback > 0 {
		return s.Lookback
	}
	return DefaultLookback
}

func (s *S3Source) pollRound(ctx context.Context) (Stats, error) {
	cursors, err := s.Log.Cursors(ctx, s.Name)
	if err != nil {
		return Stats{}, fmt.Errorf("read listing cursors: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Chunks are fetched and decoded ahead while the previous chunk is being stored: decoding and
	// SQLite's single writer then overlap.
	chunks := make(chan prepared, 1)
	var listErr error
	start := maps.Clone(cursors) // the walk's; advance moves cursors as chunks are stored
	go func() {
		defer close(chunks)
		var batch []listed
		emit := func(l listed) error {
			batch = append(batch, l)
			if len(batch) < pollChunk {
				return nil
			}
			return send(ctx, chunks, s.prepare(ctx, slices.Clone(batch)), func() { batch = batch[:0] })
		}
		if listErr = s.walk(ctx, start, emit); listErr != nil {
			return
		}
		if len(batch) > 0 {
			listErr = send(ctx, chunks, s.prepare(ctx, batch), func() {})
		}
	}()
	var total Stats
	var errs []error
	blocked := map[string]bool{} // partitions whose cursor stops at a failed object this round
	for p := range chunks {
		st, err := s.store(ctx, p)
		total.Add(st)
		if err != nil {
			cancel()
			for range chunks {
			}
			return total, errors.Join(append(errs, err)...)
		}
		if err := s.advance(ctx, cursors, blocked, p); err != nil {
			cancel()
			for range chunks {
			}
			return total, errors.Join(append(errs, err)...)
		}
		if p.err != nil {
			errs = append(errs, p.err)
		}
	}
	return total, errors.Join(append(errs, listErr)...)
}

// send hands a prepared chunk to the committer, then calls sent.
func send(ctx context.Context, chunks chan<- prepared, p prepared, sent func()) error {
	select {
	case chunks <- p:
		sent()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// advance moves the cursors of the partitions of a stored chunk past its objects, in key order,
// up to the first object that failed (which blocks its partition for the rest of the round), and
// saves those that moved.
func (s *S3Source) advance(ctx context.Context, cursors map[string]string, blocked map[string]bool, p prepared) error {
	moved := map[string]string{}
	for _, l := range p.listed {
		switch {
		case l.part == "" || blocked[l.part]:
		case p.failed[l.key]:
			blocked[l.part] = true
		case l.key > cursors[l.part]:
			cursors[l.part] = l.key
			moved[l.part] = l.key
		}
	}
	if err := s.Log.SaveCursors(ctx, s.Name, moved); err != nil {
		return fmt.Errorf("save listing cursors: %w", err)
	}
	return nil
}

// walk lists what a polling round must look at, in key order, partition by partition (see the
// type's documentation), and hands each key to emit.
func (s *S3Source) walk(ctx context.Context, cursors map[string]string, emit func(listed) error) error {
	pos := "" // every key up to pos has been listed or skipped
	size := int32(1)
	for {
		out, err := s.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(s.Prefix),
			StartAfter: nonEmpty(pos), MaxKeys: aws.Int32(size)})
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		jumped := false
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			part, ok := datePartition(k)
			if !ok {
				if err := emit(listed{key: k}); err != nil {
					return err
				}
				pos = k
				continue
			}
			start := pos
			if c := cursors[part]; c != "" {
				start = max(start, s.windowStart(c))
			}
			last, err := s.listPartition(ctx, part, start, emit)
			if err != nil {
				return err
			}
			pos = max(start, last)
			jumped = true
			break
		}
		switch {
		case jumped:
			// What follows the partition is unknown: look at one key.
			size = 1
		case len(out.Contents) == 0 || !aws.ToBool(out.IsTruncated):
			return nil
		default:
			// Keys outside partitions: list them in pages that double up to listPage, so that the
			// page that runs into the next partition returns few of its keys when such keys are few.
			size = min(2*size, listPage)
		}
	}
}

// listPartition lists a date partition's keys after start and returns the last one ("" if none).
func (s *S3Source) listPartition(ctx context.Context, part, start string, emit func(listed) error) (string, error) {
	last := ""
	p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(part),
		StartAfter: nonEmpty(start), MaxKeys: aws.Int32(listPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list s3://%s/%s: %w", s.Bucket, part, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			l := listed{key: k}
			if kp, ok := datePartition(k); ok && kp == part {
				l.part = part
			}
			if err := emit(l); err != nil {
				return "", err
			}
			last = k
		}
	}
	return last, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// datePartition returns the part of key before its first YYYY/MM/DD/ directory (a valid date),
// the key's date partition; ok is false when the key has no such directory.
func datePartition(key string) (string, bool) {
	for i := 0; i+11 <= len(key); i++ {
		if i > 0 && key[i-1] != '/' {
			continue
		}
		if _, ok := dayAt(key, i); ok {
			return key[:i], true
		}
	}
	return "", false
}

// dayAt parses the YYYY/MM/DD/ directory at key[i:].
func dayAt(key string, i int) (time.Time, bool) {
	if i+11 > len(key) || key[i+4] != '/' || key[i+7] != '/' || key[i+10] != '/' {
		return time.Time{}, false
	}
	for _, j := range []int{0, 1, 2, 3, 5, 6, 8, 9} {
		if key[i+j] < '0' || key[i+j] > '9' {
			return time.Time{}, false
		}
	}
	d, err := time.Parse("2006/01/02", key[i:i+10])
	return d, err == nil
}

// fileStamp finds the delivery time in a CloudTrail file name: _YYYYMMDDTHHmmZ_ (log files) or
// _YYYYMMDDTHHmmssZ (digest files).
var fileStamp = regexp.MustCompile(`_(\d{8}T\d{4}(\d{2})?Z)`)

// windowStart is the StartAfter of a partition whose cursor is cursor: the key a file delivered
// Lookback before the cursor's file would have (the same name with the time moved back), or,
// when the name carries no time, the directory of the day Lookback before the cursor's day.
func (s *S3Source) windowStart(cursor string) string {
	part, ok := datePartition(cursor)
	if !ok {
		return ""
	}
	day, _ := dayAt(cursor, len(part))
	name := cursor[len(part)+11:]
	if m := fileStamp.FindStringSubmatchIndex(name); m != nil {
		layout := "20060102T1504Z"
		if m[4] >= 0 {
			layout = "20060102T150405Z"
		}
		if t, err := time.Parse(layout, name[m[2]:m[3]]); err == nil {
			from := t.Add(-s.lookback())
			// A name whose time is not its directory's day could put this after the cursor.
			if w := part + from.Format("2006/01/02/") + name[:m[2]] + from.Format(layout); w < cursor {
				return w
			}
		}
	}
	return part + day.Add(-s.lookback()).Format("2006/01/02/")
}

// prepared is a set of objects fetched and decoded, ready to be stored.
type prepared struct {
	records cloudtrail.Result
	keys    []string // objects to record as processed once the records are stored
	counts  []int
	listed  []listed        // every key looked at, in key order (polling)
	failed  map[string]bool // keys of listed not processed (to retry)
	err     error           // failures to report (objects not in keys are retried later)
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
	ls := make([]listed, len(keys))
	for i, k := range keys {
		ls[i] = listed{key: k}
	}
	p := s.prepare(ctx, ls)
	st, err := s.store(ctx, p)
	if err != nil {
		return st, err
	}
	return st, p.err
}

// prepare fetches and decodes the objects not yet processed.
func (s *S3Source) prepare(ctx context.Context, ls []listed) prepared {
	p := prepared{listed: ls, failed: map[string]bool{}}
	var todo []string
	for _, l := range ls {
		if cloudtrail.ParseKey(l.key).Digest {
			continue
		}
		done, err := s.Log.Processed(ctx, s.Name, l.key)
		if err != nil {
			for _, l := range ls {
				p.failed[l.key] = true
			}
			return prepared{listed: ls, failed: p.failed, err: fmt.Errorf("check processed objects: %w", err)}
		}
		if !done {
			todo = append(todo, l.key)
		}
	}
	objs := make([]fetched, len(todo))
	s.parallel(len(todo), func(i int) { objs[i] = s.fetch(ctx, todo[i]) })
	var errs []error
	for _, o := range objs {
		switch {
		case o.err != nil:
			errs = append(errs, o.err)
			p.failed[o.key] = true
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

// store stores prepared records, then records their objects as processed.
func (s *S3Source) store(ctx context.Context, p prepared) (Stats, error) {
	st, err := s.Sink.Deliver(ctx, s.Dest, p.records)
	if err != nil {
		return st, err
	}
	if len(p.keys) > 0 {
		if err := s.Log.MarkProcessed(ctx, s.Name, p.keys, p.counts, s.now()); err != nil {
			return st, fmt.Errorf("record processed objects: %w", err)
		}
	}
	return st, nil
}

// fetch reads and decodes one object. Objects that hold no records decode to nothing.
func (s *S3Source) fetch(ctx context.Context, key string) fetched {
	f := fetched{key: key}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		f.err = fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
		return f
	}
	// The object as stored is bounded like its decompression (MaxObjectBytes): a plain-JSON object
	// is never decompressed, so without this a huge one would be read whole. Its declared size is
	// refused before anything is read; a body longer than it declared is cut at the limit. Either
	// way the object never gets better, so it is recorded as bad, not retried.
	limit := s.MaxObjectBytes
	if limit <= 0 {
		limit = cloudtrail.DefaultMaxDecompressed
	}
	tooLarge := func() fetched {
		f.bad = fmt.Errorf("read s3://%s/%s: object is larger than %d bytes: %w", s.Bucket, key, limit, cloudtrail.ErrTooLarge)
		return f
	}
	if out.ContentLength != nil && *out.ContentLength > limit {
		out.Body.Close()
		return tooLarge()
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	out.Body.Close()
	if err != nil {
		f.err = fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
		return f
	}
	if int64(len(data)) > limit {
		return tooLarge()
	}
	f.res, err = cloudtrail.Decoder{MaxDecompressed: limit}.DecodeObject(key, data)
	if err != nil && !errors.Is(err, cloudtrail.ErrNotRecords) {
		f.bad = fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	}
	return f
}
