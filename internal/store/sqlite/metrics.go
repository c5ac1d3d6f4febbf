package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/metricrow"
)

var _ metrics.Store = (*DB)(nil)

// AddSamples stores samples in one transaction.
func (db *DB) AddSamples(ctx context.Context, samples []metrics.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	return db.withTx(ctx, func(tx *sql.Tx) error {
		return db.insertSamplesTx(ctx, tx, samples)
	})
}

// seriesBatch is the in-memory pre-aggregation of one metric's samples within a batch.
type seriesBatch struct {
	account, region, namespace, name, dims string
	lastTS                                 int64
	minutes                                map[minuteKey]*metrics.Aggregate
	order                                  []minuteKey
	firstMinute, lastMinute                int64 // the span of order's minutes
	// last is the aggregate the previous sample of this metric went to: consecutive samples
	// usually share a minute and a unit, which spares the map lookup.
	lastKey minuteKey
	last    *metrics.Aggregate
}

// hasContent reports whether any of b's minutes holds a sample or a default.
func (b *seriesBatch) hasContent() bool {
	for _, a := range b.minutes {
		if a.HasData() || a.HasDefault {
			return true
		}
	}
	return false
}

type minuteKey struct {
	minute int64
	unit   string
}

// insertSamplesTx adds samples inside tx, the caller's transaction: the logs store calls it from
// its PutLogEvents append so events and datapoints commit together. The batch is first aggregated in
// memory per (metric, minute, unit) with metrics.Aggregate, then each distinct metric costs one
// upsert and each distinct metric-minute one read and one write, whatever the number of samples.
func (db *DB) insertSamplesTx(ctx context.Context, tx *sql.Tx, samples []metrics.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	batches := map[string]*seriesBatch{}
	var order []*seriesBatch
	var b *seriesBatch
	var prev *metrics.Sample
	var keyBuf []byte
	for i := range samples {
		s := &samples[i]
		// Consecutive samples of one metric (the usual metric-filter batch) skip the map lookup.
		if prev == nil || !sameSeries(prev, s) {
			keyBuf = appendSeriesKey(keyBuf[:0], s)
			b = batches[string(keyBuf)] // no allocation for the lookup
		}
		prev = s
		if b == nil {
			dims, err := metricrow.EncodeDimensions(s.Dimensions)
			if err != nil {
				return err
			}
			b = &seriesBatch{account: s.AccountID, region: s.Region, namespace: s.Namespace, name: s.MetricName,
				dims: dims, lastTS: math.MinInt64, minutes: map[minuteKey]*metrics.Aggregate{}}
			batches[string(keyBuf)] = b
			order = append(order, b)
		}
		ts := s.Timestamp.UnixMilli()
		b.lastTS = max(b.lastTS, ts)
		mk := minuteKey{minute: s.Timestamp.Unix() - mod(s.Timestamp.Unix(), 60), unit: metrics.NormalizeUnit(s.Unit)}
		agg := b.last
		if agg == nil || mk != b.lastKey {
			agg = b.minutes[mk]
			if agg == nil {
				agg = &metrics.Aggregate{Time: time.Unix(mk.minute, 0).UTC(), Unit: mk.unit}
				b.minutes[mk] = agg
				if len(b.order) == 0 {
					b.firstMinute, b.lastMinute = mk.minute, mk.minute
				}
				b.firstMinute, b.lastMinute = min(b.firstMinute, mk.minute), max(b.lastMinute, mk.minute)
				b.order = append(b.order, mk)
			}
			b.lastKey, b.last = mk, agg
		}
		agg.AddSample(s)
	}

	upsertSeries, err := db.txStmt(ctx, tx, upsertSeriesKey, nil)
	if err != nil {
		return err
	}
	w := minuteWriter{db: db}
	for _, b := range order {
		if !b.hasContent() {
			continue // only ignored (non-finite) samples: do not create or refresh the metric
		}
		// The batch's first hour is where a new metric's rollup starts, and where an older one's
		// restarts if the batch reaches back before its watermarks.
		firstHour := b.firstMinute - mod(b.firstMinute, 3600)
		var id int64
		if err := upsertSeries.QueryRowContext(ctx, b.account, b.region, b.namespace, b.name, b.dims, b.lastTS, firstHour).Scan(&id); err != nil {
			return fmt.Errorf("upsert metric: %w", err)
		}
		stored, err := db.readMinutes(ctx, tx, id, b)
		if err != nil {
			return err
		}
		for _, mk := range b.order {
			add := b.minutes[mk]
			if !add.HasData() && !add.HasDefault {
				continue
			}
			agg := add
			if prev, ok := stored[mk]; ok {
				prev.Time, prev.Unit = add.Time, add.Unit
				prev.Merge(add)
				agg = &prev
			}
			if err := w.add(ctx, tx, id, mk, agg); err != nil {
				return err
			}
		}
	}
	return w.flush(ctx, tx)
}

