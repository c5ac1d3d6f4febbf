// Package logblock is the storage layout of CloudWatch Logs events that every trailwatch backend
// shares: events are kept in compressed blocks, one log group and one hour of event time each,
// instead of one row (and three index entries) per event. A CloudTrail record is about 1.3 KB of
// highly repetitive JSON; zstd over a thousand of them keeps about an eighth of the bytes, where a
// row per event cost more than the JSON itself (issue 15).
//
// A block written by an append holds one batch of one stream. A batch of FullRawBytes or more is
// written once, compressed for good, and stays as it is (see FullRawBytes); compaction merges a
// group's smaller blocks of one hour, whatever their streams, into blocks of TargetEvents events
// cut in time order, so that a group of many quiet streams is not read one tiny block per stream.
// The blocks of an hour overlap (one per busy stream at any time), and a query that starts inside
// several decodes them in parallel (Scan).
//
// The package knows nothing of SQL. A backend stores each block as one row: the Meta columns (its
// index: group, stream or 0 when it holds several, hour bucket, time and sequence range, event
// count, message bytes), the block's per-stream counts (EncodeStats) and the encoded bytes (a BLOB
// in SQLite, a bytea in PostgreSQL), and hands blocks back to Scan through a Source in the order
// Scan asks for. Scan merges overlapping blocks into CloudWatch Logs' order,
// (timestamp, sequence), so pagination tokens, which encode a (timestamp, sequence) position, mean
// the same whatever blocks the events sit in, before and after compaction.
package logblock

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// BucketMillis is the width of a block's time range: every event of a block has a timestamp in
// [Bucket*BucketMillis, (Bucket+1)*BucketMillis). Aligned buckets let a scan find the blocks of a
// time range through an index on (group, bucket) with no bound on how far a block may reach back,
// and let retention drop whole blocks. An hour holds thousands of events per CloudTrail stream at
// a mid-sized organization's rate, enough for a full block, and is short enough that a query of
// the last minutes reads few blocks.
const BucketMillis = 60 * 60 * 1000

// TargetEvents is the size compaction aims at: blocks of fewer events are merged with others of
// their stream and bucket. Measured on gen-cloudtrail records (zstd, default level): 50 events per
// block keep 25% of the JSON, 200 keep 19%, 1000 keep 12%, 4000 keep 9%; decoding a block of 1000
// events (1.3 MB) takes a few milliseconds, which bounds the latency of a first page.
const TargetEvents = 1024

// MaxRawBytes bounds a compacted block's message bytes, so that blocks of very large events stay
// quick to decode.
const MaxRawBytes = 4 << 20

// FullRawBytes is the message bytes from which a block is full whatever its event count: about
// half of what one PutLogEvents batch may hold (1 MiB less 26 bytes per event, so that a thousand
// CloudTrail records just over the limit, which ingest.Batches cuts in two even halves, make two
// full blocks). An append's full block is compressed with zstd at once and never merged (a
// settled block): merging every append's blocks again cost more than all the rest of ingest.
// Measured with BenchmarkObjectIngest (50,000 events in S3 objects of up to 1,000, the 14 CIS
// filters, compaction included), 8 interleaved runs each: 83.4k events/s against 40.7k for the
// store before blocks (2.05 times), where merging every append's blocks had run at about the
// base's speed. What it costs is compression, which grows with a block's size on CloudTrail
// records (zstd's fastest level, gen-cloudtrail's stream runs cut at each size: 256 KiB keep 20.1%
// of the JSON, 384 KiB 18.2%, 512 KiB 16.9%, 1 MiB 13.8%): the smallest settled block keeps about
// 17%, and with the keysets and the index about 19.5%, still within issue 15's 20%, while a
// smaller batch, a quiet stream's, is merged. Merge cuts a block before the event that would take
// it past MaxRawBytes, and an event holds at most 256 KiB, so every block it cuts for its bytes is
// full too.
const FullRawBytes = 480 << 10

// Full reports whether a block is full: TargetEvents events or FullRawBytes bytes of messages.
// Compaction merges the blocks that are not; an append's full block is written as it will stay.
func (m Meta) Full() bool { return m.Count >= TargetEvents || m.RawBytes >= FullRawBytes }

// Bucket returns the bucket of an event timestamp (epoch ms), rounding towards minus infinity.
func Bucket(ts int64) int64 {
	b := ts / BucketMillis
	if ts%BucketMillis < 0 {
		b--
	}
	return b
}

