package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Log events live in compressed blocks (schema 160, package logblock). An append encodes its batch
// into one block per hour it touches, in the caller's goroutine, before it queues its transaction,
// so the single committer spends no time compressing; the block stores sequence numbers relative to
// the row's seq_base, which the transaction allocates, and stream 0 for the row's stream. A
// background compactor (compactLoop) later merges a group's small blocks of one hour, across
// streams, into blocks of logblock.TargetEvents events in time order, compressed with zstd.

const (
	insertBlockSQL = `INSERT INTO log_blocks (group_id, stream_id, bucket, min_ts, max_ts, min_seq, max_seq, count, raw_bytes, seq_base, streams, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	allocSeqSQL  = `UPDATE log_seq SET last = last + ? WHERE id = 1 RETURNING last`
	blockDataSQL = `SELECT data FROM log_blocks WHERE id = ?`
	// streamNameSQL looks up the name of a stream of a group.
	streamNameSQL = `SELECT name FROM log_streams WHERE id = ? AND group_id = ?`
)

// pendingBlock is an encoded block to store. An append's blocks are encoded before its
// transaction: their entries carry batch positions as sequence numbers, to which the transaction
// adds its seq_base, and stream 0, which stands for the row's stream.
type pendingBlock struct {
	entries []logblock.Entry
	data    []byte
	meta    logblock.Meta
}

// newBlock encodes entries (with their streams filled in) as a block of its own.
func (db *DB) newBlock(entries []logblock.Entry, level logblock.Level) pendingBlock {
	return pendingBlock{entries: entries, data: db.blocks.Encode(entries, level), meta: logblock.MetaOf(entries)}
}

// encodeBatch turns a chronological batch's kept events (keep nil: all) into blocks, one per hour
// bucket, with the events' batch positions as relative sequence numbers.
func (db *DB) encodeBatch(events []logs.InputLogEvent, ingestion int64, keep func(i int) bool) []pendingBlock {
	entries := make([]logblock.Entry, 0, len(events))
	for i, e := range events {
		if keep == nil || keep(i) {
			entries = append(entries, logblock.Entry{Timestamp: e.Timestamp, Seq: int64(i), IngestionTime: ingestion, Message: e.Message})
		}
	}
	var out []pendingBlock
	for _, run := range logblock.Split(entries) {
		out = append(out, db.newBlock(run, logblock.Fast))
	}
	return out
}

// insertBlocksTx stores encoded blocks with sequence numbers relative to base; entries of stream 0
// belong to stream sid (0: the blocks' entries all name their streams).
func (db *DB) insertBlocksTx(ctx context.Context, tx *sql.Tx, gid, sid, base int64, blocks []pendingBlock) error {
	stmt, err := db.txStmt(ctx, tx, stmtKey{insertBlockSQL, 0}, nil)
	if err != nil {
		return err
	}
	for _, b := range blocks {
		m := b.meta
		stream := m.StreamID
		if stream == 0 && sid != 0 {
			stream = sid // an append's block: every entry is the batch's stream
		}
		stats := logblock.EncodeStats(logblock.Stats(b.entries, sid))
		if _, err := stmt.ExecContext(ctx, gid, stream, m.Bucket, m.MinTS, m.MaxTS, base+m.MinSeq, base+m.MaxSeq, m.Count, m.RawBytes, base, stats, b.data); err != nil {
			return fmt.Errorf("insert log block: %w", err)
		}
	}
	return nil
}

// allocSeqTx hands out n sequence numbers and returns the base to add to positions 0..n-1.
func (db *DB) allocSeqTx(ctx context.Context, tx *sql.Tx, n int) (int64, error) {
	stmt, err := db.txStmt(ctx, tx, stmtKey{allocSeqSQL, 0}, nil)
	if err != nil {
		return 0, err
	}
	var last int64
	if err := stmt.QueryRowContext(ctx, n).Scan(&last); err != nil {
		return 0, fmt.Errorf("allocate event sequence: %w", err)
	}
	return last - int64(n) + 1, nil
}

// blockStats sums what the bookkeeping of streams and groups needs.
func blockStats(blocks []pendingBlock) (stored int, first, last, bytes int64) {
	for i, b := range blocks {
		if i == 0 || b.meta.MinTS < first {
			first = b.meta.MinTS
		}
		last = max(last, b.meta.MaxTS)
		stored += b.meta.Count
		bytes += b.meta.RawBytes
	}
	return stored, first, last, bytes
}

// AppendEvents implements logs.Store: the batch's blocks, the stream's bookkeeping and the metric
// samples commit in one transaction.
func (db *DB) AppendEvents(ctx context.Context, sc logs.Scope, b logs.AppendBatch) (int64, error) {
	blocks := db.encodeBatch(b.Events, b.IngestionTime, nil)
	var seq int64
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		gid, sid, err := logStreamID(ctx, tx, sc, b.LogGroupName, b.LogStreamName)
		if err != nil {
			return err
		}
		if len(b.Events) > 0 {
			base, err := db.allocSeqTx(ctx, tx, len(b.Events))
			if err != nil {
				return err
			}
			if err := db.insertBlocksTx(ctx, tx, gid, sid, base, blocks); err != nil {
				return err
			}
		}
		stored, first, last, bytes := blockStats(blocks)
		if seq, err = recordAppendTx(ctx, tx, gid, sid, stored, first, last, b.IngestionTime, bytes); err != nil {
			return err
		}
		if err := db.insertSamplesTx(ctx, tx, b.Samples); err != nil {
			return fmt.Errorf("insert metric samples: %w", err)
		}
		return nil
	})
	if err == nil && len(b.Events) > 0 {
		db.kickCompactor()
	}
	return seq, err
}

// AppendUnique implements logs.Store. A keyed event is stored unless the group already holds its
// key at its timestamp, or an earlier event of the batch has them. The batch's blocks are encoded
// beforehand without the batch's own repeats; the transaction checks the keys against the
// committer's key cache (logs_keys.go), stores the new ones as keysets, and only when a key was
// there already, the rare case of a record delivered again, encodes the blocks again without the
// repeated events.
func (db *DB) AppendUnique(ctx context.Context, sc logs.Scope, b logs.AppendBatch) (logs.AppendResult, error) {
	hashes := make([][]byte, len(b.Events))
	repeat := make([]bool, len(b.Events))
	seen := make(map[dedupEntry]bool)
	for i, e := range b.Events {
		if i < len(b.DedupKeys) && b.DedupKeys[i] != "" {
			hashes[i] = dedupHash(b.DedupKeys[i])
			ent := dedupEntry{e.Timestamp, string(hashes[i])}
			repeat[i] = seen[ent]
			seen[ent] = true
		}
	}
	// A batch whose first key is stored already is most likely a delivery repeated whole (an S3
	// object read again after a restart): it is encoded in the transaction, after the dedup
	// decision, rather than compressed in vain beforehand.
	var blocks []pendingBlock
	if !db.likelyRepeat(ctx, sc, b, hashes) {
		blocks = db.encodeBatch(b.Events, b.IngestionTime, func(i int) bool { return !repeat[i] })
	}
	encoded := blocks != nil || len(b.Events) == 0
	var res logs.AppendResult
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		res = logs.AppendResult{Duplicate: make([]bool, len(b.Events))}
		copy(res.Duplicate, repeat)
		gid, sid, err := logStreamID(ctx, tx, sc, b.LogGroupName, b.LogStreamName)
		if errors.Is(err, logs.ErrLogStreamNotFound) && b.CreateStream {
			var r sql.Result
			if r, err = tx.ExecContext(ctx, `INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)`,
				gid, b.LogStreamName, b.IngestionTime); err != nil {
				return fmt.Errorf("insert log stream: %w", err)
			}
			if sid, err = r.LastInsertId(); err != nil {
				return fmt.Errorf("insert log stream: %w", err)
			}
		}
		if err != nil {
			return err
		}
		var base int64
		if len(b.Events) > 0 {
			if base, err = db.allocSeqTx(ctx, tx, len(b.Events)); err != nil {
				return err
			}
		}
		again, err := db.checkKeysTx(ctx, tx, gid, b.Events, hashes, res.Duplicate)
		if err != nil {
			return err
		}
		if err := db.insertKeysetsTx(ctx, tx, gid, sid, b.Events, hashes, res.Duplicate); err != nil {
			return err
		}
		final := blocks
		if again || !encoded {
			final = db.encodeBatch(b.Events, b.IngestionTime, func(i int) bool { return !res.Duplicate[i] })
		}
		if err := db.insertBlocksTx(ctx, tx, gid, sid, base, final); err != nil {
			return err
		}
		stored, first, last, bytes := blockStats(final)
		if res.UploadSequence, err = recordAppendTx(ctx, tx, gid, sid, stored, first, last, b.IngestionTime, bytes); err != nil {
			return err
		}
		for j, smp := range b.Samples {
			if j < len(b.SampleEvents) && b.SampleEvents[j] >= 0 && res.Duplicate[b.SampleEvents[j]] {
				continue
			}
			res.Samples = append(res.Samples, smp)
		}
		if err := db.insertSamplesTx(ctx, tx, res.Samples); err != nil {
			return fmt.Errorf("insert metric samples: %w", err)
		}
		return nil
	})
	if err != nil {
		return logs.AppendResult{}, err
	}
	if len(b.Events) > 0 {
		db.kickCompactor()
	}
	return res, nil
}

// likelyRepeat reports whether the first keyed event of b is stored already, from the key cache
// outside the transaction (a hint only: the transaction decides, and a minute not in the cache
// says no).
func (db *DB) likelyRepeat(ctx context.Context, sc logs.Scope, b logs.AppendBatch, hashes [][]byte) bool {
	for i, h := range hashes {
		if h == nil {
			continue
		}
		st, err := db.readStmt(ctx, `SELECT id FROM log_groups WHERE account_id = ? AND region = ? AND name = ?`)
		if err != nil {
			return false
		}
		var gid int64
		if err := st.QueryRowContext(ctx, sc.AccountID, sc.Region, b.LogGroupName).Scan(&gid); err != nil {
			return false
		}
		key := keyEntry{ts: b.Events[i].Timestamp}
		copy(key.hash[:], h)
		found, _ := db.keys.has(unitOf(gid, key.ts), key)
		return found
	}
	return false
}

// blockColumns are the Meta columns of log_blocks b.
const blockColumns = `b.id, b.stream_id, b.bucket, b.min_ts, b.max_ts, b.min_seq, b.max_seq, b.count, b.raw_bytes, b.seq_base`

// blockSource is logblock.Source over a read transaction.
type blockSource struct {
	ctx      context.Context
	gid      int64
	rows     *sql.Rows
	data     *sql.Stmt      // blockDataSQL
	name     *sql.Stmt      // streamNameSQL
	selected map[int64]bool // the query's streams; nil: all
	names    map[int64]string
}

func (s *blockSource) Next() (logblock.Meta, bool, error) {
	if !s.rows.Next() {
		return logblock.Meta{}, false, s.rows.Err()
	}
	var m logblock.Meta
	if err := s.rows.Scan(&m.ID, &m.StreamID, &m.Bucket, &m.MinTS, &m.MaxTS, &m.MinSeq, &m.MaxSeq, &m.Count, &m.RawBytes, &m.SeqBase); err != nil {
		return m, false, fmt.Errorf("scan log blocks: %w", err)
	}
	return m, true, nil
}

func (s *blockSource) Load(m logblock.Meta) ([]byte, error) {
	var data []byte
	if err := s.data.QueryRowContext(s.ctx, m.ID).Scan(&data); err != nil {
		return nil, fmt.Errorf("read log block: %w", err)
	}
	return data, nil
}

func (s *blockSource) Stream(id int64) (string, bool, error) {
	if s.selected != nil && !s.selected[id] {
		return "", false, nil
	}
	if name, ok := s.names[id]; ok {
		return name, true, nil
	}
	var name string
	err := s.name.QueryRowContext(s.ctx, id, s.gid).Scan(&name)
	if err != nil {
		return "", false, fmt.Errorf("look up log stream %d: %w", id, err)
	}
	s.names[id] = name
	return name, true, nil
}

// ScanEvents implements logs.Store: the blocks the query can need, read in one read transaction
// (a snapshot, so that a compaction committing meanwhile changes nothing), merged by logblock.Scan.
func (db *DB) ScanEvents(ctx context.Context, sc logs.Scope, q logs.EventQuery, fn func(logs.Event) bool) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("scan log events: %w", err)
	}
	defer tx.Rollback()
	gid, err := logGroupID(ctx, tx, sc, q.LogGroupName)
	if err != nil {
		return err
	}
	var (
		ids      []int64
		selected map[int64]bool
	)
	if len(q.Streams) > 0 || q.StreamPrefix != "" {
		if ids, err = db.streamIDs(ctx, tx, gid, q.Streams, q.StreamPrefix); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		selected = make(map[int64]bool, len(ids))
		for _, id := range ids {
			selected[id] = true
		}
	}
	query, args := scanBlocksQuery(gid, ids, logblock.RangeOf(q))
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("scan log blocks: %w", err)
	}
	defer rows.Close()
	// The statements are prepared once per read connection, not per scan: preparing them and the
	// stream-name lookup anew took a tenth of a first page's time (BenchmarkFilterLogEvents).
	data, err := db.scanStmt(ctx, tx, blockDataSQL)
	if err != nil {
		return err
	}
	name, err := db.scanStmt(ctx, tx, streamNameSQL)
	if err != nil {
		return err
	}
	return db.blocks.Scan(&blockSource{ctx: ctx, gid: gid, rows: rows, data: data, name: name, selected: selected, names: map[int64]string{}}, q, fn)
}

// scanStmt returns a statement of the read pool for use in the read transaction tx (closed with it).
func (db *DB) scanStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st), nil
}

// scanBlocksQuery is ScanEvents' SQL for group gid, restricted to the blocks of the streams ids and
// the blocks of several streams (stream_id 0) when there are any ids, through (group_id, bucket,
// min_ts). Ascending scans need no sort; descending ones sort each bucket's block rows (not their
// data) by max_ts.
func scanBlocksQuery(gid int64, ids []int64, r logblock.Range) (string, []any) {
	var (
		where strings.Builder
		args  = []any{gid}
	)
	where.WriteString(`b.group_id = ?`)
	if len(ids) > 0 {
		where.WriteString(` AND b.stream_id IN (` + strings.Repeat("?,", len(ids)) + `0)`)
		for _, id := range ids {
			args = append(args, id)
		}
	}
	where.WriteString(` AND b.bucket >= ? AND b.bucket <= ?`)
	args = append(args, r.FirstBucket, r.LastBucket)
	order := ` ORDER BY b.bucket, b.min_ts`
	if !r.Ascending {
		order = ` ORDER BY b.bucket DESC, b.max_ts DESC`
	}
	return `SELECT ` + blockColumns + ` FROM log_blocks b WHERE ` + where.String() + order, args
}

// streamIDs returns the ids of the group's streams named names (when any) and starting with prefix
// (when not empty).
func (db *DB) streamIDs(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, gid int64, names []string, prefix string) ([]int64, error) {
	var (
		query = `SELECT id FROM log_streams WHERE group_id = ?`
		args  = []any{gid}
	)
	if len(names) > 0 {
		query += ` AND name IN (` + strings.Repeat("?,", len(names)-1) + `?)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	if prefix != "" {
		cond, a := prefixCond("name", prefix)
		query += cond
		args = append(args, a...)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("look up log streams: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("look up log streams: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// expireBlocks is how many blocks one expiry transaction deletes, so that a sweep over millions of
// events never holds up PutLogEvents (all writes share one committer) for more than a moment.
const expireBlocks = 64

// expireKeys is how many dedup keys one expiry transaction deletes.
const expireKeys = 5000

// ExpireEvents implements logs.Store. For each group with a retention policy, whole blocks older
// than the cutoff go expireBlocks at a time, a block straddling the cutoff is rewritten with the
// events it keeps, and the dedup keys older than the cutoff go after them: keysets wholly older,
// straddling keysets rewritten without the older keys, then log_dedup's rows (a record arriving
// again in between is older than the retention period and so refused by PutLogEvents anyway).
// Stored-byte counters shrink with the deleted events.
func (db *DB) ExpireEvents(ctx context.Context, now int64) (int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, retention_days FROM log_groups WHERE retention_days > 0`)
	if err != nil {
		return 0, fmt.Errorf("list retention policies: %w", err)
	}
	var groups []retention
	for rows.Next() {
		var g retention
		if err := rows.Scan(&g.id, &g.days); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list retention policies: %w", err)
		}
		g.cutoff = now - g.days*24*60*60*1000
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list retention policies: %w", err)
	}
	var total int64
	for _, g := range groups {
		n, err := db.expireGroup(ctx, g)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// retention is a group's retention policy as ExpireEvents listed it, and the cutoff it implies.
type retention struct{ id, days, cutoff int64 }

// holdsTx reports whether group g.id still has the retention ExpireEvents listed. The listing is
// read outside the transactions that delete, and SQLite gives a new row the largest id plus one
// when the largest was deleted, so a group deleted and created again meanwhile may have the id of
// another with another retention, whose cutoff must not be applied to its events.
func (g retention) holdsTx(ctx context.Context, tx *sql.Tx) (bool, error) {
	var days int64
	err := tx.QueryRowContext(ctx, `SELECT retention_days FROM log_groups WHERE id = ?`, g.id).Scan(&days)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read retention policy: %w", err)
	}
	return days == g.days, nil
}

// expireGroup expires what group g holds older than its cutoff (see ExpireEvents) and returns how
// many events it deleted. Each transaction first checks that the group still has the retention
// listed; it stops at the first that finds otherwise.
func (db *DB) expireGroup(ctx context.Context, g retention) (int64, error) {
	var total int64
	// Each step is one deleting transaction: it returns the events it deleted and whether there
	// may be more to do.
	steps := []func(tx *sql.Tx) (int64, bool, error){
		func(tx *sql.Tx) (int64, bool, error) { return db.expireBlocksTx(ctx, tx, g.id, g.cutoff) },
		func(tx *sql.Tx) (int64, bool, error) {
			more, err := db.expireKeysetsTx(ctx, tx, g.id, g.cutoff)
			return 0, more, err
		},
		func(tx *sql.Tx) (int64, bool, error) {
			db.keys.dropGroup(g.id)
			r, err := tx.ExecContext(ctx, `DELETE FROM log_dedup WHERE group_id = ? AND ts < ? AND ts <= coalesce(
				(SELECT ts FROM log_dedup WHERE group_id = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?), ?)`,
				g.id, g.cutoff, g.id, g.cutoff, expireKeys, g.cutoff)
			if err != nil {
				return 0, false, fmt.Errorf("delete expired dedup keys: %w", err)
			}
			n, err := r.RowsAffected()
			return 0, n > expireKeys, err
		},
	}
	for _, step := range steps {
		for {
			var (
				n    int64
				more bool
			)
			err := db.withTx(ctx, func(tx *sql.Tx) error {
				n, more = 0, false
				ok, err := g.holdsTx(ctx, tx)
				if err != nil || !ok {
					return err
				}
				n, more, err = step(tx)
				return err
			})
			if err != nil {
				return total, err
			}
			total += n // counted only once the deletion has committed
			if !more {
				break
			}
		}
	}
	return total, nil
}

// expireBlocksTx deletes up to expireBlocks blocks of a group whose events are all older than
// cutoff, or, when there are none left, rewrites the blocks holding events on both sides of it. It
// returns how many events it deleted and whether there may be more to do.
func (db *DB) expireBlocksTx(ctx context.Context, tx *sql.Tx, gid, cutoff int64) (int64, bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, count, raw_bytes, streams FROM log_blocks
		WHERE group_id = ? AND bucket <= ? AND max_ts < ? LIMIT ?`, gid, logblock.Bucket(cutoff), cutoff, expireBlocks)
	if err != nil {
		return 0, false, fmt.Errorf("find expired blocks: %w", err)
	}
	var (
		ids       []any
		perStream = map[int64]int64{}
		events    int64
		bytes     int64
	)
	for rows.Next() {
		var (
			id, count, size int64
			streams         []byte
		)
		if err := rows.Scan(&id, &count, &size, &streams); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("find expired blocks: %w", err)
		}
		stats, err := logblock.DecodeStats(streams)
		if err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("block %d: %w", id, err)
		}
		for _, st := range stats {
			perStream[st.StreamID] += st.Bytes
		}
		ids = append(ids, id)
		events += count
		bytes += size
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("find expired blocks: %w", err)
	}
	more := len(ids) > 0 // then the straddling blocks, in a transaction of their own
	if len(ids) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_blocks WHERE id IN (`+strings.Repeat("?,", len(ids)-1)+`?)`, ids...); err != nil {
			return 0, false, fmt.Errorf("delete expired blocks: %w", err)
		}
	} else {
		// The blocks that straddle the cutoff: all in its bucket.
		n, err := db.trimBlocksTx(ctx, tx, gid, cutoff, perStream)
		if err != nil {
			return 0, false, err
		}
		events = n
		for _, size := range perStream {
			bytes += size
		}
	}
	for sid, size := range perStream {
		if _, err := tx.ExecContext(ctx, `UPDATE log_streams SET stored_bytes = stored_bytes - ? WHERE id = ?`, size, sid); err != nil {
			return 0, false, fmt.Errorf("update log stream: %w", err)
		}
	}
	if bytes > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes - ? WHERE id = ?`, bytes, gid); err != nil {
			return 0, false, fmt.Errorf("update log group: %w", err)
		}
	}
	return events, more, nil
}