// readMinutes returns the stored aggregates of the minutes b touches, keyed like b.minutes. It reads
// the series' rows between b's first and last minute in one query (a CloudTrail batch covers a few
// dozen consecutive minutes, which one read per minute made cost more than the events' own insert),
// unless the minutes are scattered over a span much wider than their number (a backfill batch
// reaching days back), where it reads them one at a time.
func (db *DB) readMinutes(ctx context.Context, tx *sql.Tx, id int64, b *seriesBatch) (map[minuteKey]metrics.Aggregate, error) {
	first, last := b.firstMinute, b.lastMinute
	out := make(map[minuteKey]metrics.Aggregate, len(b.order))
	if (last-first)/60 > int64(4*len(b.order)+60) {
		one, err := db.txStmt(ctx, tx, readMinuteKey, nil)
		if err != nil {
			return nil, err
		}
		for _, mk := range b.order {
			a, found, err := scanMinute(one.QueryRowContext(ctx, id, mk.minute, mk.unit))
			if err != nil {
				return nil, fmt.Errorf("read metric minute: %w", err)
			}
			if found {
				out[mk] = a
			}
		}
		return out, nil
	}
	span, err := db.txStmt(ctx, tx, readMinutesKey, nil)
	if err != nil {
		return nil, err
	}
	rows, err := span.QueryContext(ctx, id, first, last)
	if err != nil {
		return nil, fmt.Errorf("read metric minutes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mk minuteKey
		a, err := scanMinuteRow(rows, &mk.minute, &mk.unit)
		if err != nil {
			return nil, fmt.Errorf("read metric minutes: %w", err)
		}
		if _, ok := b.minutes[mk]; ok {
			out[mk] = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read metric minutes: %w", err)
	}
	return out, nil
}

// The single statements of insertSamplesTx, prepared once on the write connection (prepareWrites).
var (
	upsertSeriesKey = stmtKey{name: `INSERT INTO metric_series
		(account_id, region, namespace, metric_name, dimensions, last_ts, rolled_5m, rolled_1h) VALUES (?, ?, ?, ?, ?, ?, ?7, ?7)
		ON CONFLICT (account_id, region, namespace, metric_name, dimensions)
		DO UPDATE SET last_ts = max(last_ts, excluded.last_ts), rolled_5m = min(rolled_5m, excluded.rolled_5m),
		rolled_1h = min(rolled_1h, excluded.rolled_1h) RETURNING id`}
	readMinutesKey = stmtKey{name: `SELECT minute, unit, sample_count, sum, minimum, maximum, dist, inexact, default_value
		FROM metric_minutes WHERE series_id = ? AND minute BETWEEN ? AND ?`}
	readMinuteKey = stmtKey{name: `SELECT sample_count, sum, minimum, maximum, dist, inexact, default_value
		FROM metric_minutes WHERE series_id = ? AND minute = ? AND unit = ?`}
)

// writeMinutes writes merged metric-minutes, up to 100 (10 parameters each) per statement.
var writeMinutes = multiRow{name: "write metric minutes", max: 100, sql: func(n int) string {
	return `INSERT INTO metric_minutes (series_id, minute, unit, sample_count, sum, minimum, maximum, dist, inexact, default_value) VALUES ` +
		strings.Repeat("(?,?,?,?,?,?,?,?,?,?),", n-1) + `(?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (series_id, minute, unit) DO UPDATE SET sample_count = excluded.sample_count, sum = excluded.sum,
		minimum = excluded.minimum, maximum = excluded.maximum, dist = excluded.dist, inexact = excluded.inexact,
		default_value = excluded.default_value`
}}

// minuteWriter writes merged metric-minutes with writeMinutes: a row is updated in place, where
// INSERT OR REPLACE deleted and reinserted it, and a batch's minutes take a few statements instead
// of one each.
type minuteWriter struct {
	db   *DB
	args []any
}

func (w *minuteWriter) add(ctx context.Context, tx *sql.Tx, id int64, mk minuteKey, agg *metrics.Aggregate) error {
	var def any
	if agg.HasDefault {
		def = agg.DefaultValue
	}
	w.args = append(w.args, id, mk.minute, mk.unit, agg.SampleCount, agg.Sum, agg.Minimum, agg.Maximum,
		metricrow.EncodeDist(agg), boolInt(agg.Inexact), def)
	if len(w.args) == 10*writeMinutes.max {
		return w.flush(ctx, tx)
	}
	return nil
}

// flush writes the minutes added since the last flush.
func (w *minuteWriter) flush(ctx context.Context, tx *sql.Tx) error {
	for start, size := 0, 0; start < len(w.args)/10; start += size {
		size = writeMinutes.chunk(len(w.args)/10 - start)
		stmt, err := writeMinutes.stmt(ctx, w.db, tx, size)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, w.args[10*start:10*(start+size)]...); err != nil {
			return fmt.Errorf("write metric minutes: %w", err)
		}
	}
	w.args = w.args[:0]
	return nil
}

// appendSeriesKey appends the batch key of s's scope and metric identity (dimensions in canonical
// order) to buf.
func appendSeriesKey(buf []byte, s *metrics.Sample) []byte {
	// The order is SortedDimensions' (name, then value), the stored identity's: two orders of
	// the same dimensions (repeated names included) must make one key, or one metric would get two
	// batches, and the second's write of a minute would replace the first's.
	dims := s.Dimensions
	if !slices.IsSortedFunc(dims, func(a, b metrics.Dimension) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	}) {
		dims = metrics.SortedDimensions(dims)
	}
	for _, part := range []string{s.AccountID, s.Region, s.Namespace, s.MetricName} {
		buf = append(buf, part...)
		buf = append(buf, 0)
	}
	for _, d := range dims {
		buf = append(buf, d.Name...)
		buf = append(buf, 0)
		buf = append(buf, d.Value...)
		buf = append(buf, 0)
	}
	return buf
}

