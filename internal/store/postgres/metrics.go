package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/store/metricrow"
)

var _ metrics.Store = (*DB)(nil)

// AddSamples stores samples in one transaction.
func (db *DB) AddSamples(ctx context.Context, samples []metrics.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	return db.withTx(ctx, func(tx pgx.Tx) error {
		return insertSamplesTx(ctx, tx, samples)
	})
}

// seriesBatch is the in-memory pre-aggregation of one metric's samples within a batch.
type seriesBatch struct {
	account, region, namespace, name, dims string
	lastTS                                 int64
	minutes                                map[minuteKey]*metrics.Aggregate
	order                                  []minuteKey
	firstMinute                            int64
}

type minuteKey struct {
	minute int64
	unit   string
}

// insertSamplesTx adds samples inside tx, the caller's transaction; the log store's appends
// (logs_blocks.go) call it so that events and the datapoints their metric filters produced commit
// together, as sqlite's insertSamplesTx does. The batch is aggregated in memory per (metric, minute,
// unit); then, metric by metric in the order of their identity, it upserts the metric's series row,
// which locks it until the transaction ends, reads the stored minutes the batch touches, merges and
// writes them back. The lock is what makes the read-merge-write safe when replicas add to one
// metric at once, and the fixed order keeps two such transactions from deadlocking.
func insertSamplesTx(ctx context.Context, tx pgx.Tx, samples []metrics.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	batches := map[string]*seriesBatch{}
	var keyBuf []byte
	for i := range samples {
		s := &samples[i]
		keyBuf = appendSeriesKey(keyBuf[:0], s)
		b := batches[string(keyBuf)] // no allocation for the lookup
		if b == nil {
			dims, err := metricrow.EncodeDimensions(s.Dimensions)
			if err != nil {
				return err
			}
			b = &seriesBatch{account: s.AccountID, region: s.Region, namespace: s.Namespace, name: s.MetricName,
				dims: dims, lastTS: math.MinInt64, minutes: map[minuteKey]*metrics.Aggregate{}}
			batches[string(keyBuf)] = b
		}
		b.lastTS = max(b.lastTS, s.Timestamp.UnixMilli())
		mk := minuteKey{minute: s.Timestamp.Unix() - mod(s.Timestamp.Unix(), 60), unit: metrics.NormalizeUnit(s.Unit)}
		agg := b.minutes[mk]
		if agg == nil {
			agg = &metrics.Aggregate{Time: time.Unix(mk.minute, 0).UTC(), Unit: mk.unit}
			b.minutes[mk] = agg
			if len(b.order) == 0 || mk.minute < b.firstMinute {
				b.firstMinute = mk.minute
			}
			b.order = append(b.order, mk)
		}
		agg.AddSample(s)
	}
	keys := make([]string, 0, len(batches))
	for k, b := range batches {
		if hasContent(b) { // only ignored (non-finite) samples: do not create or refresh the metric
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys) // the lock order
	// One round trip for the upserts (pipelined, run in order, so the locks are taken in order),
	// one for the stored minutes, one for the writes.
	var upserts pgx.Batch
	for _, k := range keys {
		b := batches[k]
		firstHour := b.firstMinute - mod(b.firstMinute, 3600)
		upserts.Queue(`INSERT INTO metric_series
			(account_id, region, namespace, metric_name, dimensions, last_ts, rolled_5m, rolled_1h) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (account_id, region, namespace, metric_name, dimensions)
			DO UPDATE SET last_ts = GREATEST(metric_series.last_ts, excluded.last_ts),
				rolled_5m = LEAST(metric_series.rolled_5m, excluded.rolled_5m),
				rolled_1h = LEAST(metric_series.rolled_1h, excluded.rolled_1h)
			RETURNING id`, b.account, b.region, b.namespace, b.name, b.dims, b.lastTS, firstHour)
	}
	results := tx.SendBatch(ctx, &upserts)
	ids := make([]int64, len(keys))
	for i := range keys {
		if err := results.QueryRow().Scan(&ids[i]); err != nil {
			results.Close()
			return fmt.Errorf("upsert metric: %w", err)
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("upsert metric: %w", err)
	}
	stored, err := readMinutes(ctx, tx, ids, keys, batches)
	if err != nil {
		return err
	}
	var w minuteWriter
	for i, k := range keys {
		b := batches[k]
		for _, mk := range b.order {
			add := b.minutes[mk]
			if !add.HasData() && !add.HasDefault {
				continue
			}
			agg := add
			if prev, ok := stored[storedKey{ids[i], mk}]; ok {
				prev.Time, prev.Unit = add.Time, add.Unit
				prev.Merge(add)
				agg = &prev
			}
			w.add(ids[i], mk, agg)
		}
	}
	return w.flush(ctx, tx)
}

// appendSeriesKey appends the batch key of s's scope and metric identity to buf: the dimensions in
// canonical order (name, then value), so that two orders of one dimension set make one key.
func appendSeriesKey(buf []byte, s *metrics.Sample) []byte {
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

// hasContent reports whether any of b's minutes holds a sample or a default.
func hasContent(b *seriesBatch) bool {
	for _, a := range b.minutes {
		if a.HasData() || a.HasDefault {
			return true
		}
	}
	return false
}

// storedKey is one stored metric-minute: the series id and the minute and unit.
type storedKey struct {
	id int64
	mk minuteKey
}

// readMinutes returns the stored aggregates of the minutes the batches touch, in one query for the
// exact (series, minute) pairs, whether a batch's minutes are consecutive (a live CloudTrail batch)
// or scattered over days (a backfill).
func readMinutes(ctx context.Context, tx pgx.Tx, ids []int64, keys []string, batches map[string]*seriesBatch) (map[storedKey]metrics.Aggregate, error) {
	var sids, mins []int64
	for i, k := range keys {
		seen := map[int64]bool{}
		for _, mk := range batches[k].order {
			if !seen[mk.minute] {
				seen[mk.minute] = true
				sids, mins = append(sids, ids[i]), append(mins, mk.minute)
			}
		}
	}
	rows, err := tx.Query(ctx, `SELECT m.series_id, m.minute, m.unit, m.sample_count, m.sum, m.minimum, m.maximum, m.dist, m.inexact, m.default_value
		FROM unnest($1::bigint[], $2::bigint[]) AS want(series_id, minute)
		JOIN metric_minutes m ON m.series_id = want.series_id AND m.minute = want.minute`, sids, mins)
	if err != nil {
		return nil, fmt.Errorf("read metric minutes: %w", err)
	}
	defer rows.Close()
	out := map[storedKey]metrics.Aggregate{}
	for rows.Next() {
		var k storedKey
		a, err := scanMinuteRow(rows, &k.id, &k.mk.minute, &k.mk.unit)
		if err != nil {
			return nil, fmt.Errorf("read metric minutes: %w", err)
		}
		out[k] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read metric minutes: %w", err)
	}
	return out, nil
}

// minuteWriter collects merged metric-minutes and writes them with one statement (unnest of one
// array per column), updating rows in place.
type minuteWriter struct {
	ids, minutes  []int64
	units         []string
	counts, sums  []float64
	mins, maxs    []float64
	dists         [][]byte
	inexact       []bool
	defaultValues []*float64
}

func (w *minuteWriter) add(id int64, mk minuteKey, agg *metrics.Aggregate) {
	var def *float64
	if agg.HasDefault {
		v := agg.DefaultValue
		def = &v
	}
	w.ids, w.minutes, w.units = append(w.ids, id), append(w.minutes, mk.minute), append(w.units, mk.unit)
	w.counts, w.sums = append(w.counts, agg.SampleCount), append(w.sums, agg.Sum)
	w.mins, w.maxs = append(w.mins, agg.Minimum), append(w.maxs, agg.Maximum)
	w.dists, w.inexact = append(w.dists, metricrow.EncodeDist(agg)), append(w.inexact, agg.Inexact)
	w.defaultValues = append(w.defaultValues, def)
}

func (w *minuteWriter) flush(ctx context.Context, tx pgx.Tx) error {
	if len(w.ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO metric_minutes (series_id, minute, unit, sample_count, sum, minimum, maximum, dist, inexact, default_value)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::bytea[], $9::bool[], $10::float8[])
		ON CONFLICT (series_id, minute, unit) DO UPDATE SET sample_count = excluded.sample_count, sum = excluded.sum,
		minimum = excluded.minimum, maximum = excluded.maximum, dist = excluded.dist, inexact = excluded.inexact,
		default_value = excluded.default_value`,
		w.ids, w.minutes, w.units, w.counts, w.sums, w.mins, w.maxs, w.dists, w.inexact, w.defaultValues); err != nil {
		return fmt.Errorf("write metric minutes: %w", err)
	}
	*w = minuteWriter{}
	return nil
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
	rows, err := db.pool.Query(ctx, `SELECT id, namespace, metric_name, dimensions FROM metric_series
		WHERE account_id = $1 AND region = $2 AND id > $3 AND last_ts >= $4
		  AND ($5 = '' OR namespace = $5) AND ($6 = '' OR metric_name = $6)
		ORDER BY id`,
		scope.AccountID, scope.Region, after, activeSince(q.ActiveSince), q.Namespace, q.MetricName)
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

// QueryAggregates implements metrics.Store.
func (db *DB) QueryAggregates(ctx context.Context, scope metrics.Scope, m metrics.Metric, start, end time.Time) ([]metrics.Aggregate, error) {
	dims, err := metricrow.EncodeDimensions(m.Dimensions)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT mm.minute, mm.unit, mm.sample_count, mm.sum, mm.minimum,
		mm.maximum, mm.dist, mm.inexact, mm.default_value
		FROM metric_series s JOIN metric_minutes mm ON mm.series_id = s.id
		WHERE s.account_id = $1 AND s.region = $2 AND s.namespace = $3 AND s.metric_name = $4 AND s.dimensions = $5
		  AND mm.minute >= $6 AND mm.minute < $7
		ORDER BY mm.minute, mm.unit`,
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

// scanAggregates reads and closes rows of (minute, unit, the stored statistics).
func scanAggregates(rows pgx.Rows) ([]metrics.Aggregate, error) {
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

// ceilSeconds is the smallest whole unix second not before t.
func ceilSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func scanMinuteRow(row pgx.Row, prefix ...any) (metrics.Aggregate, error) {
	var a metrics.Aggregate
	var dist []byte
	var def *float64
	dest := append(prefix, &a.SampleCount, &a.Sum, &a.Minimum, &a.Maximum, &dist, &a.Inexact, &def)
	if err := row.Scan(dest...); err != nil {
		return a, err
	}
	if def != nil {
		a.HasDefault, a.DefaultValue = true, *def
	}
	d, err := metricrow.DecodeDist(dist)
	if err != nil {
		return a, err
	}
	a.Dist = d
	return a, nil
}

// mod is the non-negative remainder, so that times before 1970 still truncate downwards.
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// compactSpan bounds the minutes one compaction transaction reads and rewrites for one metric.
const compactSpan = 7 * 24 * 60 * 60

// Compact implements metrics.Store as the SQLite store does: per metric, per stage of r.Stages(),
// from the metric's watermark to the stage's cutoff, compactSpan per transaction. Each step locks
// the series row first (as writers do), so a compaction and an ingest of the same metric never
// interleave their read-modify-writes.
func (db *DB) Compact(ctx context.Context, r metrics.Rollup) (int64, error) {
	expire := r.DeleteBefore.Unix()
	type series struct{ id, rolled5m, rolled1h int64 }
	rows, err := db.pool.Query(ctx, `SELECT id, rolled_5m, rolled_1h FROM metric_series ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("list metrics to compact: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (series, error) {
		var s series
		err := row.Scan(&s.id, &s.rolled5m, &s.rolled1h)
		return s, err
	})
	if err != nil {
		return 0, fmt.Errorf("list metrics to compact: %w", err)
	}
	var removed int64
	for _, s := range list {
		err := db.withTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM metric_minutes WHERE series_id = $1 AND minute < $2`, s.id, expire)
			if err != nil {
				return fmt.Errorf("expire metric minutes: %w", err)
			}
			removed += tag.RowsAffected()
			return nil
		})
		if err != nil {
			return removed, err
		}
		for _, st := range r.Stages() {
			column, from := "rolled_5m", s.rolled5m
			if st.Slot == time.Hour {
				column, from = "rolled_1h", s.rolled1h
			}
			for until := st.Before.Unix(); from < until; {
				var n int64
				err := db.withTx(ctx, func(tx pgx.Tx) error {
					var err error
					n, from, err = compactStep(ctx, tx, s.id, column, from, until, st.Slot)
					return err
				})
				if err != nil {
					return removed, err
				}
				removed += n
			}
		}
	}
	return removed, nil
}

// compactStep is sqlite's compactStep: it rolls up one span of metric id's minutes and records the
// new watermark in column, after locking the series row.
func compactStep(ctx context.Context, tx pgx.Tx, id int64, column string, from, until int64, slot time.Duration) (int64, int64, error) {
	var current int64
	if err := tx.QueryRow(ctx, `SELECT `+column+` FROM metric_series WHERE id = $1 FOR UPDATE`, id).Scan(&current); err != nil {
		return 0, 0, fmt.Errorf("lock metric: %w", err)
	}
	// A backfill since the list was read may have lowered the watermark: start there.
	from = min(from, current)
	watermark := from
	var first int64
	err := tx.QueryRow(ctx, `SELECT minute FROM metric_minutes WHERE series_id = $1 AND minute >= $2 AND minute < $3
		ORDER BY minute LIMIT 1`, id, from, until).Scan(&first)
	to := until
	switch {
	case errNoRows(err):
	case err != nil:
		return 0, 0, fmt.Errorf("read metric minutes: %w", err)
	default:
		from = first - mod(first, int64(slot/time.Second))
		to = min(until, from+compactSpan)
	}
	var n int64
	if err == nil {
		if n, err = rollUpRange(ctx, tx, id, from, to, slot); err != nil {
			return 0, 0, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE metric_series SET `+column+` = $1 WHERE id = $2 AND `+column+` >= $3`, to, id, watermark); err != nil {
		return 0, 0, fmt.Errorf("record metric rollup: %w", err)
	}
	return n, to, nil
}

// rollUpRange replaces the minutes of metric id in [from, to) with metrics.RollUp's slots, when that
// changes anything, and returns how many aggregates are gone.
func rollUpRange(ctx context.Context, tx pgx.Tx, id, from, to int64, slot time.Duration) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT minute, unit, sample_count, sum, minimum, maximum, dist, inexact, default_value
		FROM metric_minutes WHERE series_id = $1 AND minute >= $2 AND minute < $3 ORDER BY minute, unit`, id, from, to)
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
	if _, err := tx.Exec(ctx, `DELETE FROM metric_minutes WHERE series_id = $1 AND minute >= $2 AND minute < $3`, id, from, to); err != nil {
		return 0, fmt.Errorf("roll up metric minutes: %w", err)
	}
	var w minuteWriter
	for i := range rolled {
		a := &rolled[i]
		w.add(id, minuteKey{minute: a.Time.Unix(), unit: a.Unit}, a)
	}
	if err := w.flush(ctx, tx); err != nil {
		return 0, err
	}
	return int64(len(aggs) - len(rolled)), nil
}