// trimBlocksTx rewrites the group's blocks that hold events older than cutoff beside newer ones,
// keeping the newer ones, adds the freed message bytes per stream to freed and returns how many
// events it dropped.
func (db *DB) trimBlocksTx(ctx context.Context, tx *sql.Tx, gid, cutoff int64, freed map[int64]int64) (int64, error) {
	type block struct {
		id, sid, base int64
		data          []byte
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, stream_id, seq_base, data FROM log_blocks
		WHERE group_id = ? AND bucket = ? AND min_ts < ?`, gid, logblock.Bucket(cutoff), cutoff)
	if err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	var todo []block
	for rows.Next() {
		var b block
		if err := rows.Scan(&b.id, &b.sid, &b.base, &b.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find expired events: %w", err)
		}
		todo = append(todo, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	var dropped int64
	for _, b := range todo {
		n, err := db.rewriteBlockTx(ctx, tx, gid, b.id, b.base, b.sid, b.data, func(e *logblock.Entry) bool {
			if e.Timestamp < cutoff {
				freed[e.StreamID] += int64(len(e.Message))
				return false
			}
			return true
		})
		if err != nil {
			return 0, err
		}
		dropped += n
	}
	return dropped, nil
}

// rewriteBlockTx replaces a block by one of the entries keep keeps (none: the block goes) and
// returns how many entries it dropped.
func (db *DB) rewriteBlockTx(ctx context.Context, tx *sql.Tx, gid, id, base, sid int64, data []byte, keep func(*logblock.Entry) bool) (int64, error) {
	entries, err := db.blocks.Decode(data, base, sid)
	if err != nil {
		return 0, fmt.Errorf("block %d: %w", id, err)
	}
	kept := entries[:0]
	for i := range entries {
		if e := entries[i]; keep(&e) {
			kept = append(kept, e)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM log_blocks WHERE id = ?`, id); err != nil {
		return 0, fmt.Errorf("delete log block: %w", err)
	}
	if len(kept) > 0 {
		if err := db.insertBlocksTx(ctx, tx, gid, 0, 0, []pendingBlock{db.newBlock(kept, logblock.Small)}); err != nil {
			return 0, err
		}
	}
	return int64(len(entries) - len(kept)), nil
}

