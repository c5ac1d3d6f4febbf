package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/internal/logs"
)

var _ logs.Store = (*DB)(nil)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func logGroupID(ctx context.Context, q querier, sc logs.Scope, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM log_groups WHERE account_id = ? AND region = ? AND name = ?`,
		sc.AccountID, sc.Region, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, logs.ErrLogGroupNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("look up log group: %w", err)
	}
	return id, nil
}

// logStreamID returns the ids of a stream and its group in one query, distinguishing a missing
// group from a missing stream.
func logStreamID(ctx context.Context, q querier, sc logs.Scope, group, stream string) (gid, sid int64, err error) {
	var s sql.NullInt64
	err = q.QueryRowContext(ctx, `SELECT g.id, s.id FROM log_groups g
		LEFT JOIN log_streams s ON s.group_id = g.id AND s.name = ?
		WHERE g.account_id = ? AND g.region = ? AND g.name = ?`, stream, sc.AccountID, sc.Region, group).Scan(&gid, &s)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, 0, logs.ErrLogGroupNotFound
	case err != nil:
		return 0, 0, fmt.Errorf("look up log stream: %w", err)
	case !s.Valid:
		return gid, 0, logs.ErrLogStreamNotFound // the group's id, for callers that create the stream
	}
	return gid, s.Int64, nil
}

// CreateLogGroup implements logs.Store.
func (db *DB) CreateLogGroup(ctx context.Context, sc logs.Scope, g logs.LogGroup) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO log_groups (account_id, region, name, creation_time, retention_days, kms_key_id, class)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sc.AccountID, sc.Region, g.Name, g.CreationTime, g.RetentionInDays, g.KMSKeyID, g.LogGroupClass)
		if err != nil {
			return fmt.Errorf("insert log group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return logs.ErrLogGroupExists
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert log group: %w", err)
		}
		return putTags(ctx, tx, id, g.Tags)
	})
}

func putTags(ctx context.Context, tx *sql.Tx, gid int64, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_group_tags (group_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value`, gid, k, v); err != nil {
			return fmt.Errorf("tag log group: %w", err)
		}
	}
	return nil
}

// DeleteLogGroup implements logs.Store.
func (db *DB) DeleteLogGroup(ctx context.Context, sc logs.Scope, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		id, err := logGroupID(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		db.keys.dropGroup(id)
		for _, del := range []string{`DELETE FROM log_blocks WHERE group_id = ?`, `DELETE FROM log_dedup WHERE group_id = ?`,
			`DELETE FROM log_keysets WHERE group_id = ?`} {
			if _, err := tx.ExecContext(ctx, del, id); err != nil {
				return fmt.Errorf("delete log events: %w", err)
			}
		}
		// Streams, tags and metric filters go by ON DELETE CASCADE.
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_groups WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete log group: %w", err)
		}
		return nil
	})
}

const groupColumns = `g.name, g.creation_time, g.retention_days, g.kms_key_id, g.class, g.stored_bytes,
	(SELECT count(*) FROM log_metric_filters f WHERE f.group_id = g.id)`

func scanGroup(sc interface{ Scan(...any) error }) (logs.LogGroup, error) {
	var g logs.LogGroup
	err := sc.Scan(&g.Name, &g.CreationTime, &g.RetentionInDays, &g.KMSKeyID, &g.LogGroupClass, &g.StoredBytes, &g.MetricFilterCount)
	return g, err
}

