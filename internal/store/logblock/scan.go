package logblock

import (
	"container/heap"
	"runtime"
	"slices"
	"sync"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// Source hands Scan the blocks a query may need, without their bytes until Scan loads them. A
// backend reads them from one consistent snapshot (a read transaction), so that a compaction or
// expiry committed meanwhile neither hides nor repeats events.
type Source interface {
	// Next returns the next block in the order Scan asks for (see Scan), or ok false at the end.
	Next() (m Meta, ok bool, err error)
	// Load returns the encoded bytes of a block Next returned.
	Load(m Meta) ([]byte, error)
	// Stream returns the name of a stream whose events the query wants, or ok false for a stream
	// it does not (not among the query's streams).
	Stream(id int64) (name string, ok bool, err error)
}

// Range is what a backend's Source must select, derived from a query: the blocks of the group
// (and of the query's streams) with Bucket in [FirstBucket, LastBucket], in the order Ascending
// says. Blocks outside it hold no event the query can return.
type Range struct {
	FirstBucket, LastBucket int64
	// Ascending: order by (Bucket, MinTS). Otherwise by (Bucket, MaxTS) descending.
	Ascending bool
}

// RangeOf returns the blocks q can need.
func RangeOf(q logs.EventQuery) Range {
	r := Range{FirstBucket: Bucket(q.StartTime), LastBucket: Bucket(1<<62 - 1), Ascending: !q.Descending}
	if q.After != nil {
		r.FirstBucket = max(r.FirstBucket, Bucket(q.After.Timestamp))
	}
	if q.EndTime > 0 {
		r.LastBucket = Bucket(q.EndTime - 1)
	}
	if q.Before != nil {
		r.LastBucket = min(r.LastBucket, Bucket(q.Before.Timestamp))
	}
	return r
}

// wants reports whether an entry is within q's time range and cursors.
func wants(q *logs.EventQuery, e *Entry) bool {
	if e.Timestamp < q.StartTime || (q.EndTime > 0 && e.Timestamp >= q.EndTime) {
		return false
	}
	if q.After != nil && (e.Timestamp < q.After.Timestamp || e.Timestamp == q.After.Timestamp && e.Seq <= q.After.Seq) {
		return false
	}
	if q.Before != nil && (e.Timestamp > q.Before.Timestamp || e.Timestamp == q.Before.Timestamp && e.Seq >= q.Before.Seq) {
		return false
	}
	return true
}

// overlaps reports whether a block's time range meets q's, so that loading it may pay.
func overlaps(q *logs.EventQuery, m Meta) bool {
	if m.MaxTS < q.StartTime || (q.EndTime > 0 && m.MinTS >= q.EndTime) {
		return false
	}
	if q.After != nil && m.MaxTS < q.After.Timestamp {
		return false
	}
	if q.Before != nil && m.MinTS > q.Before.Timestamp {
		return false
	}
	return true
}

// cursor is a block being merged: its wanted entries with their streams' names, and the next one.
// An ascending cursor over a large block decompresses its messages as the merge reaches them:
// entries[:loaded] have their messages, and part reads the others (pos holds their positions in
// the block). Every other cursor has all its messages and a nil part.
type cursor struct {
	entries []Entry
	names   []string
	next    int
	pos     []int32
	loaded  int
	part    *partial
	// ahead, when not nil, is a load running in its own goroutine (see prefetch); the cursor's
	// other fields are the scan's to touch only once it has been received from.
	ahead chan error
}

// prefetch starts the cursor's first load in a goroutine of its own, so that the blocks a page
// starts in decompress their skipped messages on all cores: an ascending page starting inside a
// block must decompress every message before its first wanted one (zstd cannot skip), and a
// page over a group whose streams' blocks overlap starts inside one block per stream. The scan
// waits for it (wait) before it reads the cursor.
func (c *cursor) prefetch() {
	c.ahead = make(chan error, 1)
	go func() { c.ahead <- c.load() }()
}

// wait waits for a prefetch in flight, if any, and returns its error.
func (c *cursor) wait() error {
	if c.ahead == nil {
		return nil
	}
	err := <-c.ahead
	c.ahead = nil
	return err
}

// load gives entries[next] its message, and the following ones up to chunkBytes of messages.
func (c *cursor) load() error {
	end, bytes := c.next+1, int(c.part.lens[c.pos[c.next]])
	for end < len(c.entries) && bytes+int(c.part.lens[c.pos[end]]) <= chunkBytes {
		bytes += int(c.part.lens[c.pos[end]])
		end++
	}
	if err := c.part.fill(c.entries[c.next:end], c.pos[c.next:end]); err != nil {
		return err
	}
	c.loaded = end
	if end == len(c.entries) {
		// Not c.release, which waits for a prefetch: load may be that prefetch.
		c.part.release()
		c.part = nil
	}
	return nil
}

// release returns the cursor's decoder, if it still has one, to the pool, once a prefetch in
// flight is done with it.
func (c *cursor) release() {
	_ = c.wait()
	if c.part != nil {
		c.part.release()
		c.part = nil
	}
}

// merger is a heap of cursors by their next entry, in the scan's direction.
type merger struct {
	cs   []*cursor
	desc bool
}

func (h *merger) Len() int { return len(h.cs) }
func (h *merger) Less(i, j int) bool {
	c := lessAt(&h.cs[i].entries[h.cs[i].next], &h.cs[j].entries[h.cs[j].next])
	if h.desc {
		return c > 0
	}
	return c < 0
}
func (h *merger) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *merger) Push(x any)    { h.cs = append(h.cs, x.(*cursor)) }
func (h *merger) Pop() any {
	c := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return c
}

