// Package logblocktest holds the scenarios of blocks and their compaction that every backend
// storing log events in logblock's blocks runs in its tests (Run), so that SQLite and PostgreSQL
// are held to one definition of what compaction must leave behind.
package logblocktest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Backend is what the scenarios need of a backend: its log store, one compaction round, the index
// rows of its stored blocks, and access to a round's blocks.
type Backend struct {
	Store logs.Store
	Scope logs.Scope
	// Now is the backend's clock, fixed for the test.
	Now time.Time
	// Compact runs one compaction round (the backend's CompactBlocks).
	Compact func(ctx context.Context) error
	// Backlog counts the hours a round would merge (the backend's CompactBacklog).
	Backlog func(ctx context.Context) (int, error)
	// Blocks returns the index rows of every stored block (ID, StreamID, MinTS, MaxTS, Count,
	// RawBytes, MinSeq and MaxSeq at least: Meta.Full needs RawBytes, and a block rewritten is told
	// by its sequence range).
	Blocks func(ctx context.Context) []logblock.Meta
	// Codec is the backend's block codec: its Compact runs one compaction round.
	Codec *logblock.Codec
	// CompactStore returns the backend's logblock.CompactStore over the blocks of one bucket of
	// group (in Scope), the one CompactBlocks gives Codec.Compact, so that a scenario can change
	// what a round sees.
	CompactStore func(ctx context.Context, group string, bucket int64) logblock.CompactStore
	// DeleteBlock deletes the block with the ID, as an expiry or another replica's round does.
	DeleteBlock func(ctx context.Context, id int64) error
	// SetBlockData replaces the encoded bytes of the block with the ID, as a corruption would.
	SetBlockData func(ctx context.Context, id int64, data []byte) error
}

// Run runs every scenario of the package, each on a new, empty backend that open returns with its
// clock fixed at now (the scenarios choose the hour: the open hour is the compactor's to leave).
func Run(t *testing.T, open func(t *testing.T, now time.Time) Backend) {
	at := func(minute int) time.Time { return time.Date(2025, 11, 26, 19, minute, 0, 0, time.UTC) }
	tests := []struct {
		name string
		now  time.Time
		fn   func(t *testing.T, b Backend)
	}{
		{"LeavesFullBlocks", at(0), LeavesFullBlocks},
		{"CompactionKeepsEvents", at(0), compactionKeepsEvents},
		{"MixedBlocksDeleteAndExpire", at(30), mixedBlocksDeleteAndExpire},
		{"CompactionRaceChangesNothing", at(0), compactionRaceChangesNothing},
		{"CompactionRaceReusedID", at(0), compactionRaceReusedID},
		{"CompactionPassesCorruptBlock", at(0), compactionPassesCorruptBlock},
		{"CompactionConverges", at(0), compactionConverges},
		{"CompactionDrainsBacklog", at(30), compactionDrainsBacklog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t, tc.now)) })
	}
}