// GetLogGroup implements logs.Store.
func (db *DB) GetLogGroup(ctx context.Context, sc logs.Scope, name string) (logs.LogGroup, error) {
	row := db.read.QueryRowContext(ctx, `SELECT g.id, `+groupColumns+` FROM log_groups g
		WHERE g.account_id = ? AND g.region = ? AND g.name = ?`, sc.AccountID, sc.Region, name)
	var (
		id int64
		g  logs.LogGroup
	)
	err := row.Scan(&id, &g.Name, &g.CreationTime, &g.RetentionInDays, &g.KMSKeyID, &g.LogGroupClass, &g.StoredBytes, &g.MetricFilterCount)
	if errors.Is(err, sql.ErrNoRows) {
		return logs.LogGroup{}, logs.ErrLogGroupNotFound
	}
	if err != nil {
		return logs.LogGroup{}, fmt.Errorf("get log group: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT key, value FROM log_group_tags WHERE group_id = ?`, id)
	if err != nil {
		return logs.LogGroup{}, fmt.Errorf("get log group tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return logs.LogGroup{}, fmt.Errorf("get log group tags: %w", err)
		}
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		g.Tags[k] = v
	}
	if err := rows.Err(); err != nil {
		return logs.LogGroup{}, fmt.Errorf("get log group tags: %w", err)
	}
	return g, nil
}

// ListLogGroups implements logs.Store.
func (db *DB) ListLogGroups(ctx context.Context, sc logs.Scope, q logs.GroupQuery) ([]logs.LogGroup, error) {
	var (
		where strings.Builder
		args  = []any{sc.AccountID, sc.Region}
	)
	where.WriteString(`g.account_id = ? AND g.region = ?`)
	if q.Prefix != "" {
		cond, a := prefixCond("g.name", q.Prefix)
		where.WriteString(cond)
		args = append(args, a...)
	}
	if q.Contains != "" {
		where.WriteString(` AND instr(g.name, ?) > 0`)
		args = append(args, q.Contains)
	}
	if q.After != "" {
		where.WriteString(` AND g.name > ?`)
		args = append(args, q.After)
	}
	args = append(args, limitArg(q.Limit))
	rows, err := db.read.QueryContext(ctx, `SELECT `+groupColumns+` FROM log_groups g WHERE `+where.String()+
		` ORDER BY g.name LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list log groups: %w", err)
	}
	defer rows.Close()
	var out []logs.LogGroup
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, fmt.Errorf("list log groups: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list log groups: %w", err)
	}
	return out, nil
}

// prefixCond returns the condition (with a leading " AND ") and its arguments that select the
// values of col, a TEXT column of the default BINARY collation, starting with prefix. It compares
// byte ranges, col >= prefix AND col < the prefix's successor, because BINARY compares UTF-8 bytes
// with memcmp: the range is exactly the names with that byte prefix, whatever characters it holds,
// and it can use the column's index. (substr(col, 1, len(prefix)) counted characters against Go's
// byte length, so a prefix with a multi-byte character never matched: issue 11, item 8.)
func prefixCond(col, prefix string) (string, []any) {
	if next, ok := prefixSuccessor(prefix); ok {
		return " AND " + col + " >= ? AND " + col + " < ?", []any{prefix, next}
	}
	return " AND " + col + " >= ?", []any{prefix}
}

// prefixSuccessor returns the smallest byte string greater than every string that starts with
// prefix: prefix without its trailing 0xFF bytes, with its last byte incremented. It need not be
// valid UTF-8 (SQLite compares the bytes as they are). ok is false when there is none (the prefix
// is all 0xFF bytes, which no UTF-8 text contains).
func prefixSuccessor(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// limitArg turns "0 means all" into SQLite's "-1 means no limit".
func limitArg(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// SetRetention implements logs.Store.
func (db *DB) SetRetention(ctx context.Context, sc logs.Scope, name string, days int) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE log_groups SET retention_days = ? WHERE account_id = ? AND region = ? AND name = ?`,
			days, sc.AccountID, sc.Region, name)
		if err != nil {
			return fmt.Errorf("set retention: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return logs.ErrLogGroupNotFound
		}
		return nil
	})
}

// TagLogGroup implements logs.Store.
func (db *DB) TagLogGroup(ctx context.Context, sc logs.Scope, name string, tags map[string]string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		id, err := logGroupID(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		return putTags(ctx, tx, id, tags)
	})
}