// deleteStreamEventsTx deletes the events of stream sid of group gid: its own blocks, and its
// events in the group's blocks of several streams, found by their stats and rewritten without them.
// Deleting a stream is rare; in a group where every block holds every stream it rewrites the group.
func (db *DB) deleteStreamEventsTx(ctx context.Context, tx *sql.Tx, gid, sid int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM log_blocks WHERE stream_id = ?`, sid); err != nil {
		return fmt.Errorf("delete log events: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, seq_base, streams FROM log_blocks WHERE group_id = ? AND stream_id = 0`, gid)
	if err != nil {
		return fmt.Errorf("find log blocks: %w", err)
	}
	type block struct{ id, base int64 }
	var todo []block
	for rows.Next() {
		var (
			b       block
			streams []byte
		)
		if err := rows.Scan(&b.id, &b.base, &streams); err != nil {
			rows.Close()
			return fmt.Errorf("find log blocks: %w", err)
		}
		stats, err := logblock.DecodeStats(streams)
		if err != nil {
			rows.Close()
			return fmt.Errorf("block %d: %w", b.id, err)
		}
		for _, st := range stats {
			if st.StreamID == sid {
				todo = append(todo, b)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find log blocks: %w", err)
	}
	for _, b := range todo {
		var data []byte
		if err := tx.QueryRowContext(ctx, blockDataSQL, b.id).Scan(&data); err != nil {
			return fmt.Errorf("read log block: %w", err)
		}
		if _, err := db.rewriteBlockTx(ctx, tx, gid, b.id, b.base, 0, data, func(e *logblock.Entry) bool { return e.StreamID != sid }); err != nil {
			return err
		}
	}
	return nil
}

// compactEvery is the least time between two compaction rounds: appends wake the compactor, and
// it then merges what has accumulated.
const compactEvery = time.Second

// kickCompactor wakes the compactor without waiting.
func (db *DB) kickCompactor() {
	select {
	case db.compactKick <- struct{}{}:
	default:
	}
}

// compactWait returns what the compactor waits on between rounds: compactEvery, or a test's ticks.
func (db *DB) compactWait() <-chan time.Time {
	if db.compactTicks != nil {
		return db.compactTicks
	}
	return time.After(compactEvery)
}

// compactLoop merges small blocks in the background until Close.
func (db *DB) compactLoop() {
	ctx := context.Background()
	for {
		select {
		case <-db.quit:
			return
		case <-db.compactKick:
		}
		n, err := db.CompactBlocks(ctx)
		if err != nil && !errors.Is(err, errClosed) && db.logger != nil {
			db.logger.Warn("compact log blocks", "err", err)
		}
		vacuumed, err := db.reclaimFreePages(ctx)
		if err != nil && !errors.Is(err, errClosed) && db.logger != nil {
			db.logger.Warn("reclaim free pages", "err", err)
		}
		// A round that merged blocks may have left some (maxHourRounds), and a vacuum of
		// maxReclaim pages may have left free pages past the reserve: the next round comes
		// without waiting for another append, which the end of a burst never sends.
		if n > 0 || vacuumed == maxReclaim {
			db.kickCompactor()
		}
		if db.compacted != nil {
			db.compacted(n)
		}
		select {
		case <-db.quit:
			return
		case <-db.compactWait():
		}
	}
}

// CompactBlocks merges small log blocks: for each group and hour holding two or more blocks that are
// not full (logblock.Meta.Full: fewer than logblock.TargetEvents events and
// logblock.FullRawBytes of messages), once they add up to a full block or the hour is over (an hour
// before the current one), it merges them (logblock.Plan; the full blocks stay as they are) into
// full blocks and at most one smaller one, compressed at logblock.Small. The
// merge is computed outside the committer; the transaction replaces the
// blocks only if all of them still exist (expiry or a deletion may have removed some meanwhile, and
// the next round sees what is left). It returns how many blocks it removed.
func (db *DB) CompactBlocks(ctx context.Context) (int, error) {
	// Most rounds of a quiet database find nothing: say so without reading the clock, which tests
	// count the readings of.
	var small int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM log_blocks WHERE `+smallBlock+` LIMIT 2)`).Scan(&small)
	if err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	if small < 2 {
		return 0, nil
	}
	closed := logblock.Bucket(db.now().UnixMilli()) - 1
	rows, err := db.read.QueryContext(ctx, dueHoursSQL, logblock.TargetEvents, logblock.FullRawBytes, closed)
	if err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	type candidate struct{ gid, bucket int64 }
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.gid, &c.bucket); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find small log blocks: %w", err)
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	// An hour that fails (a block that does not decode) is reported and the others merged still:
	// stopping at it left every hour after it unmerged, round after round.
	removed := 0
	var errs []error
	for _, c := range cands {
		// An hour whose small blocks hold more than one merge takes is merged again at once.
		n, err := logblock.CompactHour(db.hourRounds, func() (int, error) { return db.compactOne(ctx, c.gid, c.bucket) },
			func() (bool, error) { return db.hourBacklog(ctx, c.gid, c.bucket, closed) })
		removed += n
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, errClosed) {
				return removed, err
			}
			errs = append(errs, fmt.Errorf("log group %d, hour %d: %w", c.gid, c.bucket, err))
		}
	}
	return removed, errors.Join(errs...)
}

// CompactBacklog returns how many hours of log groups hold small blocks that a compaction round
// would merge (CompactBlocks' criterion). It is 0 once compaction has caught up with the appends,
// which a round that merged nothing does not show: that round may have lost a race with another.
func (db *DB) CompactBacklog(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM (`+dueHoursSQL+`)`,
		logblock.TargetEvents, logblock.FullRawBytes, logblock.Bucket(db.now().UnixMilli())-1).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	return n, nil
}

