package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
	"github.com/trailwatch/trailwatch/internal/store/logblock/logblocktest"
)

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
	mustOK(t, db.read.QueryRow(`SELECT count(*), coalesce(sum(count < ?), 0) FROM log_blocks`, logblock.TargetEvents).Scan(&blocks, &small))
	return blocks, small
}

// TestCompactionKeepsEvents appends many small batches to two streams, out of time order and with
// dedup keys, then compacts: the blocks become few, and every read (whole group, one stream,
// descending, from a token taken before the compaction) returns exactly what it returned before;
// records delivered again after the compaction are still recognised.
func TestCompactionKeepsEvents(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return now }})
	mustOK(t, err)
	defer db.Close()
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

// TestEventsMovedToBlocks opens a database written before schema 160, with events stored one row
// each: they read back the same (streams, order, sequence numbers, so tokens issued before keep
// working), their keys still suppress repeats, and new events continue the sequence.
func TestEventsMovedToBlocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	mustOK(t, err)
	_, err = raw.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	mustOK(t, err)
	names, err := fs.Glob(schemaFS, "schema_*.sql")
	mustOK(t, err)
	for _, name := range names {
		if name >= "schema_160" {
			break
		}
		body, err := schemaFS.ReadFile(name)
		mustOK(t, err)
		_, err = raw.ExecContext(ctx, string(body))
		mustOK(t, err)
		_, err = raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, name)
		mustOK(t, err)
	}
	const hour = logblock.BucketMillis
	for _, stmt := range []string{
		`INSERT INTO log_groups (id, account_id, region, name, creation_time) VALUES (1, '111111111111', 'us-east-1', 'ct', 0)`,
		`INSERT INTO log_streams (id, group_id, name, creation_time) VALUES (1, 1, 'a', 0), (2, 1, 'b', 0)`,
		// 3,000 events over three hours in two streams, ids interleaved, four per timestamp.
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
			INSERT INTO log_events (id, group_id, stream_id, ts, ingestion_time, message, dedup_key)
			SELECT i * 2, 1, 1 + i %% 2, %d + (i / 4) * 3600, i, 'message ' || i, CASE WHEN i %% 3 = 0 THEN randomblob(16) END FROM n`, 10*hour),
		`INSERT INTO log_events (id, group_id, stream_id, ts, ingestion_time, message, dedup_key)
			VALUES (9000, 1, 1, 42, 7, 'keyed', X'00112233445566778899AABBCCDDEEFF')`,
	} {
		_, err := raw.ExecContext(ctx, stmt)
		mustOK(t, err)
	}
	var want []string
	rows, err := raw.QueryContext(ctx, `SELECT s.name, e.ts, e.id, e.ingestion_time, e.message FROM log_events e
		JOIN log_streams s ON s.id = e.stream_id ORDER BY e.ts, e.id`)
	mustOK(t, err)
	for rows.Next() {
		var (
			stream, msg   string
			ts, id, ingst int64
		)
		mustOK(t, rows.Scan(&stream, &ts, &id, &ingst, &msg))
		want = append(want, fmt.Sprintf("%s/%d/%d/%d/%s", stream, ts, id, ingst, msg))
	}
	mustOK(t, rows.Err())
	mustOK(t, raw.Close())

	db, err := Open(ctx, dir, Options{Now: func() time.Time { return time.UnixMilli(20 * hour) }})
	mustOK(t, err)
	defer db.Close()
	if got := scanStrings(t, db, logs.EventQuery{LogGroupName: "ct"}); !slices.Equal(got, want) {
		t.Fatalf("%d events after the conversion, want %d; first %v, want %v", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	// A token issued before the upgrade: (ts, id) of the 1000th event.
	var ts, id int64
	_, err = fmt.Sscanf(want[999][2:], "%d/%d/", &ts, &id)
	mustOK(t, err)
	if got := scanStrings(t, db, logs.EventQuery{LogGroupName: "ct", After: &logs.EventCursor{Timestamp: ts, Seq: id}}); !slices.Equal(got, want[1000:]) {
		t.Fatalf("old token: %d events, want %d", len(got), len(want)-1000)
	}
	var keys int
	mustOK(t, db.read.QueryRow(`SELECT count(*) FROM log_dedup`).Scan(&keys))
	if keys != 1001 {
		t.Fatalf("%d dedup keys, want 1001", keys)
	}
	// The key stored with id 9000 is dedupHash of some key we cannot know; put one we know.
	_, err = db.write.ExecContext(ctx, `UPDATE log_dedup SET key = ? WHERE seq = 9000`, dedupHash("known"))
	mustOK(t, err)
	res, err := db.AppendUnique(ctx, svcScope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: "a",
		Events: []logs.InputLogEvent{{Timestamp: 42, Message: "again"}, {Timestamp: 43, Message: "new"}}, DedupKeys: []string{"known", "other"}})
	mustOK(t, err)
	if !slices.Equal(res.Duplicate, []bool{true, false}) {
		t.Fatalf("duplicates %v, want [true false]", res.Duplicate)
	}
	got := scanStrings(t, db, logs.EventQuery{LogGroupName: "ct", EndTime: 44})
	if len(got) != 2 || got[1] != "a/43/9002/0/new" {
		t.Fatalf("new event %v, want sequence 9002 (9000 was the largest id; 9001 went to the duplicate)", got)
	}
}

// TestMixedBlocksDeleteAndExpire compacts two streams' batches into blocks of both, then deletes
// one stream (its events leave the shared blocks, the other's stay, and a stream created again
// with its name is empty) and expires the rest (each stream's stored bytes drop to zero).
func TestMixedBlocksDeleteAndExpire(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 30, 0, 0, time.UTC)
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return now }})
	mustOK(t, err)
	defer db.Close()
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
	mustOK(t, db.read.QueryRow(`SELECT count(*) FROM log_blocks WHERE stream_id = 0`).Scan(&mixed))
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

// TestCompactionLevelsOverlappingBlocks runs logblocktest.LevelsOverlappingStreams: after rounds of
// overlapping batches of three streams, each compacted, the blocks of the hour cover disjoint
// stretches of time.
func TestCompactionLevelsOverlappingBlocks(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return now }})
	mustOK(t, err)
	defer db.Close()
	logblocktest.LevelsOverlappingStreams(t, logblocktest.Backend{
		Store: db, Scope: svcScope, Now: now,
		Compact: func(ctx context.Context) error {
			_, err := db.CompactBlocks(ctx)
			return err
		},
		Blocks: func(ctx context.Context) []logblock.Meta {
			rows, err := db.read.QueryContext(ctx, `SELECT min_ts, max_ts, count FROM log_blocks`)
			mustOK(t, err)
			defer rows.Close()
			var out []logblock.Meta
			for rows.Next() {
				var m logblock.Meta
				mustOK(t, rows.Scan(&m.MinTS, &m.MaxTS, &m.Count))
				out = append(out, m)
			}
			mustOK(t, rows.Err())
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
	_, err := h.db.write.ExecContext(context.Background(), `DELETE FROM log_blocks WHERE id = ?`, ids[0])
	mustOK(h.t, err)
	return h.compactHour.Replace(ids, blocks)
}

// TestCompactionRaceChangesNothing checks that a round whose blocks changed before its replace
// commits nothing and ends without error: the blocks left are the ones there were, less the one
// removed meanwhile, and no merged block was added.
func TestCompactionRaceChangesNothing(t *testing.T) {
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return now }})
	mustOK(t, err)
	defer db.Close()
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
	mustOK(t, db.read.QueryRowContext(ctx, `SELECT id FROM log_groups`).Scan(&gid))
	blocks := func() int {
		var n int
		mustOK(t, db.read.QueryRowContext(ctx, `SELECT count(*) FROM log_blocks`).Scan(&n))
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