// Entry is one stored event.
type Entry struct {
	Timestamp     int64
	Seq           int64
	IngestionTime int64
	// StreamID is the event's log stream. Encoded as 0, it means the block row's stream (Meta.StreamID):
	// an append encodes its batch before its transaction knows the stream's id.
	StreamID int64
	Message  string
}

// less orders entries as CloudWatch Logs returns them.
func less(a, b Entry) int { return lessAt(&a, &b) }

// lessAt is less reading only the entries' Timestamp and Seq: a scan compares entries whose
// Message a prefetch may be writing (see cursor.prefetch).
func lessAt(a, b *Entry) int {
	return cmp.Or(cmp.Compare(a.Timestamp, b.Timestamp), cmp.Compare(a.Seq, b.Seq))
}

// Meta is a block's index row: what a backend stores beside the encoded bytes, and what Scan needs
// to decide whether to load a block at all.
type Meta struct {
	ID int64
	// StreamID is the stream of every event of the block, or 0 for a block of several streams.
	StreamID       int64
	Bucket         int64
	MinTS, MaxTS   int64
	MinSeq, MaxSeq int64
	Count          int
	// RawBytes is the sum of the events' message sizes in bytes (what storedBytes counts).
	RawBytes int64
	// SeqBase is added to the sequence numbers the encoded block holds. A block written by an
	// append is encoded before its transaction allocates the batch's sequence numbers, with the
	// events' positions in the batch; the row keeps the base. Blocks written otherwise hold
	// absolute numbers and a base of 0.
	SeqBase int64
}

// MetaOf computes the Meta of entries (sorted, non-empty, all of one bucket), without ID; StreamID
// is the entries' common stream, or 0 when they have several.
func MetaOf(entries []Entry) Meta {
	m := Meta{Bucket: Bucket(entries[0].Timestamp), MinTS: entries[0].Timestamp, MaxTS: entries[len(entries)-1].Timestamp,
		MinSeq: entries[0].Seq, MaxSeq: entries[0].Seq, Count: len(entries), StreamID: entries[0].StreamID}
	for _, e := range entries {
		m.MinSeq, m.MaxSeq = min(m.MinSeq, e.Seq), max(m.MaxSeq, e.Seq)
		m.RawBytes += int64(len(e.Message))
		if e.StreamID != m.StreamID {
			m.StreamID = 0
		}
	}
	return m
}

// StreamStat is what a block holds of one stream: a backend keeps a block's stats beside it, so
// that retention can count each stream's stored bytes and a stream's deletion can find the blocks
// it has events in, without decoding them.
type StreamStat struct {
	StreamID int64
	Count    int64
	Bytes    int64
}

