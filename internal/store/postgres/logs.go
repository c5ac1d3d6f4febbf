package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/trailwatch/trailwatch/internal/logs"
)

var _ logs.Store = (*DB)(nil)

// The log store follows internal/store/sqlite's (logs.go, logs_blocks.go) statement by statement
// where the two engines agree; where they differ:
//
//   - Names are COLLATE "C" (schema 090), so that ORDER BY and comparisons of names go by bytes,
//     as SQLite's BINARY does and as CloudWatch Logs sorts them; prefixes are matched with
//     starts_with, since a byte-range upper bound may not be valid UTF-8 text.
//   - Writers run side by side, on several replicas. Every transaction that changes a group's
//     events or byte counters first takes the group's row lock (lockGroup, FOR NO KEY UPDATE, which
//     does not block the foreign-key checks of new streams and filters) and only then a stream's, so
//     that two appends to one group, from any replicas, queue instead of interleaving and never
//     deadlock; sequence numbers are drawn under that lock (allocSeq).

// pgq is what pgx.Tx and the pool both offer.
type pgq interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// args accumulates the arguments of a query built piece by piece and names their placeholders.
type args []any

// add appends v and returns its placeholder ($n).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func logGroupID(ctx context.Context, q pgq, sc logs.Scope, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM log_groups WHERE account_id = $1 AND region = $2 AND name = $3`,
		sc.AccountID, sc.Region, name).Scan(&id)
	if errNoRows(err) {
		return 0, logs.ErrLogGroupNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("look up log group: %w", err)
	}
	return id, nil
}

// lockStream returns the ids of a stream and its group, holding the group's row lock until the
// end of tx, and distinguishes a missing group from a missing stream (then gid is the group's).
func lockStream(ctx context.Context, tx pgx.Tx, sc logs.Scope, group, stream string) (gid, sid int64, err error) {
	var s *int64
	err = tx.QueryRow(ctx, `SELECT g.id, s.id FROM log_groups g
		LEFT JOIN log_streams s ON s.group_id = g.id AND s.name = $1
		WHERE g.account_id = $2 AND g.region = $3 AND g.name = $4 FOR NO KEY UPDATE OF g`,
		stream, sc.AccountID, sc.Region, group).Scan(&gid, &s)
	switch {
	case errNoRows(err):
		return 0, 0, logs.ErrLogGroupNotFound
	case err != nil:
		return 0, 0, fmt.Errorf("look up log stream: %w", err)
	case s == nil:
		return gid, 0, logs.ErrLogStreamNotFound
	}
	return gid, *s, nil
}

// lockGroup takes group gid's row lock until the end of tx; ok is false when the group is gone.
func lockGroup(ctx context.Context, tx pgx.Tx, gid int64) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM log_groups WHERE id = $1 FOR NO KEY UPDATE`, gid).Scan(&one)
	if errNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock log group: %w", err)
	}
	return true, nil
}

// CreateLogGroup implements logs.Store.
func (db *DB) CreateLogGroup(ctx context.Context, sc logs.Scope, g logs.LogGroup) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO log_groups (account_id, region, name, creation_time, retention_days, kms_key_id, class)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
			sc.AccountID, sc.Region, g.Name, g.CreationTime, g.RetentionInDays, g.KMSKeyID, g.LogGroupClass).Scan(&id)
		if errNoRows(err) {
			return logs.ErrLogGroupExists
		}
		if err != nil {
			return fmt.Errorf("insert log group: %w", err)
		}
		return putTags(ctx, tx, id, g.Tags)
	})
}

func putTags(ctx context.Context, tx pgx.Tx, gid int64, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.Exec(ctx, `INSERT INTO log_group_tags (group_id, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value`, gid, k, v); err != nil {
			return fmt.Errorf("tag log group: %w", err)
		}
	}
	return nil
}

// DeleteLogGroup implements logs.Store.
func (db *DB) DeleteLogGroup(ctx context.Context, sc logs.Scope, name string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM log_groups WHERE account_id = $1 AND region = $2 AND name = $3 FOR UPDATE`,
			sc.AccountID, sc.Region, name).Scan(&id)
		if errNoRows(err) {
			return logs.ErrLogGroupNotFound
		}
		if err != nil {
			return fmt.Errorf("look up log group: %w", err)
		}
		for _, del := range []string{`DELETE FROM log_blocks WHERE group_id = $1`, `DELETE FROM log_dedup WHERE group_id = $1`} {
			if _, err := tx.Exec(ctx, del, id); err != nil {
				return fmt.Errorf("delete log events: %w", err)
			}
		}
		// Streams, tags and metric filters go by ON DELETE CASCADE.
		if _, err := tx.Exec(ctx, `DELETE FROM log_groups WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete log group: %w", err)
		}
		return nil
	})
}

const groupColumns = `g.name, g.creation_time, g.retention_days, g.kms_key_id, g.class, g.stored_bytes,
	(SELECT count(*) FROM log_metric_filters f WHERE f.group_id = g.id)`

func scanGroup(row pgx.Row, prefix ...any) (logs.LogGroup, error) {
	var (
		g    logs.LogGroup
		days int32
		nf   int64
	)
	err := row.Scan(append(prefix, &g.Name, &g.CreationTime, &days, &g.KMSKeyID, &g.LogGroupClass, &g.StoredBytes, &nf)...)
	g.RetentionInDays, g.MetricFilterCount = int(days), int(nf)
	return g, err
}

// GetLogGroup implements logs.Store.
func (db *DB) GetLogGroup(ctx context.Context, sc logs.Scope, name string) (logs.LogGroup, error) {
	var id int64
	g, err := scanGroup(db.pool.QueryRow(ctx, `SELECT g.id, `+groupColumns+` FROM log_groups g
		WHERE g.account_id = $1 AND g.region = $2 AND g.name = $3`, sc.AccountID, sc.Region, name), &id)
	if errNoRows(err) {
		return logs.LogGroup{}, logs.ErrLogGroupNotFound
	}
	if err != nil {
		return logs.LogGroup{}, fmt.Errorf("get log group: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT key, value FROM log_group_tags WHERE group_id = $1`, id)
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

// limitClause is " LIMIT n", or nothing for "0 means all".
func limitClause(a *args, n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + a.add(n)
}

// ListLogGroups implements logs.Store.
func (db *DB) ListLogGroups(ctx context.Context, sc logs.Scope, q logs.GroupQuery) ([]logs.LogGroup, error) {
	var a args
	where := `g.account_id = ` + a.add(sc.AccountID) + ` AND g.region = ` + a.add(sc.Region)
	if q.Prefix != "" {
		where += ` AND starts_with(g.name, ` + a.add(q.Prefix) + `)`
	}
	if q.Contains != "" {
		where += ` AND strpos(g.name, ` + a.add(q.Contains) + `) > 0`
	}
	if q.After != "" {
		where += ` AND g.name > ` + a.add(q.After)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+groupColumns+` FROM log_groups g WHERE `+where+` ORDER BY g.name`+limitClause(&a, q.Limit), a...)
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

// SetRetention implements logs.Store.
func (db *DB) SetRetention(ctx context.Context, sc logs.Scope, name string, days int) error {
	tag, err := db.pool.Exec(ctx, `UPDATE log_groups SET retention_days = $1 WHERE account_id = $2 AND region = $3 AND name = $4`,
		days, sc.AccountID, sc.Region, name)
	if err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return logs.ErrLogGroupNotFound
	}
	return nil
}

// TagLogGroup implements logs.Store.
func (db *DB) TagLogGroup(ctx context.Context, sc logs.Scope, name string, tags map[string]string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		id, err := logGroupID(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		return putTags(ctx, tx, id, tags)
	})
}

// UntagLogGroup implements logs.Store.
func (db *DB) UntagLogGroup(ctx context.Context, sc logs.Scope, name string, keys []string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		id, err := logGroupID(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM log_group_tags WHERE group_id = $1 AND key = ANY($2)`, id, keys); err != nil {
			return fmt.Errorf("untag log group: %w", err)
		}
		return nil
	})
}

// CreateLogStream implements logs.Store.
func (db *DB) CreateLogStream(ctx context.Context, sc logs.Scope, group string, st logs.LogStream) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, group)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO log_streams (group_id, name, creation_time) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, gid, st.Name, st.CreationTime)
		if err != nil {
			return fmt.Errorf("insert log stream: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return logs.ErrLogStreamExists
		}
		return nil
	})
}

const streamColumns = `name, creation_time, first_event, last_event, last_ingestion, stored_bytes, upload_seq`

func scanStream(row pgx.Row) (logs.LogStream, error) {
	var s logs.LogStream
	err := row.Scan(&s.Name, &s.CreationTime, &s.FirstEventTimestamp, &s.LastEventTimestamp, &s.LastIngestionTime, &s.StoredBytes, &s.UploadSequence)
	return s, err
}

// GetLogStream implements logs.Store.
func (db *DB) GetLogStream(ctx context.Context, sc logs.Scope, group, name string) (logs.LogStream, error) {
	gid, err := logGroupID(ctx, db.pool, sc, group)
	if err != nil {
		return logs.LogStream{}, err
	}
	s, err := scanStream(db.pool.QueryRow(ctx, `SELECT `+streamColumns+` FROM log_streams WHERE group_id = $1 AND name = $2`, gid, name))
	if errNoRows(err) {
		return logs.LogStream{}, logs.ErrLogStreamNotFound
	}
	if err != nil {
		return logs.LogStream{}, fmt.Errorf("get log stream: %w", err)
	}
	return s, nil
}

// DeleteLogStream implements logs.Store.
func (db *DB) DeleteLogStream(ctx context.Context, sc logs.Scope, group, name string) error {
	return db.withTx(ctx, func(tx pgx.Tx) error {
		gid, sid, err := lockStream(ctx, tx, sc, group, name)
		if err != nil {
			return err
		}
		if err := db.deleteStreamEventsTx(ctx, tx, gid, sid); err != nil {
			return err
		}
		// The stream's dedup keys go with its events, so a record stored in it may be stored again.
		if _, err := tx.Exec(ctx, `DELETE FROM log_dedup WHERE group_id = $1 AND stream_id = $2`, gid, sid); err != nil {
			return fmt.Errorf("delete dedup keys: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes -
			(SELECT stored_bytes FROM log_streams WHERE id = $1) WHERE id = $2`, sid, gid); err != nil {
			return fmt.Errorf("update log group: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM log_streams WHERE id = $1`, sid); err != nil {
			return fmt.Errorf("delete log stream: %w", err)
		}
		return nil
	})
}

// ListLogStreams implements logs.Store.
func (db *DB) ListLogStreams(ctx context.Context, sc logs.Scope, group string, q logs.StreamQuery) ([]logs.LogStream, error) {
	gid, err := logGroupID(ctx, db.pool, sc, group)
	if err != nil {
		return nil, err
	}
	var (
		a     args
		where = `group_id = ` + a.add(gid)
		cmp   = ">"
		dir   = ""
	)
	if q.Descending {
		cmp, dir = "<", " DESC"
	}
	if q.Prefix != "" {
		where += ` AND starts_with(name, ` + a.add(q.Prefix) + `)`
	}
	order := `name` + dir
	if q.ByLastEventTime {
		order = `last_event` + dir + `, name` + dir
		if q.After != nil {
			where += ` AND (last_event, name) ` + cmp + ` (` + a.add(q.After.LastEventTimestamp) + `::bigint, ` + a.add(q.After.Name) + `::text COLLATE "C")`
		}
	} else if q.After != nil {
		where += ` AND name ` + cmp + ` ` + a.add(q.After.Name)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+streamColumns+` FROM log_streams WHERE `+where+` ORDER BY `+order+limitClause(&a, q.Limit), a...)
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

// PutMetricFilter implements logs.Store. The group's row lock serialises puts to one group, so
// that two replicas creating filters at once cannot both pass the per-group limit.
func (db *DB) PutMetricFilter(ctx context.Context, sc logs.Scope, f logs.MetricFilter, maxPerGroup int) error {
	dims := ""
	if len(f.Transformation.Dimensions) > 0 {
		b, err := json.Marshal(f.Transformation.Dimensions)
		if err != nil {
			return fmt.Errorf("encode dimensions: %w", err)
		}
		dims = string(b)
	}
	return db.withTx(ctx, func(tx pgx.Tx) error {
		gid, err := logGroupID(ctx, tx, sc, f.LogGroupName)
		if err != nil {
			return err
		}
		if ok, err := lockGroup(ctx, tx, gid); err != nil {
			return err
		} else if !ok {
			return logs.ErrLogGroupNotFound
		}
		var exists, count int64
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name = $1) FROM log_metric_filters WHERE group_id = $2`,
			f.FilterName, gid).Scan(&count, &exists); err != nil {
			return fmt.Errorf("count metric filters: %w", err)
		}
		if exists == 0 && count >= int64(maxPerGroup) {
			return logs.ErrMetricFilterLimit
		}
		var old *logs.MetricFilter
		if exists != 0 {
			rows, err := tx.Query(ctx, `SELECT `+filterColumns+` FROM log_metric_filters f JOIN log_groups g ON g.id = f.group_id
				WHERE f.group_id = $1 AND f.name = $2`, gid, f.FilterName)
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
		if _, err := tx.Exec(ctx, `INSERT INTO log_metric_filters
			(group_id, name, pattern, creation_time, metric_name, metric_namespace, metric_value, default_value, unit, dimensions,
			disabled_time, disabled_reason, live_since, paused_from, paused_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, '', $11, $12, $13)
			ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern, creation_time = excluded.creation_time,
			metric_name = excluded.metric_name, metric_namespace = excluded.metric_namespace, metric_value = excluded.metric_value,
			default_value = excluded.default_value, unit = excluded.unit, dimensions = excluded.dimensions,
			disabled_time = 0, disabled_reason = '', live_since = excluded.live_since, paused_from = excluded.paused_from,
			paused_until = excluded.paused_until`,
			gid, f.FilterName, f.FilterPattern, f.CreationTime, t.MetricName, t.MetricNamespace, t.MetricValue,
			t.DefaultValue, t.Unit, dims, f.LiveSince, f.PausedFrom, f.PausedUntil); err != nil {
			return fmt.Errorf("put metric filter: %w", err)
		}
		return nil
	})
}

// DeleteMetricFilter implements logs.Store.
func (db *DB) DeleteMetricFilter(ctx context.Context, sc logs.Scope, group, name string) error {
	gid, err := logGroupID(ctx, db.pool, sc, group)
	if err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM log_metric_filters WHERE group_id = $1 AND name = $2`, gid, name)
	if err != nil {
		return fmt.Errorf("delete metric filter: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return logs.ErrMetricFilterNotFound
	}
	return nil
}

// DisableMetricFilter implements logs.Store. Only FilterStateDisabled is stored (an invalid
// filter's state is computed from its pattern), so any other state is an error.
func (db *DB) DisableMetricFilter(ctx context.Context, sc logs.Scope, group, name string, creationTime int64, st logs.FilterStatus) error {
	if st.State != logs.FilterStateDisabled || st.Time == 0 {
		return fmt.Errorf("disable metric filter: cannot store state %q at time %d", st.State, st.Time)
	}
	gid, err := logGroupID(ctx, db.pool, sc, group)
	if errors.Is(err, logs.ErrLogGroupNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `UPDATE log_metric_filters SET disabled_time = $1, disabled_reason = $2
		WHERE group_id = $3 AND name = $4 AND creation_time = $5`, st.Time, st.Reason, gid, name, creationTime); err != nil {
		return fmt.Errorf("disable metric filter: %w", err)
	}
	return nil
}

// ListMetricFilters implements logs.Store.
func (db *DB) ListMetricFilters(ctx context.Context, sc logs.Scope, q logs.FilterQuery) ([]logs.MetricFilter, error) {
	var a args
	where := `g.account_id = ` + a.add(sc.AccountID) + ` AND g.region = ` + a.add(sc.Region)
	if q.LogGroupName != "" {
		where += ` AND g.name = ` + a.add(q.LogGroupName)
	}
	if q.FilterNamePrefix != "" {
		where += ` AND starts_with(f.name, ` + a.add(q.FilterNamePrefix) + `)`
	}
	if q.MetricName != "" {
		where += ` AND f.metric_name = ` + a.add(q.MetricName) + ` AND f.metric_namespace = ` + a.add(q.MetricNamespace)
	}
	if q.AfterGroup != "" || q.AfterName != "" {
		where += ` AND (g.name, f.name) > (` + a.add(q.AfterGroup) + `::text COLLATE "C", ` + a.add(q.AfterName) + `::text COLLATE "C")`
	}
	rows, err := db.pool.Query(ctx, `SELECT `+filterColumns+`
		FROM log_metric_filters f JOIN log_groups g ON g.id = f.group_id
		WHERE `+where+` ORDER BY g.name, f.name`+limitClause(&a, q.Limit), a...)
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
func scanFilters(rows pgx.Rows) ([]logs.MetricFilter, error) {
	defer rows.Close()
	var out []logs.MetricFilter
	for rows.Next() {
		var (
			f              logs.MetricFilter
			def            *float64
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
		t.DefaultValue = def
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

// inList renders ids as placeholders of a, for "IN (...)".
func inList(a *args, ids []int64) string {
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = a.add(id)
	}
	return strings.Join(ph, ",")
}
