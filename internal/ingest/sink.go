package ingest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
)

// PutLogEvents' batch limits (PutLogEvents API reference), which CloudTrail's own delivery obeys.
const (
	MaxBatchEvents = 10000
	MaxBatchBytes  = 1048576
	EventOverhead  = 26
	MaxBatchSpan   = 24 * time.Hour
)

// RecordWriter stores batches of records; *logs.Service implements it.
type RecordWriter interface {
	PutRecords(ctx context.Context, sc logs.Scope, in logs.PutRecordsInput) (logs.PutRecordsOutput, error)
}

// Destination is the log group records go to, in a trailwatch account and region.
type Destination struct {
	Scope    logs.Scope
	LogGroup string
}

// Stats counts what a delivery did.
type Stats struct {
	Records, Stored, Duplicates, Rejected, Skipped int
	Bytes                                          int64
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.Stored += o.Stored
	s.Duplicates += o.Duplicates
	s.Rejected += o.Rejected
	s.Skipped += o.Skipped
	s.Bytes += o.Bytes
}

// Sink writes decoded records to log groups. It also remembers the time of the last successful
// delivery and the last error, which GetTrailStatus reports. It is safe for concurrent use.
type Sink struct {
	w   RecordWriter
	now func() time.Time

	lastDelivery atomic.Int64 // epoch ms of the last stored batch
}

// NewSink returns a Sink over w; now is its clock (nil means time.Now).
func NewSink(w RecordWriter, now func() time.Time) *Sink {
	if now == nil {
		now = time.Now
	}
	return &Sink{w: w, now: now}
}