// EventStrings returns the events q selects in scope as "stream/ts/seq/ingestion/message", so that
// reads before and after a change of the blocks compare as a whole.
func EventStrings(t testing.TB, s logs.Store, scope logs.Scope, q logs.EventQuery) []string {
	t.Helper()
	var out []string
	if err := s.ScanEvents(context.Background(), scope, q, func(e logs.Event) bool {
		out = append(out, fmt.Sprintf("%s/%d/%d/%d/%s", e.LogStreamName, e.Timestamp, e.Seq, e.IngestionTime, e.Message))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// countBlocks returns how many blocks b stores, and how many of them are small (not
// logblock.Meta.Full, so that compaction would merge them).
func countBlocks(ctx context.Context, b Backend) (blocks, small int) {
	for _, m := range b.Blocks(ctx) {
		blocks++
		if !m.Full() {
			small++
		}
	}
	return blocks, small
}

// racingStore is a backend's CompactStore whose Replace finds the first of its blocks deleted, as
// when an expiry, a stream's deletion or another replica's round removed it after the round read it.
type racingStore struct {
	logblock.CompactStore
	t   *testing.T
	ctx context.Context
	b   Backend
}

func (r racingStore) Replace(old []logblock.Meta, blocks []logblock.Compacted) error {
	must(r.t, r.b.DeleteBlock(r.ctx, old[0].ID))
	return r.CompactStore.Replace(old, blocks)
}

// compactionKeepsEvents appends many small batches to two streams, out of time order and with
// dedup keys, then compacts: the blocks become few, and every read (whole group, one stream,
// descending, from a token taken before the compaction) returns exactly what it returned before;
// records delivered again after the compaction are still recognised.
func compactionKeepsEvents(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	start := now.Add(-3 * time.Hour).UnixMilli()
	type batch struct {
		stream string
		evs    []logs.InputLogEvent
		keys   []string
	}
	var batches []batch
	for i := range 90 {
		bt := batch{stream: fmt.Sprint("s", i%2)}
		// Batches cover overlapping times in no particular order; timestamps repeat.
		base := start + int64((i*37)%90)*60_000
		for j := range 30 {
			bt.evs = append(bt.evs, logs.InputLogEvent{Timestamp: base + int64(j/3)*1000, Message: fmt.Sprintf(`{"eventID":"e%d-%d"}`, i, j)})
			bt.keys = append(bt.keys, fmt.Sprintf("k%d-%d", i, j))
		}
		batches = append(batches, bt)
		_, err := db.AppendUnique(ctx, b.Scope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: bt.stream, Events: bt.evs,
			DedupKeys: bt.keys, IngestionTime: now.UnixMilli() + int64(i), CreateStream: true})
		must(t, err)
	}
	queries := []logs.EventQuery{
		{LogGroupName: "ct"},
		{LogGroupName: "ct", Descending: true},
		{LogGroupName: "ct", Streams: []string{"s1"}},
		{LogGroupName: "ct", StartTime: start + 30*60_000, EndTime: start + 100*60_000},
	}
	before := make([][]string, len(queries))
	for i, q := range queries {
		before[i] = EventStrings(t, db, b.Scope, q)
	}
	if len(before[0]) != 90*30 {
		t.Fatalf("%d events stored, want %d", len(before[0]), 90*30)
	}
	var mid logs.EventCursor
	must(t, db.ScanEvents(ctx, b.Scope, logs.EventQuery{LogGroupName: "ct"}, func(e logs.Event) bool {
		mid = logs.EventCursor{Timestamp: e.Timestamp, Seq: e.Seq}
		return e.Message != `{"eventID":"e50-7"}`
	}))
	afterMid := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "ct", After: &mid})

	must(t, b.Compact(ctx))
	blocks, small := countBlocks(ctx, b)
	// 2,700 events in two streams and four hours: a handful of blocks, at most one small one per
	// stream and hour.
	if blocks > 12 || small > 8 {
		t.Fatalf("%d blocks (%d small) after compaction", blocks, small)
	}
	for i, q := range queries {
		if got := EventStrings(t, db, b.Scope, q); !slices.Equal(got, before[i]) {
			t.Fatalf("query %+v changed by compaction: %d events, had %d", q, len(got), len(before[i]))
		}
	}
	if got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "ct", After: &mid}); !slices.Equal(got, afterMid) {
		t.Fatalf("token taken before compaction: %d events, had %d", len(got), len(afterMid))
	}
	for _, bt := range batches[:3] {
		res, err := db.AppendUnique(ctx, b.Scope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: bt.stream, Events: bt.evs,
			DedupKeys: bt.keys, IngestionTime: now.UnixMilli()})
		must(t, err)
		if slices.Contains(res.Duplicate, false) {
			t.Fatalf("records delivered again after compaction were stored: %v", res.Duplicate)
		}
	}
}

// mixedBlocksDeleteAndExpire compacts two streams' batches into blocks of both, then deletes
// one stream (its events leave the shared blocks, the other's stay, and a stream created again
// with its name is empty) and expires the rest (each stream's stored bytes drop to zero).
func mixedBlocksDeleteAndExpire(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	start := now.Add(-3 * time.Hour).Truncate(time.Hour).UnixMilli()
	for _, s := range []string{"a", "b"} {
		must(t, db.CreateLogStream(ctx, b.Scope, "g", logs.LogStream{Name: s}))
	}
	for i := range 40 {
		s := []string{"a", "b"}[i%2]
		var evs []logs.InputLogEvent
		for j := range 10 {
			evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i*10+j)*1000, Message: s + "-event"})
		}
		_, err := db.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "g", LogStreamName: s, Events: evs, IngestionTime: now.UnixMilli()})
		must(t, err)
	}
	must(t, b.Compact(ctx))
	mixed := 0
	for _, m := range b.Blocks(ctx) {
		if m.StreamID == 0 {
			mixed++
		}
	}
	if mixed == 0 {
		t.Fatal("compaction made no block of several streams")
	}
	must(t, db.DeleteLogStream(ctx, b.Scope, "g", "a"))
	got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g"})
	if len(got) != 200 {
		t.Fatalf("%d events left, want b's 200", len(got))
	}
	for _, e := range got {
		if e[:2] != "b/" {
			t.Fatalf("event %s of the deleted stream", e)
		}
	}
	g, err := db.GetLogGroup(ctx, b.Scope, "g")
	must(t, err)
	if g.StoredBytes != 200*int64(len("b-event")) {
		t.Fatalf("group stored bytes %d", g.StoredBytes)
	}
	must(t, db.CreateLogStream(ctx, b.Scope, "g", logs.LogStream{Name: "a"}))
	if got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g", Streams: []string{"a"}}); len(got) != 0 {
		t.Fatalf("the new stream a holds %d events", len(got))
	}
	must(t, db.SetRetention(ctx, b.Scope, "g", 1))
	n, err := db.ExpireEvents(ctx, now.Add(48*time.Hour).UnixMilli())
	must(t, err)
	if n != 200 {
		t.Fatalf("expired %d, want 200", n)
	}
	st, err := db.GetLogStream(ctx, b.Scope, "g", "b")
	must(t, err)
	g, err = db.GetLogGroup(ctx, b.Scope, "g")
	must(t, err)
	if st.StoredBytes != 0 || g.StoredBytes != 0 {
		t.Fatalf("stored bytes after expiry: stream %d, group %d", st.StoredBytes, g.StoredBytes)
	}
}

// compactionRaceChangesNothing checks that a round whose blocks changed before its replace
// commits nothing and ends without error: the blocks left are the ones there were, less the one
// removed meanwhile, and no merged block was added.
func compactionRaceChangesNothing(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	// The open hour, with a few events: the background compactor leaves them to this test.
	start := now.UnixMilli()
	for i := range 4 {
		_, err := db.AppendUnique(ctx, b.Scope, logs.AppendBatch{LogGroupName: "g", LogStreamName: fmt.Sprint("s", i%2), CreateStream: true,
			Events: []logs.InputLogEvent{{Timestamp: start + int64(i), Message: "x"}}, IngestionTime: now.UnixMilli()})
		must(t, err)
	}
	blocks := func() int { return len(b.Blocks(ctx)) }
	hour := b.CompactStore(ctx, "g", logblock.Bucket(start))
	n, err := b.Codec.Compact(racingStore{CompactStore: hour, t: t, ctx: ctx, b: b})
	must(t, err)
	if n != 0 || blocks() != 3 {
		t.Fatalf("a round that lost a block replaced %d blocks and left %d, want 0 and the other 3", n, blocks())
	}
	n, err = b.Codec.Compact(hour)
	must(t, err)
	if n != 3 || blocks() != 1 {
		t.Fatalf("the next round replaced %d blocks and left %d, want 3 and 1", n, blocks())
	}
}

// reusingStore is a backend's CompactStore whose Replace first runs before, as when a stream's
// deletion and an append commit after the round read its blocks.
type reusingStore struct {
	logblock.CompactStore
	before func()
}

func (r reusingStore) Replace(old []logblock.Meta, blocks []logblock.Compacted) error {
	r.before()
	return r.CompactStore.Replace(old, blocks)
}

// compactionRaceReusedID checks that a round whose newest block was deleted, and whose id a block
// appended meanwhile took (SQLite gives a new row the largest rowid plus one, so the id of a
// deleted last row comes back), neither deletes the appended block nor brings back the deleted
// one: a round must recognise its blocks by more than their ids.
func compactionRaceReusedID(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	// The open hour, with a few events: the background compactor leaves them to this test.
	start := now.UnixMilli()
	for _, s := range []string{"a", "b"} {
		must(t, db.CreateLogStream(ctx, b.Scope, "g", logs.LogStream{Name: s}))
	}
	put := func(stream, msg string, ts int64) {
		t.Helper()
		_, err := db.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "g", LogStreamName: stream,
			Events: []logs.InputLogEvent{{Timestamp: ts, Message: msg}}, IngestionTime: now.UnixMilli()})
		must(t, err)
	}
	for i := range 3 {
		put("a", fmt.Sprint("a", i), start+int64(i))
	}
	put("b", "b0", start+3) // the newest block, the one with the largest id
	hour := b.CompactStore(ctx, "g", logblock.Bucket(start))
	_, err := b.Codec.Compact(reusingStore{CompactStore: hour, before: func() {
		must(t, db.DeleteLogStream(ctx, b.Scope, "g", "b"))
		put("a", "late", start+4)
	}})
	must(t, err)
	var got []string
	must(t, db.ScanEvents(ctx, b.Scope, logs.EventQuery{LogGroupName: "g"}, func(e logs.Event) bool {
		got = append(got, e.LogStreamName+"/"+e.Message)
		return true
	}))
	if want := []string{"a/a0", "a/a1", "a/a2", "a/late"}; !slices.Equal(got, want) {
		t.Fatalf("events after a round that raced a deletion and an append: %q, want %q", got, want)
	}
}