// Stats returns the per-stream counts of entries, ordered by stream id; an entry's StreamID 0 counts
// as stream.
func Stats(entries []Entry, stream int64) []StreamStat {
	var out []StreamStat
	for _, e := range entries {
		id := e.StreamID
		if id == 0 {
			id = stream
		}
		i, found := slices.BinarySearchFunc(out, id, func(s StreamStat, id int64) int { return cmpInt(s.StreamID, id) })
		if !found {
			out = slices.Insert(out, i, StreamStat{StreamID: id})
		}
		out[i].Count++
		out[i].Bytes += int64(len(e.Message))
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// EncodeStats encodes stats as uvarint triples.
func EncodeStats(stats []StreamStat) []byte {
	var b []byte
	for _, s := range stats {
		b = binary.AppendUvarint(b, uint64(s.StreamID))
		b = binary.AppendUvarint(b, uint64(s.Count))
		b = binary.AppendUvarint(b, uint64(s.Bytes))
	}
	return b
}

// DecodeStats decodes what EncodeStats encoded.
func DecodeStats(b []byte) ([]StreamStat, error) {
	var out []StreamStat
	for len(b) > 0 {
		var v [3]uint64
		for i := range v {
			x, k := binary.Uvarint(b)
			if k <= 0 {
				return nil, errCorrupt
			}
			v[i], b = x, b[k:]
		}
		out = append(out, StreamStat{StreamID: int64(v[0]), Count: int64(v[1]), Bytes: int64(v[2])})
	}
	return out, nil
}

// Codec compresses and decompresses blocks. It is safe for concurrent use; a backend keeps one.
type Codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
	// raw holds *[]byte buffers for Encode's uncompressed columns: a block's raw bytes are about
	// 1.3 MB, and a fresh buffer of that size each time cost more than copying the messages into
	// it (the runtime zeroes it and the kernel faults its pages in), a tenth of ingest's CPU.
	raw sync.Pool
	// s2 holds *[]byte buffers for s2's output, which needs room for its worst case
	// (s2.MaxEncodedLen, more than the raw bytes): allocating that much per block cost the runtime
	// zeroing 1.2 MB where the block keeps about 0.3 MB, which is copied out instead.
	s2 sync.Pool
	// streams pools the *streamDecoder of partial decodes (see partial.go); the zero Pool is ready.
	streams sync.Pool
}

// NewCodec returns a Codec. Blocks are compressed with s2 (an append's block that compaction will
// merge, see Fast) or zstd at its fastest level. Compaction used zstd's default level, which keeps
// about 6% fewer bytes (12.3% of the JSON for blocks of 1024 CloudTrail records, against 12.9%)
// for three times the CPU; counted in ingest (BenchmarkObjectIngest waits for compaction), that
// CPU was the largest single cost of storing an event, and ingest ran about 10% faster with the
// fastest level (78k against 71k events/s, 4 interleaved runs each), for 16.8% -> about 17.6% of
// the JSON on disk (TestBuildScaleDB).
//
// No dictionary: one trained on 2,000 gen-cloudtrail records (53 KB, 7 s to train) shrank blocks of
// 1000 events from 12.96% to 12.53% of the JSON and blocks of 200 from 19.3% to 18.3%, since what
// zstd cannot squeeze out of CloudTrail records is their random ids, keys and encoded messages, not
// their repeated field names, which a block of a thousand records already holds many times over.
// The format keeps a byte for a dictionary id (always 0) should one pay later.
func NewCodec() (*Codec, error) {
	// EncodeAll waits for a free encoder: appends of concurrent writers compress in parallel.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(windowSize))
	if err != nil {
		return nil, fmt.Errorf("create block encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		return nil, fmt.Errorf("create block decoder: %w", err)
	}
	return &Codec{enc: enc, dec: dec}, nil
}

// maxPooledRaw bounds the raw buffers Encode keeps for reuse: a full block of CloudTrail records
// (TargetEvents of about 1.3 KB, or one PutLogEvents batch of at most 1 MiB) fits.
const maxPooledRaw = 2 * MaxRawBytes

// windowSize is the encoders' match window. Every encoder keeps a history buffer of its window
// plus a 128 KiB block for as long as the Codec lives, whatever the size of what it compresses:
// at zstd's default of 8 MiB, the three encoders held 24 MiB, which the garbage collector's
// headroom doubles, and the server's RSS went past TestIngestLoad's bound. A block's raw bytes are
// about 1.3 MB (a full PutLogEvents batch, or TargetEvents CloudTrail records), so 2 MiB covers a
// whole block and compresses exactly as well: measured on 50 blocks of 1024 gen-cloudtrail records,
// 12.94% of the JSON at the fastest level and 12.33% at the default one, both for 8 MiB and 2 MiB
// (1 MiB: 13.13% and 12.44%; 512 KiB: 14.80% and 13.93%).
const windowSize = 2 << 20

// maxDecoded bounds a decoded block: at most 10,000 events of 256 KiB (one PutLogEvents batch of
// the largest events) or MaxRawBytes, with room for the columns.
const maxDecoded = 64 << 20

// Block format, version 1 (zstd) and 2 (s2):
//
//	byte    format version (1: zstd, 2: s2)
//	byte    dictionary id (0: none)
//	a zstd frame (version 1) or an s2 block (version 2) of:
//	  uvarint count
//	  count x zigzag varint timestamp delta (from the previous event; the first from 0)
//	  count x zigzag varint sequence delta
//	  count x zigzag varint ingestion time delta
//	  count x zigzag varint stream id delta (0: the row's stream)
//	  count x uvarint message length
//	  the messages, back to back
//
// The columns come first and the messages last, so that a decoded block's messages are one
// contiguous string whose slices are the events' messages: one allocation per block, not per event.
const (
	formatV1 = 1
	formatS2 = 2
)

var errCorrupt = errors.New("corrupt log block")

// Level says how hard Encode compresses.
type Level int

// Compression levels.
const (
	// Fast is for blocks written on the ingest path. A block that is not full (Meta.Full) is
	// compressed with s2, not zstd: compaction merges and recompresses it at Small within the hour
	// (or once its hour is over), so what it saves on disk lasts minutes, while its compression
	// was the largest cost of ingest after the request's own decoding. Measured on blocks of 50
	// CloudTrail records: zstd's fastest level 466 MB/s keeping 22.9% of the bytes, s2 2,096 MB/s
	// keeping 29.8%. A full block, which compaction leaves as it is, gets zstd's fastest level.
	// The one block of an hour that compaction never merges (a group's only small block of a
	// closed hour) stays in s2: at most one block per group and hour, a quiet group's.
	Fast Level = iota
	// Small is for blocks written by compaction and migration: always zstd.
	Small
)

// Encode encodes entries, which must be sorted by (Timestamp, Seq), as one block.
func (c *Codec) Encode(entries []Entry, level Level) []byte {
	size := binary.MaxVarintLen64 * (1 + 5*len(entries))
	var msgBytes int64
	for _, e := range entries {
		msgBytes += int64(len(e.Message))
	}
	size += int(msgBytes)
	buf, _ := c.raw.Get().(*[]byte)
	if buf == nil || cap(*buf) < size {
		b := make([]byte, 0, size)
		buf = &b
	}
	raw := binary.AppendUvarint((*buf)[:0], uint64(len(entries)))
	var prev int64
	for _, e := range entries {
		raw = binary.AppendVarint(raw, e.Timestamp-prev)
		prev = e.Timestamp
	}
	prev = 0
	for _, e := range entries {
		raw = binary.AppendVarint(raw, e.Seq-prev)
		prev = e.Seq
	}
	prev = 0
	for _, e := range entries {
		raw = binary.AppendVarint(raw, e.IngestionTime-prev)
		prev = e.IngestionTime
	}
	prev = 0
	for _, e := range entries {
		raw = binary.AppendVarint(raw, e.StreamID-prev)
		prev = e.StreamID
	}
	for _, e := range entries {
		raw = binary.AppendUvarint(raw, uint64(len(e.Message)))
	}
	for _, e := range entries {
		raw = append(raw, e.Message...)
	}
	var out []byte
	if level == Fast && !(Meta{Count: len(entries), RawBytes: msgBytes}).Full() {
		need := s2.MaxEncodedLen(len(raw))
		tmp, _ := c.s2.Get().(*[]byte)
		if tmp == nil || cap(*tmp) < need {
			b := make([]byte, need)
			tmp = &b
		}
		enc := s2.Encode((*tmp)[:need], raw)
		out = make([]byte, 2+len(enc))
		out[0], out[1] = formatS2, 0
		copy(out[2:], enc)
		if cap(*tmp) <= 2*maxPooledRaw {
			c.s2.Put(tmp)
		}
	} else {
		// Room for the usual ratio, so that EncodeAll does not grow dst by copying.
		dst := make([]byte, 2, 2+len(raw)/4+64)
		dst[0], dst[1] = formatV1, 0
		out = c.enc.EncodeAll(raw, dst)
	}
	// Buffers grown for blocks of unusually large events are not kept.
	if cap(raw) <= maxPooledRaw {
		*buf = raw[:0]
		c.raw.Put(buf)
	}
	return out
}

// Decode returns a block's entries, adding seqBase (Meta.SeqBase) to their sequence numbers and
// giving stream (Meta.StreamID) to those encoded with stream 0. Their messages share the decoded
// buffer, which they keep alive.
func (c *Codec) Decode(data []byte, seqBase, stream int64) ([]Entry, error) {
	raw, err := c.decompress(data)
	if err != nil {
		return nil, err
	}
	entries, err := parse(raw)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].Seq += seqBase
		if entries[i].StreamID == 0 {
			entries[i].StreamID = stream
		}
	}
	return entries, nil
}

