package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Deduplicated delivery runs for every backend in logstest (Run and RunBackend); the upgrade of
// keys stored before schema 070 and the plans of block scans are SQLite's own.

// openSchemaBefore creates, in dir, a database as the migrations before first left it (first is a
// schema file's name, or a prefix of it), and returns it open without the store, for a test to
// write rows in the old layout and then Open dir to upgrade them.
func openSchemaBefore(t *testing.T, dir, first string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	mustOK(t, err)
	_, err = raw.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	mustOK(t, err)
	names, err := fs.Glob(schemaFS, "schema_*.sql")
	mustOK(t, err)
	for _, name := range names {
		if name >= first {
			break
		}
		body, err := schemaFS.ReadFile(name)
		mustOK(t, err)
		_, err = raw.ExecContext(ctx, string(body))
		mustOK(t, err)
		_, err = raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, name)
		mustOK(t, err)
	}
	return raw
}

// TestDedupKeysSurviveSchema070 opens a database as schema 060 left it (text dedup keys, separate
// dedup index) and checks that after the upgrade a stored record arriving again is still a
// duplicate, and a new one is not.
func TestDedupKeysSurviveSchema070(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw := openSchemaBefore(t, dir, "schema_070")
	for _, stmt := range []string{
		`INSERT INTO log_groups (id, account_id, region, name, creation_time) VALUES (1, '111111111111', 'us-east-1', 'ct', 0)`,
		`INSERT INTO log_streams (id, group_id, name, creation_time) VALUES (1, 1, 's', 0)`,
		`INSERT INTO log_events (group_id, stream_id, ts, ingestion_time, message, dedup_key) VALUES (1, 1, 1000, 0, 'old', '111111111111/e1')`,
		// More keys than one rehash chunk, so that the migration's chunked loop runs more than once.
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
			INSERT INTO log_events (group_id, stream_id, ts, ingestion_time, message, dedup_key)
			SELECT 1, 1, 2000 + i, 0, 'm', '111111111111/k' || i FROM n`,
	} {
		_, err := raw.ExecContext(ctx, stmt)
		mustOK(t, err)
	}
	mustOK(t, raw.Close())

	db, err := Open(ctx, dir, Options{})
	mustOK(t, err)
	defer db.Close()
	// Schema 161 moved the events into blocks and their (hashed) keys into log_dedup.
	var keys, text int
	mustOK(t, db.write.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(typeof(key) != 'blob' OR length(key) != 16), 0) FROM log_dedup`).Scan(&keys, &text))
	if keys != 25001 || text != 0 {
		t.Fatalf("%d keys, %d not hashed, after the migrations; want 25001, 0", keys, text)
	}
	res, err := db.AppendUnique(ctx, svcScope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: "s", IngestionTime: 2000,
		Events: []logs.InputLogEvent{{Timestamp: 1000, Message: "old again"}, {Timestamp: 1000, Message: "new"},
			{Timestamp: 2001, Message: "first of many"}, {Timestamp: 27000, Message: "last of many"}},
		DedupKeys: []string{"111111111111/e1", "111111111111/e2", "111111111111/k1", "111111111111/k25000"}})
	mustOK(t, err)
	if !slices.Equal(res.Duplicate, []bool{true, false, true, true}) {
		t.Fatalf("duplicates %v, want [true false true true]", res.Duplicate)
	}
}

// TestScanBlocksPlans pins the index block scans use, in the order asked for: the group index, also
// for some streams (whose events may sit in blocks of several streams), ascending with no sort at
// all and descending sorting only each bucket's block rows by max_ts.
func TestScanBlocksPlans(t *testing.T) {
	db := openLogsDB(t)
	tests := []struct {
		name string
		ids  []int64
		r    logblock.Range
		want string
	}{
		{"group", nil, logblock.Range{FirstBucket: 1, LastBucket: 9, Ascending: true},
			"SEARCH b USING INDEX log_blocks_group (group_id=? AND bucket>? AND bucket<?)"},
		{"group descending", nil, logblock.Range{FirstBucket: 1, LastBucket: 9},
			"SEARCH b USING INDEX log_blocks_group (group_id=? AND bucket>? AND bucket<?); USE TEMP B-TREE FOR LAST TERM OF ORDER BY"},
		{"streams", []int64{1, 2}, logblock.Range{FirstBucket: 1, LastBucket: 9, Ascending: true},
			"SEARCH b USING INDEX log_blocks_group (group_id=? AND bucket>? AND bucket<?)"},
		{"one stream", []int64{1}, logblock.Range{FirstBucket: 1, LastBucket: 9, Ascending: true},
			"SEARCH b USING INDEX log_blocks_group (group_id=? AND bucket>? AND bucket<?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query, args := scanBlocksQuery(1, tt.ids, tt.r)
			rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
			mustOK(t, err)
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				mustOK(t, rows.Scan(&id, &parent, &unused, &detail))
				if !strings.HasPrefix(detail, "SEARCH s ") {
					plan = append(plan, detail)
				}
			}
			if got := strings.Join(plan, "; "); got != tt.want {
				t.Fatalf("plan\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
