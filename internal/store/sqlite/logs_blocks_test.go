package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
	"github.com/trailwatch/trailwatch/internal/store/logblock/logblocktest"
)

// TestLogBlocks runs logblocktest's scenarios (compaction keeps every read and leaves full blocks
// alone, blocks of several streams through deletion and expiry, a round racing a deletion) on
// SQLite.
func TestLogBlocks(t *testing.T) {
	logblocktest.Run(t, func(t *testing.T, now time.Time) logblocktest.Backend {
		// The scenarios run compaction rounds themselves: a background round would race them.
		db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return now }, noCompactor: true})
		mustOK(t, err)
		t.Cleanup(func() { db.Close() })
		return logblocktest.Backend{
			Store: db, Scope: svcScope, Now: now,
			Compact: func(ctx context.Context) error {
				_, err := db.CompactBlocks(ctx)
				return err
			},
			Backlog: db.CompactBacklog,
			Blocks: func(ctx context.Context) []logblock.Meta {
				rows, err := db.read.QueryContext(ctx, `SELECT id, stream_id, min_ts, max_ts, count, raw_bytes, min_seq, max_seq FROM log_blocks`)
				mustOK(t, err)
				defer rows.Close()
				var out []logblock.Meta
				for rows.Next() {
					var m logblock.Meta
					mustOK(t, rows.Scan(&m.ID, &m.StreamID, &m.MinTS, &m.MaxTS, &m.Count, &m.RawBytes, &m.MinSeq, &m.MaxSeq))
					out = append(out, m)
				}
				mustOK(t, rows.Err())
				return out
			},
			Codec: db.blocks,
			CompactStore: func(ctx context.Context, group string, bucket int64) logblock.CompactStore {
				var gid int64
				mustOK(t, db.read.QueryRowContext(ctx, `SELECT id FROM log_groups WHERE account_id = ? AND region = ? AND name = ?`,
					svcScope.AccountID, svcScope.Region, group).Scan(&gid))
				return &compactHour{ctx: ctx, db: db, gid: gid, bucket: bucket}
			},
			DeleteBlock: func(ctx context.Context, id int64) error {
				_, err := db.write.ExecContext(ctx, `DELETE FROM log_blocks WHERE id = ?`, id)
				return err
			},
			SetBlockData: func(ctx context.Context, id int64, data []byte) error {
				_, err := db.write.ExecContext(ctx, `UPDATE log_blocks SET data = ? WHERE id = ?`, data, id)
				return err
			},
		}
	})
}

// TestEventsMovedToBlocks opens a database written before schema 160, with events stored one row
// each: they read back the same (streams, order, sequence numbers, so tokens issued before keep
// working), their keys still suppress repeats, and new events continue the sequence.
func TestEventsMovedToBlocks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw := openSchemaBefore(t, dir, "schema_160")
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
	if got := logblocktest.EventStrings(t, db, svcScope, logs.EventQuery{LogGroupName: "ct"}); !slices.Equal(got, want) {
		t.Fatalf("%d events after the conversion, want %d; first %v, want %v", len(got), len(want), got[:min(3, len(got))], want[:3])
	}
	// A token issued before the upgrade: (ts, id) of the 1000th event.
	var ts, id int64
	_, err = fmt.Sscanf(want[999][2:], "%d/%d/", &ts, &id)
	mustOK(t, err)
	if got := logblocktest.EventStrings(t, db, svcScope, logs.EventQuery{LogGroupName: "ct", After: &logs.EventCursor{Timestamp: ts, Seq: id}}); !slices.Equal(got, want[1000:]) {
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
	got := logblocktest.EventStrings(t, db, svcScope, logs.EventQuery{LogGroupName: "ct", EndTime: 44})
	if len(got) != 2 || got[1] != "a/43/9002/0/new" {
		t.Fatalf("new event %v, want sequence 9002 (9000 was the largest id; 9001 went to the duplicate)", got)
	}
}

// TestSmallBlockIndex checks that smallBlock says what logblock.Meta.Full says, that the partial
// index log_blocks_small has that predicate, and that the compactor's queries of small blocks read
// that index: once appends kept their full blocks, most blocks held fewer than 1,024 events, and
// an index of count < 1024 alone listed nearly every block.
func TestSmallBlockIndex(t *testing.T) {
	if want := fmt.Sprintf("count < %d AND raw_bytes < %d", logblock.TargetEvents, logblock.FullRawBytes); smallBlock != want {
		t.Fatalf("smallBlock is %q, logblock's constants say %q", smallBlock, want)
	}
	db, err := Open(context.Background(), t.TempDir(), Options{noCompactor: true})
	mustOK(t, err)
	defer db.Close()
	var def string
	mustOK(t, db.read.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'log_blocks_small'`).Scan(&def))
	if !strings.HasSuffix(def, "WHERE "+smallBlock) {
		t.Fatalf("log_blocks_small is %q, want its predicate %q", def, smallBlock)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{dueHoursSQL, []any{logblock.TargetEvents, logblock.FullRawBytes, 0}},
		{`SELECT 1 FROM log_blocks WHERE ` + smallBlock + ` LIMIT 2`, nil},
	} {
		rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+q.sql, q.args...)
		mustOK(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			mustOK(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "log_blocks_small") {
			t.Errorf("%s\nplan %v does not read log_blocks_small", q.sql, plan)
		}
	}
}