// sameSeries reports whether two samples are published to the same metric with the dimensions in
// the same order (a cheap, conservative test: reordered dimensions simply take the map path).
func sameSeries(a, b *metrics.Sample) bool {
	if a.AccountID != b.AccountID || a.Region != b.Region || a.Namespace != b.Namespace ||
		a.MetricName != b.MetricName || len(a.Dimensions) != len(b.Dimensions) {
		return false
	}
	for i := range a.Dimensions {
		if a.Dimensions[i] != b.Dimensions[i] {
			return false
		}
	}
	return true
}

// ListMetrics implements metrics.Store. Metrics come in creation order; the cursor is the id of the
// last metric of the previous page.
func (db *DB) ListMetrics(ctx context.Context, scope metrics.Scope, q metrics.ListQuery) ([]metrics.Metric, string, error) {
	var after int64
	if q.After != "" {
		n, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("list metrics: %w", metrics.ErrInvalidCursor)
		}
		after = n
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, namespace, metric_name, dimensions FROM metric_series
		WHERE account_id = ? AND region = ? AND id > ? AND last_ts >= ?
		  AND (? = '' OR namespace = ?) AND (? = '' OR metric_name = ?)
		ORDER BY id`,
		scope.AccountID, scope.Region, after, activeSince(q.ActiveSince),
		q.Namespace, q.Namespace, q.MetricName, q.MetricName)
	if err != nil {
		return nil, "", fmt.Errorf("list metrics: %w", err)
	}
	defer rows.Close()
	var out []metrics.Metric
	var lastID int64
	next := ""
	for rows.Next() {
		var id int64
		var m metrics.Metric
		var dims string
		if err := rows.Scan(&id, &m.Namespace, &m.MetricName, &dims); err != nil {
			return nil, "", fmt.Errorf("list metrics: %w", err)
		}
		if m.Dimensions, err = metricrow.DecodeDimensions(dims); err != nil {
			return nil, "", err
		}
		if !m.MatchesFilters(q.Dimensions) {
			continue
		}
		if len(out) == limit {
			next = strconv.FormatInt(lastID, 10)
			break
		}
		out = append(out, m)
		lastID = id
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list metrics: %w", err)
	}
	return out, next, nil
}

func activeSince(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixMilli()
}

// queryAggregatesSQL selects one metric's minutes in [start, end); prepared once (readStmt) because the
// alarm scheduler runs it for every active alarm every minute.
const queryAggregatesSQL = `SELECT mm.minute, mm.unit, mm.sample_count, mm.sum, mm.minimum,
	mm.maximum, mm.dist, mm.inexact, mm.default_value
	FROM metric_series s JOIN metric_minutes mm ON mm.series_id = s.id
	WHERE s.account_id = ? AND s.region = ? AND s.namespace = ? AND s.metric_name = ? AND s.dimensions = ?
	  AND mm.minute >= ? AND mm.minute < ?
	ORDER BY mm.minute, mm.unit`

// QueryAggregates implements metrics.Store.
func (db *DB) QueryAggregates(ctx context.Context, scope metrics.Scope, m metrics.Metric, start, end time.Time) ([]metrics.Aggregate, error) {
	dims, err := metricrow.EncodeDimensions(m.Dimensions)
	if err != nil {
		return nil, err
	}
	st, err := db.readStmt(ctx, queryAggregatesSQL)
	if err != nil {
		return nil, fmt.Errorf("query metric aggregates: %w", err)
	}
	rows, err := st.QueryContext(ctx,
		scope.AccountID, scope.Region, m.Namespace, m.MetricName, dims, ceilSeconds(start), ceilSeconds(end))
	if err != nil {
		return nil, fmt.Errorf("query metric aggregates: %w", err)
	}
	out, err := scanAggregates(rows)
	if err != nil {
		return nil, fmt.Errorf("query metric aggregates: %w", err)
	}
	return out, nil
}

// scanAggregates reads and closes rows of (minute, unit, the stored statistics), as aggregates timed
// at their minute.
func scanAggregates(rows *sql.Rows) ([]metrics.Aggregate, error) {
	defer rows.Close()
	var out []metrics.Aggregate
	for rows.Next() {
		var minute int64
		var unit string
		a, err := scanMinuteRow(rows, &minute, &unit)
		if err != nil {
			return nil, err
		}
		a.Time, a.Unit = time.Unix(minute, 0).UTC(), unit
		out = append(out, a)
	}
	return out, rows.Err()
}

// ceilSeconds is the smallest whole unix second not before t, so that "minute >= ceil(t)" means
// "minute start >= t" and "minute < ceil(t)" means "minute start < t".
func ceilSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

type scanner interface{ Scan(dest ...any) error }

func scanMinute(row *sql.Row) (metrics.Aggregate, bool, error) {
	a, err := scanMinuteRow(row)
	if errors.Is(err, sql.ErrNoRows) {
		return metrics.Aggregate{}, false, nil
	}
	if err != nil {
		return metrics.Aggregate{}, false, err
	}
	return a, true, nil
}

func scanMinuteRow(row scanner, prefix ...any) (metrics.Aggregate, error) {
	var a metrics.Aggregate
	var dist []byte
	var inexact int64
	var def sql.NullFloat64
	dest := append(prefix, &a.SampleCount, &a.Sum, &a.Minimum, &a.Maximum, &dist, &inexact, &def)
	if err := row.Scan(dest...); err != nil {
		return a, err
	}
	a.Inexact = inexact != 0
	if def.Valid {
		a.HasDefault, a.DefaultValue = true, def.Float64
	}
	d, err := metricrow.DecodeDist(dist)
	if err != nil {
		return a, err
	}
	a.Dist = d
	return a, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mod is the non-negative remainder, so that times before 1970 still truncate downwards.
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// compactSpan bounds the minutes one compaction transaction reads and rewrites for one metric (at most
// 10,080 minutes per unit), so that a first compaction of a long history never holds up ingestion.
const compactSpan = 7 * 24 * 60 * 60

// Compact implements metrics.Store. For each metric, each stage of r.Stages() works from
// the metric's watermark up to the stage's cutoff, compactSpan at a time, each step one transaction:
// read the minutes of the step, RollUp, replace them if anything changed, advance the watermark.
func (db *DB) Compact(ctx context.Context, r metrics.Rollup) (int64, error) {
	expire := r.DeleteBefore.Unix()
	type series struct{ id, rolled5m, rolled1h int64 }
	var list []series
	rows, err := db.read.QueryContext(ctx, `SELECT id, rolled_5m, rolled_1h FROM metric_series`)
	if err != nil {
		return 0, fmt.Errorf("list metrics to compact: %w", err)
	}
	for rows.Next() {
		var s series
		if err := rows.Scan(&s.id, &s.rolled5m, &s.rolled1h); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list metrics to compact: %w", err)
		}
		list = append(list, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list metrics to compact: %w", err)
	}
	var removed int64
	for _, s := range list {
		err := db.withTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM metric_minutes WHERE series_id = ? AND minute < ?`, s.id, expire)
			if err != nil {
				return fmt.Errorf("expire metric minutes: %w", err)
			}
			n, err := res.RowsAffected()
			removed += n
			return err
		})
		if err != nil {
			return removed, err
		}
		for _, st := range r.Stages() {
			column, from := "rolled_5m", s.rolled5m // each stage's watermark
			if st.Slot == time.Hour {
				column, from = "rolled_1h", s.rolled1h
			}
			for until := st.Before.Unix(); from < until; {
				var n int64
				err := db.withTx(ctx, func(tx *sql.Tx) error {
					var err error
					n, from, err = db.compactStep(ctx, tx, s.id, column, from, until, st.Slot)
					return err
				})
				if err != nil {
					return removed, err
				}
				removed += n // counted once committed
			}
		}
	}
	return removed, nil
}

