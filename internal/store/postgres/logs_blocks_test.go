package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/store/logblock"
	"github.com/trailwatch/trailwatch/internal/store/logblock/logblocktest"
)

// TestLogBlocks runs logblocktest's scenarios (compaction keeps every read and leaves full blocks
// alone, blocks of several streams through deletion and expiry, a round racing a deletion) on
// PostgreSQL, as SQLite's test of that name does.
func TestLogBlocks(t *testing.T) {
	logblocktest.Run(t, func(t *testing.T, now time.Time) logblocktest.Backend {
		// The scenarios run compaction rounds themselves: a background round would race them (a
		// backlog it merged first was missing when CompactionDrainsBacklog counted it).
		db := openTest(t, Options{Now: func() time.Time { return now }, noCompactor: true})
		return logblocktest.Backend{
			Store: db, Scope: svcScope, Now: now,
			Compact: func(ctx context.Context) error {
				_, err := db.CompactBlocks(ctx)
				return err
			},
			Backlog: db.CompactBacklog,
			Blocks: func(ctx context.Context) []logblock.Meta {
				rows, err := db.pool.Query(ctx, `SELECT id, stream_id, min_ts, max_ts, count, raw_bytes, min_seq, max_seq FROM log_blocks`)
				mustOK(t, err)
				out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (logblock.Meta, error) {
					var (
						m     logblock.Meta
						count int32
					)
					err := r.Scan(&m.ID, &m.StreamID, &m.MinTS, &m.MaxTS, &count, &m.RawBytes, &m.MinSeq, &m.MaxSeq)
					m.Count = int(count)
					return m, err
				})
				mustOK(t, err)
				return out
			},
			Codec: db.blocks,
			CompactStore: func(ctx context.Context, group string, bucket int64) logblock.CompactStore {
				var gid int64
				mustOK(t, db.pool.QueryRow(ctx, `SELECT id FROM log_groups WHERE account_id = $1 AND region = $2 AND name = $3`,
					svcScope.AccountID, svcScope.Region, group).Scan(&gid))
				return &compactHour{ctx: ctx, db: db, gid: gid, bucket: bucket}
			},
			DeleteBlock: func(ctx context.Context, id int64) error {
				_, err := db.pool.Exec(ctx, `DELETE FROM log_blocks WHERE id = $1`, id)
				return err
			},
			SetBlockData: func(ctx context.Context, id int64, data []byte) error {
				_, err := db.pool.Exec(ctx, `UPDATE log_blocks SET data = $1 WHERE id = $2`, data, id)
				return err
			},
		}
	})
}

// TestSmallBlockIndex checks that smallBlock says what logblock.Meta.Full says, that the partial
// index log_blocks_small has that predicate, and that a generic plan of the compactor's query of
// due hours can read that index: with the bounds as parameters ($1, $2) it could not, and once
// appends kept their full blocks the index of count < 1024 alone listed nearly every block.
func TestSmallBlockIndex(t *testing.T) {
	if want := fmt.Sprintf("count < %d AND raw_bytes < %d", logblock.TargetEvents, logblock.FullRawBytes); smallBlock != want {
		t.Fatalf("smallBlock is %q, logblock's constants say %q", smallBlock, want)
	}
	db := openTest(t, Options{noCompactor: true})
	ctx := context.Background()
	var def string
	mustOK(t, db.pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'log_blocks_small'`).Scan(&def))
	if !strings.Contains(def, "(count < 1024)") || !strings.Contains(def, "(raw_bytes < 491520)") {
		t.Fatalf("log_blocks_small is %q, want the predicate %q", def, smallBlock)
	}
	conn, err := db.pool.Acquire(ctx)
	mustOK(t, err)
	defer conn.Release()
	// A generic plan, as PostgreSQL may choose for a prepared statement after five executions, and
	// no sequential scan where an index will do, so that the plan shows whether the index can serve.
	for _, stmt := range []string{`SET plan_cache_mode = force_generic_plan`, `SET enable_seqscan = off`,
		`PREPARE due(bigint, bigint, bigint) AS ` + dueHoursSQL} {
		_, err := conn.Exec(ctx, stmt)
		mustOK(t, err)
	}
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE due(1024, 491520, 0)`)
	mustOK(t, err)
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	mustOK(t, err)
	if !strings.Contains(strings.Join(plan, "\n"), "log_blocks_small") {
		t.Errorf("the generic plan of the due hours does not read log_blocks_small:\n%s", strings.Join(plan, "\n"))
	}
	for _, stmt := range []string{`DEALLOCATE due`, `RESET plan_cache_mode`, `RESET enable_seqscan`} {
		_, err := conn.Exec(ctx, stmt)
		mustOK(t, err)
	}
}
