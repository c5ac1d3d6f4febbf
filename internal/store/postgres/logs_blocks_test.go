package postgres

import (
	"context"
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