// maxHourRounds bounds the merges of one hour in a compaction round, so that an hour receiving a
// stream of appends does not keep the compactor from the others.
const maxHourRounds = 16

// hourBacklog reports whether a group's hour still has small blocks to merge by CompactBlocks'
// criterion: two or more, together a full block or in a closed hour.
func (db *DB) hourBacklog(ctx context.Context, gid, bucket, closed int64) (bool, error) {
	var n, events, bytes int64
	err := db.read.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(count), 0), coalesce(sum(raw_bytes), 0) FROM log_blocks
		WHERE group_id = ? AND bucket = ? AND `+smallBlock,
		gid, bucket).Scan(&n, &events, &bytes)
	if err != nil {
		return false, fmt.Errorf("find small log blocks: %w", err)
	}
	return logblock.Due(int(n), events, bytes, bucket, closed), nil
}

// smallBlock is the SQL of a block that is not full (logblock.Meta.Full), the predicate of the
// partial index log_blocks_small (schema 240) written the same way, so that every query of small
// blocks reads that index and not the rows of every block (TestSmallBlockIndex).
const smallBlock = `count < 1024 AND raw_bytes < 491520`

// dueHoursSQL selects the (group_id, bucket) of the hours a compaction round merges
// (logblock.Due), given logblock.TargetEvents, logblock.FullRawBytes and the first open bucket.
const dueHoursSQL = `SELECT group_id, bucket FROM log_blocks WHERE ` + smallBlock + `
	GROUP BY group_id, bucket HAVING count(*) >= 2 AND (sum(count) >= ?1 OR sum(raw_bytes) >= ?2 OR bucket < ?3)`

// compactOne runs a compaction round of one group and bucket: logblock plans it (the small blocks,
// up to a bound) and merges it; compactHour reads and replaces the blocks. A block gone meanwhile ends
// the round.
func (db *DB) compactOne(ctx context.Context, gid, bucket int64) (int, error) {
	return db.blocks.Compact(&compactHour{ctx: ctx, db: db, gid: gid, bucket: bucket})
}

// compactHour is logblock.CompactStore over the blocks of one group and bucket. It reads the
// blocks' rows first and their data one block at a time: sorting rows with their data made SQLite
// hold every small block of the hour in memory (the server's RSS grew past its bound under
// sustained ingest while the compactor lagged).
type compactHour struct {
	ctx         context.Context
	db          *DB
	gid, bucket int64
}

// SmallBlocks implements logblock.CompactStore: the hour's blocks that are not full, by MinTS, read
// through the read pool, outside the committer (Replace checks that they are still there).
func (h *compactHour) SmallBlocks(fn func(logblock.Meta) bool) error {
	rows, err := h.db.read.QueryContext(h.ctx, `SELECT id, stream_id, count, raw_bytes, seq_base, min_ts, max_ts, min_seq, max_seq FROM log_blocks
		WHERE group_id = ? AND bucket = ? AND `+smallBlock+` ORDER BY min_ts`,
		h.gid, h.bucket)
	if err != nil {
		return fmt.Errorf("read small log blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m logblock.Meta
		if err := rows.Scan(&m.ID, &m.StreamID, &m.Count, &m.RawBytes, &m.SeqBase, &m.MinTS, &m.MaxTS, &m.MinSeq, &m.MaxSeq); err != nil {
			return fmt.Errorf("read small log blocks: %w", err)
		}
		if !fn(m) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read small log blocks: %w", err)
	}
	return nil
}

// Load implements logblock.CompactStore: a block's encoded bytes, or logblock.ErrGone when it was
// deleted since the round listed it.
func (h *compactHour) Load(m logblock.Meta) ([]byte, error) {
	var data []byte
	err := h.db.read.QueryRowContext(h.ctx, blockDataSQL, m.ID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, logblock.ErrGone
	}
	if err != nil {
		return nil, fmt.Errorf("read log block: %w", err)
	}
	return data, nil
}

// Replace deletes the merged blocks and inserts the new ones in one write transaction, which the
// single committer runs, if every one of them is still stored as the round read it. An id is not
// enough: SQLite gives a new row the largest rowid plus one, so when the newest block of a round
// is deleted (a stream's deletion, an expiry, a rewrite) the next append's block takes its id, and
// a DELETE by ids removed that block and stored the deleted events again. The transaction compares
// each row's count and sequence range with what the round read (sequence numbers are never
// reused, and a rewrite drops events).
func (h *compactHour) Replace(old []logblock.Meta, blocks []logblock.Compacted) error {
	args := make([]any, len(old))
	want := make(map[int64]logblock.Meta, len(old))
	for i, m := range old {
		args[i] = m.ID
		want[m.ID] = m
	}
	merged := make([]pendingBlock, len(blocks))
	for i, b := range blocks {
		merged[i] = pendingBlock{entries: b.Entries, data: b.Data, meta: b.Meta}
	}
	in := `(` + strings.Repeat("?,", len(old)-1) + `?)`
	return h.db.withTx(h.ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(h.ctx, `SELECT id, count, min_seq, max_seq FROM log_blocks WHERE id IN `+in, args...)
		if err != nil {
			return fmt.Errorf("check merged log blocks: %w", err)
		}
		found := 0
		for rows.Next() {
			var m logblock.Meta
			if err := rows.Scan(&m.ID, &m.Count, &m.MinSeq, &m.MaxSeq); err != nil {
				rows.Close()
				return fmt.Errorf("check merged log blocks: %w", err)
			}
			if w := want[m.ID]; w.Count == m.Count && w.MinSeq == m.MinSeq && w.MaxSeq == m.MaxSeq {
				found++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("check merged log blocks: %w", err)
		}
		if found != len(old) {
			return logblock.ErrGone
		}
		r, err := tx.ExecContext(h.ctx, `DELETE FROM log_blocks WHERE id IN `+in, args...)
		if err != nil {
			return fmt.Errorf("delete merged log blocks: %w", err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return fmt.Errorf("delete merged log blocks: %w", err)
		} else if int(n) != len(old) {
			return logblock.ErrGone
		}
		return h.db.insertBlocksTx(h.ctx, tx, h.gid, 0, 0, merged)
	})
}

// convertEventsToBlocks is schema 161's step before its SQL: it moves the events stored one row each
// into blocks of one stream and bucket (up to logblock.TargetEvents events each, in (ts, id) order)
// and their dedup keys into log_dedup, keeping each event's id as its sequence number. It reads the
// events in the order of the stream index, so it holds one block in memory at a time.
func convertEventsToBlocks(ctx context.Context, tx *sql.Tx) error {
	codec, err := logblock.NewCodec()
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, group_id, stream_id, ts, ingestion_time, message, dedup_key
		FROM log_events ORDER BY stream_id, ts, id`)
	if err != nil {
		return fmt.Errorf("read log events: %w", err)
	}
	defer rows.Close()
	var (
		gid, sid int64
		run      []logblock.Entry
		size     int
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		m := logblock.MetaOf(run)
		if _, err := tx.ExecContext(ctx, insertBlockSQL, gid, sid, m.Bucket, m.MinTS, m.MaxTS, m.MinSeq, m.MaxSeq, m.Count, m.RawBytes, 0,
			logblock.EncodeStats(logblock.Stats(run, sid)), codec.Encode(run, logblock.Small)); err != nil {
			return fmt.Errorf("insert log block: %w", err)
		}
		run, size = run[:0], 0
		return nil
	}
	for rows.Next() {
		var (
			e        logblock.Entry
			g, s     int64
			msg      string
			dedupKey []byte
		)
		if err := rows.Scan(&e.Seq, &g, &s, &e.Timestamp, &e.IngestionTime, &msg, &dedupKey); err != nil {
			return fmt.Errorf("read log events: %w", err)
		}
		e.Message = msg
		if len(run) > 0 && (s != sid || logblock.Bucket(e.Timestamp) != logblock.Bucket(run[0].Timestamp) ||
			len(run) == logblock.TargetEvents || size+len(msg) > logblock.MaxRawBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		gid, sid = g, s
		run = append(run, e)
		size += len(msg)
		if dedupKey != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_dedup (group_id, ts, key, stream_id, seq) VALUES (?, ?, ?, ?, ?)`,
				g, e.Timestamp, dedupKey, s, e.Seq); err != nil {
				return fmt.Errorf("insert dedup key: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read log events: %w", err)
	}
	return flush()
}