// UntagLogGroup implements logs.Store.
func (db *DB) UntagLogGroup(ctx context.Context, sc logs.Scope, name string, keys []string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		id, err := logGroupID(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM log_group_tags WHERE group_id = ? AND key = ?`, id, k); err != nil {
				return fmt.Errorf("untag log group: %w", err)
			}
		}
		return nil
	})
}

// CreateLogStream implements logs.Store.
func (db *DB) CreateLogStream(ctx context.Context, sc logs.Scope, group string, st logs.LogStream) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, group)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, gid, st.Name, st.CreationTime)
		if err != nil {
			return fmt.Errorf("insert log stream: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return logs.ErrLogStreamExists
		}
		return nil
	})
}

const streamColumns = `name, creation_time, first_event, last_event, last_ingestion, stored_bytes, upload_seq`

func scanStream(sc interface{ Scan(...any) error }) (logs.LogStream, error) {
	var s logs.LogStream
	err := sc.Scan(&s.Name, &s.CreationTime, &s.FirstEventTimestamp, &s.LastEventTimestamp, &s.LastIngestionTime, &s.StoredBytes, &s.UploadSequence)
	return s, err
}

// GetLogStream implements logs.Store.
func (db *DB) GetLogStream(ctx context.Context, sc logs.Scope, group, name string) (logs.LogStream, error) {
	gid, err := logGroupID(ctx, db.read, sc, group)
	if err != nil {
		return logs.LogStream{}, err
	}
	s, err := scanStream(db.read.QueryRowContext(ctx, `SELECT `+streamColumns+` FROM log_streams WHERE group_id = ? AND name = ?`, gid, name))
	if errors.Is(err, sql.ErrNoRows) {
		return logs.LogStream{}, logs.ErrLogStreamNotFound
	}
	if err != nil {
		return logs.LogStream{}, fmt.Errorf("get log stream: %w", err)
	}
	return s, nil
}

// DeleteLogStream implements logs.Store.
func (db *DB) DeleteLogStream(ctx context.Context, sc logs.Scope, group, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gid, sid, err := logStreamID(ctx, tx, sc, group, name)
		if err != nil {
			return err
		}
		if err := db.deleteStreamEventsTx(ctx, tx, gid, sid); err != nil {
			return err
		}
		// The stream's dedup keys go with its events, so a record stored in it may be stored again.
		db.keys.dropGroup(gid)
		for _, del := range []string{`DELETE FROM log_dedup WHERE group_id = ? AND stream_id = ?`,
			`DELETE FROM log_keysets WHERE group_id = ? AND stream_id = ?`} {
			if _, err := tx.ExecContext(ctx, del, gid, sid); err != nil {
				return fmt.Errorf("delete dedup keys: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes -
			(SELECT stored_bytes FROM log_streams WHERE id = ?) WHERE id = ?`, sid, gid); err != nil {
			return fmt.Errorf("update log group: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_streams WHERE id = ?`, sid); err != nil {
			return fmt.Errorf("delete log stream: %w", err)
		}
		return nil
	})
}

// ListLogStreams implements logs.Store.
func (db *DB) ListLogStreams(ctx context.Context, sc logs.Scope, group string, q logs.StreamQuery) ([]logs.LogStream, error) {
	gid, err := logGroupID(ctx, db.read, sc, group)
	if err != nil {
		return nil, err
	}
	var (
		where = `group_id = ?`
		args  = []any{gid}
		cmp   = ">"
		dir   = ""
	)
	if q.Descending {
		cmp, dir = "<", " DESC"
	}
	if q.Prefix != "" {
		cond, a := prefixCond("name", q.Prefix)
		where += cond
		args = append(args, a...)
	}
	order := `name` + dir
	if q.ByLastEventTime {
		order = `last_event` + dir + `, name` + dir
		if q.After != nil {
			where += ` AND (last_event, name) ` + cmp + ` (?, ?)`
			args = append(args, q.After.LastEventTimestamp, q.After.Name)
		}
	} else if q.After != nil {
		where += ` AND name ` + cmp + ` ?`
		args = append(args, q.After.Name)
	}
	args = append(args, limitArg(q.Limit))
	rows, err := db.read.QueryContext(ctx, `SELECT `+streamColumns+` FROM log_streams WHERE `+where+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list log streams: %w", err)
	}
	defer rows.Close()
	var out []logs.LogStream
	for rows.Next() {
		s, err := scanStream(rows)
		if err != nil {
			return nil, fmt.Errorf("list log streams: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list log streams: %w", err)
	}
	return out, nil
}

// expireChunk is how many rows one sweep transaction deletes (alarm history; log events go by
// blocks, expireBlocks). Deleting in chunks keeps every transaction short, so a sweep over millions
// of rows never holds up PutLogEvents (all writes share one committer) for more than a moment.
const expireChunk = 5000

// deleteInChunks runs del, which deletes at most expireChunk rows, each time in a transaction of its
// own, until it deletes fewer, and returns how many rows were deleted by the transactions that
// committed.
func (db *DB) deleteInChunks(ctx context.Context, del func(tx *sql.Tx) (int64, error)) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = del(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n // counted only once the deletion has committed
		if n < expireChunk {
			return total, nil
		}
	}
}