// decompress returns a block's columns, decompressed.
func (c *Codec) decompress(data []byte) ([]byte, error) {
	if len(data) < 2 || data[1] != 0 {
		return nil, errCorrupt
	}
	switch data[0] {
	case formatV1:
		raw, err := c.dec.DecodeAll(data[2:], nil)
		if err != nil {
			return nil, fmt.Errorf("decode log block: %w", err)
		}
		return raw, nil
	case formatS2:
		// The length s2 records is checked before it is allocated: a corrupt one must not claim
		// more than the largest block.
		n, err := s2.DecodedLen(data[2:])
		if err != nil || n > maxDecoded {
			return nil, errCorrupt
		}
		raw, err := s2.Decode(make([]byte, n), data[2:])
		if err != nil {
			return nil, fmt.Errorf("decode log block: %w", err)
		}
		return raw, nil
	}
	return nil, errCorrupt
}

// parse reads the decompressed columns of a block.
func parse(raw []byte) ([]Entry, error) {
	entries, lens, msgs, err := parseColumns(raw, uint64(len(raw)))
	if err != nil {
		// A whole block that ends within its columns is as corrupt as any other.
		return nil, errCorrupt
	}
	total := 0
	for _, l := range lens {
		total += int(l)
	}
	if total != len(msgs) {
		return nil, errCorrupt
	}
	// The messages alias the decoded buffer instead of copying it (a copy was a fifth of a first
	// page's time): raw was allocated by DecodeAll for this block alone, and nothing writes to it
	// after this point, so the strings are immutable as Go requires.
	var all string
	if total > 0 {
		all = unsafe.String(&msgs[0], total)
	}
	off := 0
	for i := range entries {
		entries[i].Message = all[off : off+int(lens[i])]
		off += int(lens[i])
	}
	return entries, nil
}