// LastDelivery is when a batch was last written, zero if never.
func (s *Sink) LastDelivery() time.Time {
	if ms := s.lastDelivery.Load(); ms != 0 {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// deliverBatches is how many batches one Deliver writes at once. Concurrent batches share the
// store's group commits; written one after another, every batch waited for a commit of its own.
// Batches of one stream are written concurrently too: a chunk of S3 objects often holds a few
// streams of many batches, and the store keeps nothing that depends on the order of a stream's
// batches (its first and last event times are a minimum and a maximum, and records are
// deduplicated inside each commit). On the S3 polling benchmark (benchstat, six alternating runs
// each) this measured 31.3k events/s against 29.5k with one batch per stream at a time: within
// this machine's noise (p=0.24), so the reason to keep it is the simpler loop, not speed.
const deliverBatches = 16

// Deliver writes records to dest: grouped by log stream, each stream's records in eventTime order
// (stable, so equal times keep their delivery order), cut into batches within PutLogEvents' limits,
// up to deliverBatches batches at once. It returns after every batch is durably stored, or with
// the first error, once the batches under way have finished; batches stored before an error stay
// stored, and delivering the same records again is harmless (deduplication).
func (s *Sink) Deliver(ctx context.Context, dest Destination, res cloudtrail.Result) (Stats, error) {
	st := Stats{Records: len(res.Records), Skipped: res.Skipped}
	if len(res.Records) == 0 {
		return st, nil
	}
	batches := Batches(res.Records)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		next     = make(chan []cloudtrail.Record)
		wg       sync.WaitGroup
	)
	for range min(deliverBatches, len(batches)) {
		wg.Go(func() {
			for batch := range next {
				out, bytes, err := s.put(ctx, dest, batch)
				mu.Lock()
				st.Bytes += bytes
				st.Stored += out.Stored
				st.Duplicates += out.Duplicates
				st.Rejected += out.Rejected
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, batch := range batches {
		select {
		case next <- batch:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return st, firstErr
}

// put writes one batch of one stream and returns what it did and the bytes it carried.
func (s *Sink) put(ctx context.Context, dest Destination, batch []cloudtrail.Record) (logs.PutRecordsOutput, int64, error) {
	in := logs.PutRecordsInput{LogGroupName: dest.LogGroup, LogStreamName: batch[0].StreamName(),
		Events: make([]logs.InputLogEvent, len(batch)), DedupKeys: make([]string, len(batch))}
	var bytes int64
	for i, r := range batch {
		in.Events[i] = logs.InputLogEvent{Timestamp: r.TimestampMillis(), Message: string(r.Raw)}
		in.DedupKeys[i] = r.DedupKey()
		bytes += int64(len(r.Raw))
	}
	if err := ctx.Err(); err != nil {
		return logs.PutRecordsOutput{}, 0, err
	}
	out, err := s.w.PutRecords(ctx, dest.Scope, in)
	if err != nil {
		return out, 0, fmt.Errorf("deliver to log group %s: %w", dest.LogGroup, err)
	}
	s.lastDelivery.Store(s.now().UnixMilli())
	return out, bytes, nil
}

// Batches groups records by log stream and cuts each stream's records, sorted by eventTime, into
// PutLogEvents batches: at most 10,000 events and 1,048,576 bytes (message bytes plus 26 per
// event), spanning at most 24 hours. The input slice is reordered.
//
// A stream's records are first cut into runs that span at most 24 hours from their first record,
// and each run is then cut into batches of nearly equal size rather than greedily. The reason is
// the store: it keeps an appended block as it is, compressed once and never merged again, when the
// block holds at least 480 KiB of messages or 1,024 events (logblock.FullRawBytes and
// logblock.TargetEvents), and a background compactor later merges the smaller blocks, which costs
// CPU. A CloudTrail S3 object of 1,000 records of about 1.3 KB (1.3 MB) cut greedily gives a batch
// of 1 MiB and a remainder of about 0.3 MB that must be merged later; cut evenly it gives two
// batches of about 0.65 MB, and both are kept as they are. See cutEvenly for the rule.
func Batches(recs []cloudtrail.Record) [][]cloudtrail.Record {
	slices.SortStableFunc(recs, func(a, b cloudtrail.Record) int {
		if c := cmp.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Region, b.Region); c != 0 {
			return c
		}
		return cmp.Compare(a.TimestampMillis(), b.TimestampMillis())
	})
	var out [][]cloudtrail.Record
	for start := 0; start < len(recs); {
		first := recs[start]
		end := start + 1
		for end < len(recs) && recs[end].AccountID == first.AccountID && recs[end].Region == first.Region &&
			recs[end].TimestampMillis()-first.TimestampMillis() <= MaxBatchSpan.Milliseconds() {
			end++
		}
		out = cutEvenly(out, recs[start:end])
		start = end
	}
	return out
}

// cutEvenly appends run, the records of one stream within MaxBatchSpan, to out as batches of
// nearly equal size. It takes k, a lower bound of the batches the limits allow (the larger of the
// run's bytes over MaxBatchBytes and its events over MaxBatchEvents, rounded up, and at least 1), and
// closes a batch once it holds its share, a k-th of the run (rounded up) in the dimension that set
// k: its bytes, or its events when those weigh more against their limit. Balancing only that
// dimension is deliberate: a batch closed early on the other one (say, on its share of events in a
// stretch of small records) would hold less than its share of bytes and could fall short of a full
// block, while the batch after it grew. A batch is also cut before an event that would take it past
// MaxBatchEvents or MaxBatchBytes, so shares never break the limits; when such cuts leave a batch
// short of its share, the run takes more than k batches (records of just over half a batch each take
// one batch apiece, as they did greedily), and a large record that overshoots a share leaves the
// batch after it that much smaller: the batches are even for records much smaller than a batch,
// which CloudTrail's are.
func cutEvenly(out [][]cloudtrail.Record, run []cloudtrail.Record) [][]cloudtrail.Record {
	total := 0
	for _, r := range run {
		total += len(r.Raw) + EventOverhead
	}
	k := max(ceilDiv(total, MaxBatchBytes), ceilDiv(len(run), MaxBatchEvents), 1)
	shareBytes, shareEvents := MaxBatchBytes, MaxBatchEvents
	if int64(len(run))*MaxBatchBytes > int64(total)*MaxBatchEvents {
		shareEvents = ceilDiv(len(run), k)
	} else {
		shareBytes = ceilDiv(total, k)
	}
	start, size := 0, 0
	for i, r := range run {
		n := len(r.Raw) + EventOverhead
		if i > start && (i-start >= shareEvents || size >= shareBytes || size+n > MaxBatchBytes) {
			out = append(out, run[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, run[start:])
}

// ceilDiv is a/b rounded up, for a >= 0 and b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }
