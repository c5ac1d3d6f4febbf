package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
	"github.com/trailwatch/trailwatch/internal/store/logblock/logblocktest"
)

// Ported from internal/store/sqlite (logs_blocks_test.go): the semantic tests of the log store, run on PostgreSQL
// so that both backends behave alike. SQLite-only tests (schema upgrades, query plans) stay there.

// scanStrings returns the events q selects as "stream/ts/seq/ingestion/message".
func scanStrings(t *testing.T, db *DB, q logs.EventQuery) []string {
	t.Helper()
	var out []string
	mustOK(t, db.ScanEvents(context.Background(), svcScope, q, func(e logs.Event) bool {
		out = append(out, fmt.Sprintf("%s/%d/%d/%d/%s", e.LogStreamName, e.Timestamp, e.Seq, e.IngestionTime, e.Message))
		return true
	}))
	return out
}

func countBlocks(t *testing.T, db *DB) (blocks, small int) {
	t.Helper()
	mustOK(t, db.pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE count < $1) FROM log_blocks`, logblock.TargetEvents).Scan(&blocks, &small))
	return blocks, small
}

// TestCompactionKeepsEvents appends many small batches to two streams, out of time order and with
// dedup keys, then compacts: the blocks become few, and every read (whole group, one stream,
// descending, from a token taken before the compaction) returns exactly what it returned before;
// records delivered again after the compaction are still recognised.
func TestCompactionKeepsEvents(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	var err error
	ctx := context.Background()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	start := now.Add(-3 * time.Hour).UnixMilli()
	type batch struct {
		stream string
		evs    []logs.InputLogEvent
		keys   []string
	}
	var batches []batch
	for i := range 90 {
		b := batch{stream: fmt.Sprint("s", i%2)}
		// Batches cover overlapping times in no particular order; timestamps repeat.
		base := start + int64((i*37)%90)*60_000
		for j := range 30 {
			b.evs = append(b.evs, logs.InputLogEvent{Timestamp: base + int64(j/3)*1000, Message: fmt.Sprintf(`{"eventID":"e%d-%d"}`, i, j)})
			b.keys = append(b.keys, fmt.Sprintf("k%d-%d", i, j))
		}
		batches = append(batches, b)
		_, err := db.AppendUnique(ctx, svcScope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: b.stream, Events: b.evs,
			DedupKeys: b.keys, IngestionTime: now.UnixMilli() + int64(i), CreateStream: true})
		mustOK(t, err)
	}
	queries := []logs.EventQuery{
		{LogGroupName: "ct"},
		{LogGroupName: "ct", Descending: true},
		{LogGroupName: "ct", Streams: []string{"s1"}},
		{LogGroupName: "ct", StartTime: start + 30*60_000, EndTime: start + 100*60_000},
	}
	before := make([][]string, len(queries))
	for i, q := range queries {
		before[i] = scanStrings(t, db, q)
	}
	if len(before[0]) != 90*30 {
		t.Fatalf("%d events stored, want %d", len(before[0]), 90*30)
	}
	var mid logs.EventCursor
	mustOK(t, db.ScanEvents(ctx, svcScope, logs.EventQuery{LogGroupName: "ct"}, func(e logs.Event) bool {
		mid = logs.EventCursor{Timestamp: e.Timestamp, Seq: e.Seq}
		return e.Message != `{"eventID":"e50-7"}`
	}))
	afterMid := scanStrings(t, db, logs.EventQuery{LogGroupName: "ct", After: &mid})

	_, err = db.CompactBlocks(ctx)
	mustOK(t, err)
	blocks, small := countBlocks(t, db)
	// 2,700 events in two streams and four hours: a handful of blocks, at most one small one per
	// stream and hour.
	if blocks > 12 || small > 8 {
		t.Fatalf("%d blocks (%d small) after compaction", blocks, small)
	}
	for i, q := range queries {
		if got := scanStrings(t, db, q); !slices.Equal(got, before[i]) {
			t.Fatalf("query %+v changed by compaction: %d events, had %d", q, len(got), len(before[i]))
		}
	}
	if got := scanStrings(t, db, logs.EventQuery{LogGroupName: "ct", After: &mid}); !slices.Equal(got, afterMid) {
		t.Fatalf("token taken before compaction: %d events, had %d", len(got), len(afterMid))
	}
	for _, b := range batches[:3] {
		res, err := db.AppendUnique(ctx, svcScope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: b.stream, Events: b.evs,
			DedupKeys: b.keys, IngestionTime: now.UnixMilli()})
		mustOK(t, err)
		if slices.Contains(res.Duplicate, false) {
			t.Fatalf("records delivered again after compaction were stored: %v", res.Duplicate)
		}
	}
}

// TestDeleteStreamFreesKeys checks that a deleted stream's records may be stored again, as when
// their rows (and so their keys) went with the stream.
func TestDeleteStreamFreesKeys(t *testing.T) {
	db := openLogsDB(t)
	ctx := context.Background()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	b := logs.AppendBatch{LogGroupName: "ct", LogStreamName: "a", Events: []logs.InputLogEvent{{Timestamp: 5, Message: "x"}},
		DedupKeys: []string{"k"}, CreateStream: true}
	for _, want := range []bool{false, true} {
		res, err := db.AppendUnique(ctx, svcScope, b)
		mustOK(t, err)
		if res.Duplicate[0] != want {
			t.Fatalf("duplicate %v, want %v", res.Duplicate[0], want)
		}
	}
	mustOK(t, db.DeleteLogStream(ctx, svcScope, "ct", "a"))
	res, err := db.AppendUnique(ctx, svcScope, b)
	mustOK(t, err)
	if res.Duplicate[0] {
		t.Fatal("the deleted stream's key still suppresses the record")
	}
}

// TestMixedBlocksDeleteAndExpire compacts two streams' batches into blocks of both, then deletes
// one stream (its events leave the shared blocks, the other's stay, and a stream created again
// with its name is empty) and expires the rest (each stream's stored bytes drop to zero).
func TestMixedBlocksDeleteAndExpire(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 30, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	var err error
	ctx := context.Background()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	start := now.Add(-3 * time.Hour).Truncate(time.Hour).UnixMilli()
	for _, s := range []string{"a", "b"} {
		mustOK(t, db.CreateLogStream(ctx, svcScope, "g", logs.LogStream{Name: s}))
	}
	for i := range 40 {
		s := []string{"a", "b"}[i%2]
		var evs []logs.InputLogEvent
		for j := range 10 {
			evs = append(evs, logs.InputLogEvent{Timestamp: start + int64(i*10+j)*1000, Message: s + "-event"})
		}
		_, err := db.AppendEvents(ctx, svcScope, logs.AppendBatch{LogGroupName: "g", LogStreamName: s, Events: evs, IngestionTime: now.UnixMilli()})
		mustOK(t, err)
	}
	_, err = db.CompactBlocks(ctx)
	mustOK(t, err)
	var mixed int
	mustOK(t, db.pool.QueryRow(ctx, `SELECT count(*) FROM log_blocks WHERE stream_id = 0`).Scan(&mixed))
	if mixed == 0 {
		t.Fatal("compaction made no block of several streams")
	}
	mustOK(t, db.DeleteLogStream(ctx, svcScope, "g", "a"))
	got := scanStrings(t, db, logs.EventQuery{LogGroupName: "g"})
	if len(got) != 200 {
		t.Fatalf("%d events left, want b's 200", len(got))
	}
	for _, e := range got {
		if e[:2] != "b/" {
			t.Fatalf("event %s of the deleted stream", e)
		}
	}
	g, err := db.GetLogGroup(ctx, svcScope, "g")
	mustOK(t, err)
	if g.StoredBytes != 200*int64(len("b-event")) {
		t.Fatalf("group stored bytes %d", g.StoredBytes)
	}
	mustOK(t, db.CreateLogStream(ctx, svcScope, "g", logs.LogStream{Name: "a"}))
	if got := scanStrings(t, db, logs.EventQuery{LogGroupName: "g", Streams: []string{"a"}}); len(got) != 0 {
		t.Fatalf("the new stream a holds %d events", len(got))
	}
	mustOK(t, db.SetRetention(ctx, svcScope, "g", 1))
	n, err := db.ExpireEvents(ctx, now.Add(48*time.Hour).UnixMilli())
	mustOK(t, err)
	if n != 200 {
		t.Fatalf("expired %d, want 200", n)
	}
	st, err := db.GetLogStream(ctx, svcScope, "g", "b")
	mustOK(t, err)
	g, err = db.GetLogGroup(ctx, svcScope, "g")
	mustOK(t, err)
	if st.StoredBytes != 0 || g.StoredBytes != 0 {
		t.Fatalf("stored bytes after expiry: stream %d, group %d", st.StoredBytes, g.StoredBytes)
	}
}

// TestCompactionLevelsOverlappingBlocks runs logblocktest.LevelsOverlappingStreams, as SQLite's
// test of that name does: after rounds of overlapping batches of three streams, each compacted, the
// blocks of the hour cover disjoint stretches of time. A compactor merging only the small blocks
// left them overlapping two to three deep.
func TestCompactionLevelsOverlappingBlocks(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	logblocktest.LevelsOverlappingStreams(t, logblocktest.Backend{
		Store: db, Scope: svcScope, Now: now,
		Compact: func(ctx context.Context) error {
			_, err := db.CompactBlocks(ctx)
			return err
		},
		Blocks: func(ctx context.Context) []logblock.Meta {
			rows, err := db.pool.Query(ctx, `SELECT min_ts, max_ts, count FROM log_blocks`)
			mustOK(t, err)
			out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (logblock.Meta, error) {
				var (
					m     logblock.Meta
					count int32
				)
				err := r.Scan(&m.MinTS, &m.MaxTS, &count)
				m.Count = int(count)
				return m, err
			})
			mustOK(t, err)
			return out
		},
	})
}

// racingHour is a compactHour whose Replace finds the first of its blocks deleted, as when an
// expiry, a stream's deletion or another replica's round removed it after the round read it.
type racingHour struct {
	*compactHour
	t *testing.T
}

func (h racingHour) Replace(ids []int64, blocks []logblock.Compacted) error {
	_, err := h.db.pool.Exec(context.Background(), `DELETE FROM log_blocks WHERE id = $1`, ids[0])
	mustOK(h.t, err)
	return h.compactHour.Replace(ids, blocks)
}

// TestCompactionRaceChangesNothing checks that a round whose blocks changed before its replace
// commits nothing and ends without error: the blocks left are the ones there were, less the one
// removed meanwhile, and no merged block was added.
func TestCompactionRaceChangesNothing(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	// The open hour, with a few events: the background compactor leaves them to this test.
	start := now.UnixMilli()
	for i := range 4 {
		_, err := db.AppendUnique(ctx, svcScope, logs.AppendBatch{LogGroupName: "g", LogStreamName: fmt.Sprint("s", i%2), CreateStream: true,
			Events: []logs.InputLogEvent{{Timestamp: start + int64(i), Message: "x"}}, IngestionTime: now.UnixMilli()})
		mustOK(t, err)
	}
	var gid int64
	mustOK(t, db.pool.QueryRow(ctx, `SELECT id FROM log_groups`).Scan(&gid))
	blocks := func() int {
		var n int
		mustOK(t, db.pool.QueryRow(ctx, `SELECT count(*) FROM log_blocks`).Scan(&n))
		return n
	}
	h := racingHour{compactHour: &compactHour{ctx: ctx, db: db, gid: gid, bucket: logblock.Bucket(start)}, t: t}
	n, err := db.blocks.Compact(h)
	mustOK(t, err)
	if n != 0 || blocks() != 3 {
		t.Fatalf("a round that lost a block replaced %d blocks and left %d, want 0 and the other 3", n, blocks())
	}
	n, err = db.blocks.Compact(h.compactHour)
	mustOK(t, err)
	if n != 3 || blocks() != 1 {
		t.Fatalf("the next round replaced %d blocks and left %d, want 3 and 1", n, blocks())
	}
}