// errShort says that parseColumns reached the end of what has been decompressed so far: a
// partial decode reads on and tries again.
var errShort = errors.New("log block columns cut short")

// parseColumns reads the column section at the start of a block's decompressed bytes, of which
// raw holds a prefix and size is the whole length (the zstd frame's content size): the entries
// without their messages, the messages' lengths, and what follows the columns in raw (the start
// of the messages). It returns errShort when raw ends within the columns, errCorrupt when the
// columns cannot be those of a block of size bytes.
func parseColumns(raw []byte, size uint64) (entries []Entry, lens []uint32, rest []byte, err error) {
	if size > maxDecoded || uint64(len(raw)) > size {
		return nil, nil, nil, errCorrupt
	}
	n, k := binary.Uvarint(raw)
	if k == 0 {
		return nil, nil, nil, errShort
	}
	// Every event takes at least five bytes of columns and one of message.
	if k < 0 || n == 0 || n > size/6 {
		return nil, nil, nil, errCorrupt
	}
	raw = raw[k:]
	left := size - uint64(k) // bytes of the block after raw's position
	// A varint that ends raw is cut short unless raw holds the whole block.
	varintErr := func(k int) error {
		if k == 0 && uint64(len(raw)) < left {
			return errShort
		}
		return errCorrupt
	}
	entries = make([]Entry, n)
	column := func(set func(e *Entry, v int64)) error {
		var prev int64
		for i := range entries {
			d, k := binary.Varint(raw)
			if k <= 0 {
				return varintErr(k)
			}
			raw, left = raw[k:], left-uint64(k)
			prev += d
			set(&entries[i], prev)
		}
		return nil
	}
	for _, set := range []func(e *Entry, v int64){
		func(e *Entry, v int64) { e.Timestamp = v },
		func(e *Entry, v int64) { e.Seq = v },
		func(e *Entry, v int64) { e.IngestionTime = v },
		func(e *Entry, v int64) { e.StreamID = v },
	} {
		if err := column(set); err != nil {
			return nil, nil, nil, err
		}
	}
	lens = make([]uint32, n)
	var total uint64
	for i := range lens {
		l, k := binary.Uvarint(raw)
		if k <= 0 {
			return nil, nil, nil, varintErr(k)
		}
		raw, left = raw[k:], left-uint64(k)
		total += l
		if l > left || total > left {
			return nil, nil, nil, errCorrupt
		}
		lens[i] = uint32(l)
	}
	if total != left {
		return nil, nil, nil, errCorrupt
	}
	if !slices.IsSortedFunc(entries, less) {
		return nil, nil, nil, errCorrupt
	}
	return entries, lens, raw, nil
}

// Split cuts a chronological run of entries into the runs of one bucket each, in order.
func Split(entries []Entry) [][]Entry {
	var out [][]Entry
	for start := 0; start < len(entries); {
		b := Bucket(entries[start].Timestamp)
		end := start + 1
		for end < len(entries) && Bucket(entries[end].Timestamp) == b {
			end++
		}
		out = append(out, entries[start:end])
		start = end
	}
	return out
}

// Merge sorts the entries of several blocks of one group and bucket (with their streams filled in
// by Decode) into CloudWatch Logs' order and cuts them into blocks of at most TargetEvents events
// and MaxRawBytes message bytes, for compaction: each block covers a stretch of time the next one
// starts after (or at).
func Merge(blocks [][]Entry) [][]Entry {
	var all []Entry
	for _, b := range blocks {
		all = append(all, b...)
	}
	slices.SortFunc(all, less)
	var out [][]Entry
	for start := 0; start < len(all); {
		end, bytes := start, 0
		for end < len(all) && end-start < TargetEvents && (end == start || bytes+len(all[end].Message) <= MaxRawBytes) {
			bytes += len(all[end].Message)
			end++
		}
		out = append(out, all[start:end])
		start = end
	}
	return out
}