// compactStep rolls up, into slot-long aggregates, the minutes of metric id from the first stored at or
// after from, for compactSpan at most and never reaching until, records the new watermark in column,
// and returns how many aggregates are gone and the watermark.
func (db *DB) compactStep(ctx context.Context, tx *sql.Tx, id int64, column string, from, until int64, slot time.Duration) (int64, int64, error) {
	watermark := from
	var first int64
	err := tx.QueryRowContext(ctx, `SELECT minute FROM metric_minutes WHERE series_id = ? AND minute >= ? AND minute < ?
		ORDER BY minute LIMIT 1`, id, from, until).Scan(&first)
	to := until
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, 0, fmt.Errorf("read metric minutes: %w", err)
	default:
		from = first - mod(first, int64(slot/time.Second))
		to = min(until, from+compactSpan)
	}
	var n int64
	if err == nil {
		if n, err = db.rollUpRange(ctx, tx, id, from, to, slot); err != nil {
			return 0, 0, err
		}
	}
	// A sample stored since this compaction read the watermark may have lowered it (a backfill): then
	// it stays lowered, and the next compaction starts there.
	if _, err := tx.ExecContext(ctx, `UPDATE metric_series SET `+column+` = ? WHERE id = ? AND `+column+` >= ?`, to, id, watermark); err != nil {
		return 0, 0, fmt.Errorf("record metric rollup: %w", err)
	}
	return n, to, nil
}

// rollUpRange replaces the minutes of metric id in [from, to) with metrics.RollUp's slots, when that
// changes anything, and returns how many aggregates are gone.
func (db *DB) rollUpRange(ctx context.Context, tx *sql.Tx, id, from, to int64, slot time.Duration) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT minute, unit, sample_count, sum, minimum, maximum, dist, inexact, default_value
		FROM metric_minutes WHERE series_id = ? AND minute >= ? AND minute < ?`, id, from, to)
	if err != nil {
		return 0, fmt.Errorf("read metric minutes: %w", err)
	}
	aggs, err := scanAggregates(rows)
	if err != nil {
		return 0, fmt.Errorf("read metric minutes: %w", err)
	}
	rolled, changed := metrics.RollUp(aggs, slot)
	if !changed {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM metric_minutes WHERE series_id = ? AND minute >= ? AND minute < ?`, id, from, to); err != nil {
		return 0, fmt.Errorf("roll up metric minutes: %w", err)
	}
	w := minuteWriter{db: db}
	for i := range rolled {
		a := &rolled[i]
		if err := w.add(ctx, tx, id, minuteKey{minute: a.Time.Unix(), unit: a.Unit}, a); err != nil {
			return 0, err
		}
	}
	if err := w.flush(ctx, tx); err != nil {
		return 0, err
	}
	return int64(len(aggs) - len(rolled)), nil
}
