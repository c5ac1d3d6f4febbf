package logblock

import (
	"errors"
	"fmt"
)

// Compaction is planned here and carried out by a backend through CompactStore, so that SQLite and
// PostgreSQL merge the same blocks and leave the same layout: they differ only in SQL and in how
// they make the replacement atomic.

// maxCompactEvents bounds the events of the small blocks one compaction round takes, so that a
// compactor that fell behind still holds a bounded number of blocks in memory.
const maxCompactEvents = 8 * TargetEvents

// maxCompactBytes bounds the message bytes of the small blocks one round takes, as
// maxCompactEvents bounds their events: a block of large events holds few of them, and 8,192
// events of 256 KiB are 2 GiB.
const maxCompactBytes = 8 * MaxRawBytes

// ErrGone says that a block a compaction round read is no longer stored: expiry, a stream's
// deletion or another replica's compaction removed it meanwhile. A CompactStore returns it (or an
// error wrapping it) from Load and Replace; Compact then ends the round without error, and the next
// round plans again from what is left.
var ErrGone = errors.New("log block gone")

// Compacted is a block a compaction round writes: its entries (streams filled in, sequence numbers
// absolute), their Meta (without ID) and their encoding, compressed at Small.
type Compacted struct {
	Entries []Entry
	Meta    Meta
	Data    []byte
}

// CompactStore is a backend's access to the blocks of one group and hour bucket, for Compact. A
// Meta it returns needs ID, StreamID, SeqBase, Count, RawBytes, MinTS, MaxTS, MinSeq and MaxSeq;
// the other fields are not read. Reads need not be one snapshot: Replace checks that what was read is still
// there.
type CompactStore interface {
	// SmallBlocks calls fn with the blocks that are not Full (fewer than TargetEvents events and
	// FullRawBytes of messages), ordered by MinTS, until fn returns false or there are no more.
	SmallBlocks(fn func(Meta) bool) error
	// Load returns the encoded bytes of a block SmallBlocks returned, or ErrGone.
	Load(m Meta) ([]byte, error)
	// Replace deletes the blocks old (as SmallBlocks returned them) and stores
	// blocks, in one transaction, if every one of old is still stored as it was read; otherwise it
	// changes nothing and returns ErrGone. An id alone does not say so where a backend may give a
	// deleted block's id to a new one (SQLite gives a new row the largest rowid plus one): a round
	// would then delete a block appended meanwhile and store again the events of the one deleted.
	// Sequence numbers are never reused and a rewrite drops events, so a row of old's ID, Count,
	// MinSeq and MaxSeq is old.
	Replace(old []Meta, blocks []Compacted) error
}

// Plan returns the blocks one compaction round of a group and bucket merges, or none (fewer than
// two small blocks): the small blocks in MinTS order until they hold maxCompactEvents events or
// maxCompactBytes of messages (the block crossing the bound included).
//
// Full blocks are never merged again, even where the merge's output overlaps them. Compaction
// once also merged the full blocks a round's small blocks overlapped, so that an hour's blocks
// covered disjoint stretches of time and the first page of a recent range decoded one block. But
// an append's full block is one stream's (see FullRawBytes), the streams' blocks overlap, and
// merging them again to keep the hour disjoint is what held ingest at the speed of the store
// before blocks (BenchmarkObjectIngest: about 40-47k events/s with every append's blocks merged
// and levelled, 83k with full blocks kept, on 2 cores). A page that starts inside several
// overlapping blocks decodes them in parallel instead (Scan): the first page of the last five
// minutes over 18 streams takes about 9 ms where the levelled layout took about 3.5.
func Plan(s CompactStore) ([]Meta, error) {
	var (
		todo  []Meta
		total int
		bytes int64
	)
	err := s.SmallBlocks(func(m Meta) bool {
		todo = append(todo, m)
		total += m.Count
		bytes += m.RawBytes
		return total < maxCompactEvents && bytes < maxCompactBytes
	})
	if err != nil || len(todo) < 2 {
		return nil, err
	}
	return todo, nil
}

// Due reports whether a group's hour whose small blocks (not Full) number n and hold events events
// and bytes of messages is one compaction merges: two or more blocks that together make a full
// block, or any two or more once the hour is over (bucket before closed). The backends' queries
// of the hours to merge say the same in SQL.
func Due(n int, events, bytes, bucket, closed int64) bool {
	return n >= 2 && (events >= TargetEvents || bytes >= FullRawBytes || bucket < closed)
}

// CompactHour runs up to rounds compaction rounds of one group and bucket, one after the other, while
// each merges something and backlog then says the hour still holds a full block's worth of small
// blocks: merging such an hour once per compactor round (a second apart) let a burst of appends
// outrun the compactor (1,000,000 events ingested at 150,000 a second were merged 8 s after the
// last append), and the unmerged blocks' pages stayed in the file as free pages once merged. It
// returns the blocks the rounds replaced.
func CompactHour(rounds int, round func() (int, error), backlog func() (bool, error)) (int, error) {
	removed := 0
	for range rounds {
		n, err := round()
		removed += n
		if err != nil || n == 0 {
			return removed, err
		}
		more, err := backlog()
		if err != nil || !more {
			return removed, err
		}
	}
	return removed, nil
}

// Compact runs one compaction round of a group and bucket: it merges the blocks Plan picks into
// blocks of TargetEvents events in time order (Merge), compressed at Small, and has the backend
// replace them. It loads and decodes the blocks one at a time, outside any transaction, and holds
// only the round's blocks in memory. A block gone meanwhile (ErrGone) ends the round without
// error. It returns how many blocks it replaced.
func (c *Codec) Compact(s CompactStore) (int, error) {
	todo, err := Plan(s)
	if err != nil || len(todo) < 2 {
		return 0, err
	}
	blocks := make([][]Entry, 0, len(todo))
	for _, m := range todo {
		data, err := s.Load(m)
		if errors.Is(err, ErrGone) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		entries, err := c.Decode(data, m.SeqBase, m.StreamID)
		if err != nil {
			return 0, fmt.Errorf("block %d: %w", m.ID, err)
		}
		blocks = append(blocks, entries)
	}
	var merged []Compacted
	for _, run := range Merge(blocks) {
		merged = append(merged, Compacted{Entries: run, Meta: MetaOf(run), Data: c.Encode(run, Small)})
	}
	if err := s.Replace(todo, merged); errors.Is(err, ErrGone) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	return len(todo), nil
}