// PutMetricFilter implements logs.Store.
func (db *DB) PutMetricFilter(ctx context.Context, sc logs.Scope, f logs.MetricFilter, maxPerGroup int) error {
	dims := ""
	if len(f.Transformation.Dimensions) > 0 {
		b, err := json.Marshal(f.Transformation.Dimensions)
		if err != nil {
			return fmt.Errorf("encode dimensions: %w", err)
		}
		dims = string(b)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, f.LogGroupName)
		if err != nil {
			return err
		}
		var exists, count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(name = ?), 0) FROM log_metric_filters WHERE group_id = ?`,
			f.FilterName, gid).Scan(&count, &exists); err != nil {
			return fmt.Errorf("count metric filters: %w", err)
		}
		if exists == 0 && count >= maxPerGroup {
			return logs.ErrMetricFilterLimit
		}
		var old *logs.MetricFilter
		if exists != 0 {
			rows, err := tx.QueryContext(ctx, `SELECT `+filterColumns+` FROM log_metric_filters f JOIN log_groups g ON g.id = f.group_id
				WHERE f.group_id = ? AND f.name = ?`, gid, f.FilterName)
			if err != nil {
				return fmt.Errorf("read metric filter: %w", err)
			}
			fs, err := scanFilters(rows)
			if err != nil {
				return err
			}
			if len(fs) == 1 {
				old = &fs[0]
			}
		}
		f = f.Replacing(old)
		t := f.Transformation
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO log_metric_filters
			(group_id, name, pattern, creation_time, metric_name, metric_namespace, metric_value, default_value, unit, dimensions,
			live_since, paused_from, paused_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			gid, f.FilterName, f.FilterPattern, f.CreationTime, t.MetricName, t.MetricNamespace, t.MetricValue,
			t.DefaultValue, t.Unit, dims, f.LiveSince, f.PausedFrom, f.PausedUntil); err != nil {
			return fmt.Errorf("put metric filter: %w", err)
		}
		return nil
	})
}

// DeleteMetricFilter implements logs.Store.
func (db *DB) DeleteMetricFilter(ctx context.Context, sc logs.Scope, group, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, group)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM log_metric_filters WHERE group_id = ? AND name = ?`, gid, name)
		if err != nil {
			return fmt.Errorf("delete metric filter: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return logs.ErrMetricFilterNotFound
		}
		return nil
	})
}