// Scan calls fn for the events of the blocks src returns that q selects (time range and cursors;
// streams by src.Stream), in (Timestamp, Seq) order, descending when q.Descending,
// until fn returns false or the events run out.
//
// src must return the blocks in ascending (Bucket, MinTS) order for an ascending scan, and in
// descending (Bucket, MaxTS) order for a descending one. Blocks overlap (streams interleave, and a
// stream's batches arrive out of order), so Scan merges them; it loads a block only when the merge
// reaches its first possible event (MinTS, or MaxTS going down), so it holds in memory only the
// blocks that overlap the current position, and a query that stops after a page decodes only the
// blocks that page needs. Of those, the blocks of a page's first megabyte of messages are
// decompressed only as far as the scan needs them (see partial.go and partialPays).
func (c *Codec) Scan(src Source, q logs.EventQuery, fn func(logs.Event) bool) error {
	h := &merger{desc: q.Descending}
	var handed int // message bytes handed to fn
	defer func() {
		for _, cur := range h.cs {
			cur.release()
		}
	}()
	var (
		pending Meta
		have    bool
	)
	advance := func() error {
		for {
			m, ok, err := src.Next()
			if err != nil {
				return err
			}
			if !ok || overlaps(&q, m) {
				pending, have = m, ok
				return nil
			}
		}
	}
	if err := advance(); err != nil {
		return err
	}
	for {
		// Load every block that may hold an event before the heap's next one: a batch of them at
		// once (see batchBound), decoded in parallel.
		for have {
			bound, bounded := batchBound(&q, h)
			if h.Len() > 0 && past(&q, pending, bound) {
				break
			}
			var batch []*loading
			dec := c.newBatchDecoder(&q)
			for have && (len(batch) == 0 || bounded && !past(&q, pending, bound)) {
				data, err := src.Load(pending)
				if err == nil {
					l := &loading{m: pending, data: data, inPart: partialPays(&q, pending, handed)}
					batch = append(batch, l)
					dec.add(l)
					err = advance()
				}
				if err != nil {
					dec.wait()
					releaseAll(batch)
					return err
				}
			}
			dec.wait()
			for i, l := range batch {
				if l.err != nil {
					releaseAll(batch[i:])
					return l.err
				}
				cur, err := c.cursor(src, &q, l.entries, l.part)
				if err != nil {
					releaseAll(batch[i+1:])
					return err
				}
				if cur != nil {
					if cur.loaded == 0 {
						cur.prefetch()
					}
					heap.Push(h, cur)
				}
			}
		}
		if h.Len() == 0 {
			return nil
		}
		cur := h.cs[0]
		if err := cur.wait(); err != nil {
			return err
		}
		if cur.next == cur.loaded && cur.part != nil {
			if err := cur.load(); err != nil {
				return err
			}
		}
		e := cur.entries[cur.next]
		handed += len(e.Message)
		if !fn(logs.Event{Seq: e.Seq, LogStreamName: cur.names[cur.next], Timestamp: e.Timestamp, IngestionTime: e.IngestionTime, Message: e.Message}) {
			return nil
		}
		cur.next++
		if cur.next == len(cur.entries) {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
}

// lazyBytes is how many bytes of messages a scan hands out before partialPays stops decoding its
// blocks in part: a response of GetLogEvents or FilterLogEvents holds at most 1 MB of them.
const lazyBytes = 1 << 20

// partialPays reports whether Scan should decode the block m in part (through a streaming
// decoder, see partial.go) rather than whole (DecodeAll), after handing out handed bytes of
// messages. A partial decode saves what follows the last event the scan takes from the block and
// the allocation of what precedes the first wanted one, but copies each message out of the
// decoder's window, about a tenth of a whole decode's time. So it pays
//
//   - ascending, for the blocks a scan loads within its first lazyBytes of messages: a page of
//     GetLogEvents or of FilterLogEvents' matches stops within that, in the middle of a block; a
//     scan that hands out more is FilterLogEvents examining up to 200,000 events against a pattern,
//     which reads whole blocks but for its last one;
//   - descending, for a block that reaches past the query's end or cursor: the scan wants the
//     block's older events only and stops decoding after them. A block the query wants to its end
//     is decoded whole, since the scan starts from its newest event.
func partialPays(q *logs.EventQuery, m Meta, handed int) bool {
	if q.Descending {
		return q.EndTime > 0 && m.MaxTS >= q.EndTime || q.Before != nil && m.MaxTS >= q.Before.Timestamp
	}
	return handed < lazyBytes
}

// loading is a block a scan loads: its Meta and bytes, whether to decode it in part (see
// partialPays), and what decoding it gave.
type loading struct {
	m       Meta
	data    []byte
	inPart  bool
	entries []Entry
	part    *partial
	err     error
}

// batchDecoder decodes the blocks of a batch (see batchBound) as the scan loads them, on up to
// GOMAXPROCS goroutines: the blocks a page starts in are decoded together before its first event,
// one per stream where the streams' blocks overlap, and decoding one overlaps loading the next.
// A block decoded in part is also decompressed up to its first event in the query's time range
// (partial.skipTo), the largest part of the work for a page that starts inside it: zstd cannot
// skip, and the messages before that event are decompressed only to be thrown away.
type batchDecoder struct {
	c       *Codec
	q       *logs.EventQuery
	work    chan *loading
	wg      sync.WaitGroup
	workers int
}

// newBatchDecoder returns a batchDecoder for a batch of q's blocks.
func (c *Codec) newBatchDecoder(q *logs.EventQuery) *batchDecoder {
	return &batchDecoder{c: c, q: q, work: make(chan *loading, 64)}
}

// add hands a loaded block to the decoders, starting one more while there are fewer than
// GOMAXPROCS.
func (d *batchDecoder) add(l *loading) {
	if d.workers < runtime.GOMAXPROCS(0) {
		d.workers++
		d.wg.Go(func() {
			for l := range d.work {
				d.decode(l)
			}
		})
	}
	d.work <- l
}

// wait waits until every block added is decoded.
func (d *batchDecoder) wait() {
	close(d.work)
	d.wg.Wait()
}

// decode decodes one block, in part or whole, and in part decompresses it up to its first event
// the query's time range and cursor want.
func (d *batchDecoder) decode(l *loading) {
	if !l.inPart {
		l.entries, l.err = d.c.Decode(l.data, l.m.SeqBase, l.m.StreamID)
		return
	}
	l.entries, l.part, l.err = d.c.open(l.data, l.m.SeqBase, l.m.StreamID)
	if l.part == nil {
		return
	}
	for i := range l.entries {
		if wants(d.q, &l.entries[i]) {
			l.err = l.part.skipTo(i)
			return
		}
	}
}

// releaseAll returns the decoders of the blocks decoded in part to the pool.
func releaseAll(batch []*loading) {
	for _, l := range batch {
		if l.part != nil {
			l.part.release()
		}
	}
}

// past reports whether block m's first possible event (MinTS ascending, MaxTS descending) comes
// after bound in the scan's direction.
func past(q *logs.EventQuery, m Meta, bound int64) bool {
	if q.Descending {
		return m.MaxTS < bound
	}
	return m.MinTS > bound
}

// batchBound returns how far a scan may load blocks in one batch: the heap's next event when the
// heap holds any, else the query's start or cursor (its end or cursor descending). A block whose
// first possible event (MinTS ascending, MaxTS descending) is not past the bound is one the scan
// would load one at a time too before it hands out the event at the bound's side: with an empty
// heap, the first event it hands out; with a full one, the heap's next. Blocks of the batch may
// move the heap's next event before the bound, so the scan can load a block or two of the batch
// sooner than it needed (a page that ends first would not have loaded them); the order of events
// is the same. ok false: no bound, the batch is one block.
func batchBound(q *logs.EventQuery, h *merger) (bound int64, ok bool) {
	if h.Len() > 0 {
		return h.cs[0].entries[h.cs[0].next].Timestamp, true
	}
	if q.Descending {
		switch {
		case q.Before != nil && (q.EndTime <= 0 || q.Before.Timestamp < q.EndTime):
			return q.Before.Timestamp, true
		case q.EndTime > 0:
			return q.EndTime - 1, true
		}
		return 0, false
	}
	bound = q.StartTime
	if q.After != nil {
		bound = max(bound, q.After.Timestamp)
	}
	return bound, true
}

// cursor returns a cursor over the entries of a decoded block (part non-nil: decoded in part) that
// q wants, or nil when it wants none. In part, it decompresses the wanted messages at once if the
// cursor is descending or they take at most chunkBytes, else as the merge reaches them, holding
// the pooled decoder until then.
func (c *Codec) cursor(src Source, q *logs.EventQuery, entries []Entry, part *partial) (*cursor, error) {
	var err error
	cur := &cursor{entries: entries[:0], names: make([]string, 0, len(entries)), part: part}
	if part != nil {
		cur.pos = make([]int32, 0, len(entries))
	}
	var (
		lastID   int64 = -1
		lastName string
		lastOK   bool
		bytes    int
	)
	for i := range entries {
		e := entries[i]
		if !wants(q, &e) {
			continue
		}
		if e.StreamID != lastID {
			if lastName, lastOK, err = src.Stream(e.StreamID); err != nil {
				cur.release()
				return nil, err
			}
			lastID = e.StreamID
		}
		if lastOK {
			cur.entries = append(cur.entries, e)
			cur.names = append(cur.names, lastName)
			if part != nil {
				cur.pos = append(cur.pos, int32(i))
				bytes += int(part.lens[i])
			}
		}
	}
	if len(cur.entries) == 0 {
		cur.release()
		return nil, nil
	}
	if part == nil {
		cur.loaded = len(cur.entries)
	} else if q.Descending || bytes <= chunkBytes {
		if err := part.fill(cur.entries, cur.pos); err != nil {
			cur.release()
			return nil, err
		}
		cur.loaded = len(cur.entries)
		cur.release()
	}
	if q.Descending {
		slices.Reverse(cur.entries)
		slices.Reverse(cur.names)
	}
	return cur, nil
}