// compactionPassesCorruptBlock checks that a block that cannot be decoded stops the compaction of
// its own hour only: a round reports it and still merges the hours of other groups, which a
// compactor stopping at the first failing hour would leave unmerged forever.
func compactionPassesCorruptBlock(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	// The open hour, with blocks that become worth merging only with the last appends (two
	// blocks adding up to more than a full one), so that the background compactor cannot merge
	// them before the corruption.
	start := now.UnixMilli()
	const bStart = 10_000 // group b's events start here, after a's
	for _, g := range []string{"a", "b"} {
		must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: g, LogGroupClass: "STANDARD"}))
		must(t, db.CreateLogStream(ctx, b.Scope, g, logs.LogStream{Name: "s"}))
	}
	put := func(group string, from int64) {
		t.Helper()
		evs := make([]logs.InputLogEvent, 600)
		for i := range evs {
			evs[i] = logs.InputLogEvent{Timestamp: from + int64(i), Message: fmt.Sprintf("%s-%d", group, from+int64(i))}
		}
		_, err := db.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: group, LogStreamName: "s", Events: evs, IngestionTime: now.UnixMilli()})
		must(t, err)
	}
	put("a", start)
	put("b", start+bStart)
	for _, m := range b.Blocks(ctx) {
		if m.MinTS == start {
			must(t, b.SetBlockData(ctx, m.ID, []byte{9, 9}))
		}
	}
	put("a", start+600)
	put("b", start+bStart+600)
	if err := b.Compact(ctx); err == nil {
		t.Error("a round over a corrupt block reported no error")
	}
	small := 0
	for _, m := range b.Blocks(ctx) {
		if m.MinTS >= start+bStart && !m.Full() {
			small++
		}
	}
	if small > 1 {
		t.Fatalf("group b has %d small blocks after a round: a corrupt block of group a stopped its compaction", small)
	}
	if got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "b"}); len(got) != 1200 {
		t.Fatalf("group b holds %d events, want 1200", len(got))
	}
}

// compactionConverges compacts small batches of large events (90 of 5 KB, under
// logblock.FullRawBytes), which compaction cuts into blocks of logblock.MaxRawBytes with fewer than
// logblock.TargetEvents events: once merged, a round finds nothing to merge in their hour, rather
// than merging the same blocks again every round.
func compactionConverges(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	must(t, db.CreateLogStream(ctx, b.Scope, "g", logs.LogStream{Name: "s"}))
	start := now.Add(-2 * time.Hour).UnixMilli() // a closed hour: every round compacts
	pad := strings.Repeat("x", 5000)
	for i := range 12 {
		evs := make([]logs.InputLogEvent, 90)
		for j := range evs {
			evs[j] = logs.InputLogEvent{Timestamp: start + int64(i+12*j), Message: fmt.Sprintf("%d-%d %s", i, j, pad)}
		}
		_, err := db.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", Events: evs, IngestionTime: now.UnixMilli()})
		must(t, err)
	}
	before := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g"})
	must(t, b.Compact(ctx))
	// A backend's own compactor may have merged some of the twelve first, so the blocks left are
	// not always the same two; none may be small, and there must be fewer than were appended.
	if blocks, small := countBlocks(ctx, b); blocks >= 12 || small != 0 {
		t.Fatalf("%d blocks, %d small, after compaction; want fewer than the 12 appended, all full", blocks, small)
	}
	if n, err := b.Codec.Compact(b.CompactStore(ctx, "g", logblock.Bucket(start))); err != nil || n != 0 {
		t.Fatalf("a round after the hour was merged replaced %d blocks (%v), want none", n, err)
	}
	if got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g"}); !slices.Equal(got, before) {
		t.Fatalf("compaction changed the events: %d, had %d", len(got), len(before))
	}
}