// DisableMetricFilter implements logs.Store. Only FilterStateDisabled is stored (an invalid
// filter's state is computed from its pattern), so any other state is an error.
func (db *DB) DisableMetricFilter(ctx context.Context, sc logs.Scope, group, name string, creationTime int64, st logs.FilterStatus) error {
	if st.State != logs.FilterStateDisabled || st.Time == 0 {
		return fmt.Errorf("disable metric filter: cannot store state %q at time %d", st.State, st.Time)
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, group)
		if errors.Is(err, logs.ErrLogGroupNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE log_metric_filters SET disabled_time = ?, disabled_reason = ?
			WHERE group_id = ? AND name = ? AND creation_time = ?`, st.Time, st.Reason, gid, name, creationTime); err != nil {
			return fmt.Errorf("disable metric filter: %w", err)
		}
		return nil
	})
}

// ListMetricFilters implements logs.Store.
func (db *DB) ListMetricFilters(ctx context.Context, sc logs.Scope, q logs.FilterQuery) ([]logs.MetricFilter, error) {
	var (
		where strings.Builder
		args  = []any{sc.AccountID, sc.Region}
	)
	where.WriteString(`g.account_id = ? AND g.region = ?`)
	if q.LogGroupName != "" {
		where.WriteString(` AND g.name = ?`)
		args = append(args, q.LogGroupName)
	}
	if q.FilterNamePrefix != "" {
		cond, a := prefixCond("f.name", q.FilterNamePrefix)
		where.WriteString(cond)
		args = append(args, a...)
	}
	if q.MetricName != "" {
		where.WriteString(` AND f.metric_name = ? AND f.metric_namespace = ?`)
		args = append(args, q.MetricName, q.MetricNamespace)
	}
	if q.AfterGroup != "" || q.AfterName != "" {
		where.WriteString(` AND (g.name, f.name) > (?, ?)`)
		args = append(args, q.AfterGroup, q.AfterName)
	}
	args = append(args, limitArg(q.Limit))
	rows, err := db.read.QueryContext(ctx, `SELECT `+filterColumns+`
		FROM log_metric_filters f JOIN log_groups g ON g.id = f.group_id
		WHERE `+where.String()+` ORDER BY g.name, f.name LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list metric filters: %w", err)
	}
	return scanFilters(rows)
}

// filterColumns are the columns scanFilters reads, of log_metric_filters f joined with log_groups g.
const filterColumns = `g.name, f.name, f.pattern, f.creation_time, f.metric_name,
	f.metric_namespace, f.metric_value, f.default_value, f.unit, f.dimensions, f.disabled_time, f.disabled_reason,
	f.live_since, f.paused_from, f.paused_until`

// scanFilters reads and closes rows of filterColumns.
func scanFilters(rows *sql.Rows) ([]logs.MetricFilter, error) {
	defer rows.Close()
	var out []logs.MetricFilter
	for rows.Next() {
		var (
			f              logs.MetricFilter
			def            sql.NullFloat64
			dims, reason   string
			disabledMillis int64
		)
		t := &f.Transformation
		if err := rows.Scan(&f.LogGroupName, &f.FilterName, &f.FilterPattern, &f.CreationTime, &t.MetricName,
			&t.MetricNamespace, &t.MetricValue, &def, &t.Unit, &dims, &disabledMillis, &reason,
			&f.LiveSince, &f.PausedFrom, &f.PausedUntil); err != nil {
			return nil, fmt.Errorf("list metric filters: %w", err)
		}
		if disabledMillis != 0 {
			f.Status = &logs.FilterStatus{State: logs.FilterStateDisabled, Reason: reason, Time: disabledMillis}
		}
		if def.Valid {
			v := def.Float64
			t.DefaultValue = &v
		}
		if dims != "" {
			if err := json.Unmarshal([]byte(dims), &t.Dimensions); err != nil {
				return nil, fmt.Errorf("decode dimensions: %w", err)
			}
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list metric filters: %w", err)
	}
	return out, nil
}

// multiRow is a kind of multi-row statement: sql builds it for n rows, and a batch is written in
// statements of up to max rows. Statements are prepared once per row count on the write connection
// (DB.txStmt): parsing a 100-row INSERT cost about as much as running it, and a transaction used to
// prepare its own copies.
type multiRow struct {
	name string
	sql  func(rows int) string
	max  int
}

// chunk returns how many of the remaining rows the next statement takes: max, or for a shorter
// tail the largest power of two that fits, so that at most log2(max)+2 statements of a kind are
// ever prepared however batches are sized.
func (m multiRow) chunk(remaining int) int {
	if remaining >= m.max {
		return m.max
	}
	n := 1
	for n*2 <= remaining {
		n *= 2
	}
	return n
}

// stmt returns the statement for rows rows, bound to tx.
func (m multiRow) stmt(ctx context.Context, db *DB, tx *sql.Tx, rows int) (*sql.Stmt, error) {
	return db.txStmt(ctx, tx, stmtKey{m.name, rows}, func() string { return m.sql(rows) })
}

// recordAppendTx updates the stream's and group's bookkeeping after stored events (first, last:
// their time range; bytes: their size) were appended, and returns the stream's new upload sequence.
// An append that stored nothing still advances the sequence.
func recordAppendTx(ctx context.Context, tx *sql.Tx, gid, sid int64, stored int, first, last, ingestion, bytes int64) (int64, error) {
	var row *sql.Row
	if stored > 0 {
		row = tx.QueryRowContext(ctx, `UPDATE log_streams SET
			first_event = CASE WHEN first_event = 0 OR first_event > ?1 THEN ?1 ELSE first_event END,
			last_event = max(last_event, ?2), last_ingestion = ?3, stored_bytes = stored_bytes + ?4,
			upload_seq = upload_seq + 1
			WHERE id = ?5 RETURNING upload_seq`, first, last, ingestion, bytes, sid)
	} else {
		row = tx.QueryRowContext(ctx, `UPDATE log_streams SET upload_seq = upload_seq + 1 WHERE id = ? RETURNING upload_seq`, sid)
	}
	var seq int64
	if err := row.Scan(&seq); err != nil {
		return 0, fmt.Errorf("update log stream: %w", err)
	}
	if bytes > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?`, bytes, gid); err != nil {
			return 0, fmt.Errorf("update log group: %w", err)
		}
	}
	return seq, nil
}

// dedupEntry is what makes an event a duplicate: its key (hashed) at its timestamp.
type dedupEntry struct {
	ts  int64
	key string
}

// dedupHash is how a dedup key is stored: the first 16 bytes of its SHA-256, as a BLOB. CloudTrail's
// keys (<account>/<eventID>, ~49 bytes) would triple the size of the dedup index's entries, and so
// the pages each commit rewrites; 128 bits keep two different keys from ever meeting (a collision,
// which would drop a record as a duplicate, needs about 2^64 keys at one timestamp).
func dedupHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:16]
}

// rehashDedupKeys is schema 070's step before its SQL: it replaces the text keys stored until then
// by their hashes, so records stored before the upgrade are still recognised when they arrive again.
// It works through the events in rowid order, rehashChunk at a time, so memory stays bounded however
// many events the database holds.
func rehashDedupKeys(ctx context.Context, tx *sql.Tx) error {
	type rekey struct {
		id  int64
		key []byte
	}
	update, err := tx.PrepareContext(ctx, `UPDATE log_events SET dedup_key = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("rewrite dedup keys: %w", err)
	}
	defer update.Close()
	for after := int64(0); ; {
		rows, err := tx.QueryContext(ctx, `SELECT id, dedup_key FROM log_events
			WHERE id > ? AND typeof(dedup_key) = 'text' ORDER BY id LIMIT ?`, after, rehashChunk)
		if err != nil {
			return fmt.Errorf("read dedup keys: %w", err)
		}
		var todo []rekey
		for rows.Next() {
			var (
				id  int64
				key string
			)
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return fmt.Errorf("read dedup keys: %w", err)
			}
			todo = append(todo, rekey{id, dedupHash(key)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read dedup keys: %w", err)
		}
		for _, r := range todo {
			if _, err := update.ExecContext(ctx, r.key, r.id); err != nil {
				return fmt.Errorf("rewrite dedup keys: %w", err)
			}
		}
		if len(todo) < rehashChunk {
			return nil
		}
		after = todo[len(todo)-1].id
	}
}

// rehashChunk is how many keys rehashDedupKeys reads at a time.
const rehashChunk = 10000