// compactionDrainsBacklog appends, in the open hour, more small blocks than one merge takes (three
// times logblock's bound of 8,192 events): one round must merge them all, not one merge's worth
// per round (the compactor waits a second between rounds, and a burst of appends outran it).
func compactionDrainsBacklog(t *testing.T, b Backend) {
	ctx := context.Background()
	db, now := b.Store, b.Now
	must(t, db.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	start := now.Add(-20 * time.Minute).UnixMilli() // the open hour: only full blocks' worth are merged
	const streams, batches, size = 4, 8, 800
	for s := range streams {
		must(t, db.CreateLogStream(ctx, b.Scope, "g", logs.LogStream{Name: fmt.Sprint("s", s)}))
	}
	for i := range batches {
		for s := range streams {
			evs := make([]logs.InputLogEvent, size)
			for j := range evs {
				evs[j] = logs.InputLogEvent{Timestamp: start + int64(i*size+j), Message: fmt.Sprintf("%d-%d-%d", s, i, j)}
			}
			_, err := db.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "g", LogStreamName: fmt.Sprint("s", s), Events: evs, IngestionTime: now.UnixMilli()})
			must(t, err)
		}
	}
	before := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g"})
	if n, err := b.Backlog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog before the round: %d hours (%v), want 1", n, err)
	}
	must(t, b.Compact(ctx))
	if n, err := b.Backlog(ctx); err != nil || n != 0 {
		t.Fatalf("backlog after the round: %d hours (%v), want 0", n, err)
	}
	var smallEvents int
	for _, m := range b.Blocks(ctx) {
		if !m.Full() {
			smallEvents += m.Count
		}
	}
	if smallEvents >= logblock.TargetEvents {
		t.Fatalf("after one round, %d events are still in small blocks, want fewer than a full block", smallEvents)
	}
	if got := EventStrings(t, db, b.Scope, logs.EventQuery{LogGroupName: "g"}); !slices.Equal(got, before) {
		t.Fatalf("compaction changed the events: %d, had %d", len(got), len(before))
	}
}

// LeavesFullBlocks appends, round after round, batches of three streams whose times overlap the
// previous round's, one stream's full (an append's settled block) and two small, compacting after
// each round as the compactor does under sustained ingest: every full block, the appends' and
// the merges', must stay as it was written however later small blocks overlap it, the small
// blocks must be merged, and no event may be lost or repeated. Compaction once merged the full
// blocks the small ones overlapped again, which cost ingest more than half its speed (issue 15).
func LeavesFullBlocks(t *testing.T, b Backend) {
	t.Helper()
	ctx := context.Background()
	must(t, b.Store.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	for s := range 3 {
		must(t, b.Store.CreateLogStream(ctx, b.Scope, "ct", logs.LogStream{Name: fmt.Sprint("s", s), CreationTime: b.Now.UnixMilli()}))
	}
	start := b.Now.Add(-2 * time.Hour).UnixMilli() // a closed hour: every round compacts
	const rounds, span = 8, 60_000
	total := 0
	full := map[int64]logblock.Meta{}
	for r := range rounds {
		for s := range 3 {
			n := 400
			if s == 0 {
				n = logblock.TargetEvents
			}
			var evs []logs.InputLogEvent
			for j := range n {
				// Each batch covers two spans from its round's start, overlapping the next round's.
				ts := start + int64(r)*span + int64(j)*2*span/int64(n) + int64(s)*7
				evs = append(evs, logs.InputLogEvent{Timestamp: ts, Message: fmt.Sprintf(`{"eventID":"r%d-s%d-%d"}`, r, s, j)})
			}
			_, err := b.Store.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: fmt.Sprint("s", s),
				Events: evs, IngestionTime: b.Now.UnixMilli()})
			must(t, err)
			total += n
		}
		for _, m := range b.Blocks(ctx) {
			if m.Full() {
				full[m.ID] = m
			}
		}
		must(t, b.Compact(ctx))
	}
	n := 0
	must(t, b.Store.ScanEvents(ctx, b.Scope, logs.EventQuery{LogGroupName: "ct"}, func(logs.Event) bool { n++; return true }))
	if n != total {
		t.Fatalf("%d events after compaction, want %d", n, total)
	}
	now := map[int64]logblock.Meta{}
	small := 0
	for _, m := range b.Blocks(ctx) {
		now[m.ID] = m
		if !m.Full() {
			small++
		}
	}
	for id, m := range full {
		if got, ok := now[id]; !ok || got.Count != m.Count || got.MinSeq != m.MinSeq || got.MaxSeq != m.MaxSeq {
			t.Errorf("full block %d (%d events, sequence %d-%d) was rewritten", id, m.Count, m.MinSeq, m.MaxSeq)
		}
	}
	if small > 1 {
		t.Errorf("%d small blocks left after compaction, want at most the last merge's tail", small)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
