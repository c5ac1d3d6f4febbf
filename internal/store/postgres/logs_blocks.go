package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Log events live in compressed blocks (schema 090, package logblock), exactly as in
// internal/store/sqlite/logs_blocks.go: an append encodes its batch, one block per hour bucket it
// touches, before its transaction, with the events' batch positions as sequence numbers relative
// to the row's seq_base; the transaction draws the base (allocSeq) and stores the blocks, the dedup
// keys, the bookkeeping and the metric-filter samples together. A background compactor merges a
// group's small blocks of one hour across streams; on several replicas each runs one, and a merge
// commits only if every block it read is still there, so two replicas merging one hour leave one
// result.

// seqStride is log_seq's increment (schema 090): each nextval reserves this many sequence numbers.
const seqStride = 1 << 20

const insertBlockSQL = `INSERT INTO log_blocks (group_id, stream_id, bucket, min_ts, max_ts, min_seq, max_seq, count, raw_bytes, seq_base, streams, data)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`

// pendingBlock is an encoded block to store (see sqlite's pendingBlock).
type pendingBlock struct {
	entries []logblock.Entry
	data    []byte
	meta    logblock.Meta
}

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

// insertBlocksTx stores encoded blocks with sequence numbers relative to base, in one round trip;
// entries of stream 0 belong to stream sid (0: the blocks' entries all name their streams).
func insertBlocksTx(ctx context.Context, tx pgx.Tx, gid, sid, base int64, blocks []pendingBlock) error {
	if len(blocks) == 0 {
		return nil
	}
	var batch pgx.Batch
	for _, b := range blocks {
		m := b.meta
		stream := m.StreamID
		if stream == 0 && sid != 0 {
			stream = sid
		}
		stats := logblock.EncodeStats(logblock.Stats(b.entries, sid))
		batch.Queue(insertBlockSQL, gid, stream, m.Bucket, m.MinTS, m.MaxTS, base+m.MinSeq, base+m.MaxSeq, m.Count, m.RawBytes, base, stats, b.data)
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("insert log block: %w", err)
	}
	return nil
}

// allocSeq reserves n sequence numbers and returns the first. The caller holds its group's row lock,
// so the appends of one group draw increasing numbers in the order they commit.
func allocSeq(ctx context.Context, tx pgx.Tx, n int) (int64, error) {
	if n > seqStride {
		return 0, fmt.Errorf("allocate event sequence: %d events in one append, more than %d", n, seqStride)
	}
	var first int64
	if err := tx.QueryRow(ctx, `SELECT nextval('log_seq')`).Scan(&first); err != nil {
		return 0, fmt.Errorf("allocate event sequence: %w", err)
	}
	return first, nil
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

// recordAppendTx updates the stream's and group's bookkeeping after stored events were appended
// and returns the stream's new upload sequence.
func recordAppendTx(ctx context.Context, tx pgx.Tx, gid, sid int64, stored int, first, last, ingestion, bytes int64) (int64, error) {
	var row pgx.Row
	if stored > 0 {
		row = tx.QueryRow(ctx, `UPDATE log_streams SET
			first_event = CASE WHEN first_event = 0 OR first_event > $1 THEN $1 ELSE first_event END,
			last_event = greatest(last_event, $2), last_ingestion = $3, stored_bytes = stored_bytes + $4,
			upload_seq = upload_seq + 1
			WHERE id = $5 RETURNING upload_seq`, first, last, ingestion, bytes, sid)
	} else {
		row = tx.QueryRow(ctx, `UPDATE log_streams SET upload_seq = upload_seq + 1 WHERE id = $1 RETURNING upload_seq`, sid)
	}
	var seq int64
	if err := row.Scan(&seq); err != nil {
		return 0, fmt.Errorf("update log stream: %w", err)
	}
	if bytes > 0 {
		if _, err := tx.Exec(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes + $1 WHERE id = $2`, bytes, gid); err != nil {
			return 0, fmt.Errorf("update log group: %w", err)
		}
	}
	return seq, nil
}

// AppendEvents implements logs.Store: the batch's blocks, the stream's bookkeeping and the metric
// samples commit in one transaction.
func (db *DB) AppendEvents(ctx context.Context, sc logs.Scope, b logs.AppendBatch) (int64, error) {
	blocks := db.encodeBatch(b.Events, b.IngestionTime, nil)
	var seq int64
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		gid, sid, err := lockStream(ctx, tx, sc, b.LogGroupName, b.LogStreamName)
		if err != nil {
			return err
		}
		if len(b.Events) > 0 {
			base, err := allocSeq(ctx, tx, len(b.Events))
			if err != nil {
				return err
			}
			if err := insertBlocksTx(ctx, tx, gid, sid, base, blocks); err != nil {
				return err
			}
		}
		stored, first, last, bytes := blockStats(blocks)
		if seq, err = recordAppendTx(ctx, tx, gid, sid, stored, first, last, b.IngestionTime, bytes); err != nil {
			return err
		}
		if err := insertSamplesTx(ctx, tx, b.Samples); err != nil {
			return fmt.Errorf("insert metric samples: %w", err)
		}
		return nil
	})
	if err == nil && len(b.Events) > 0 {
		db.kickCompactor()
	}
	return seq, err
}

// dedupEntry is what makes an event a duplicate: its key (hashed) at its timestamp.
type dedupEntry struct {
	ts  int64
	key string
}

// dedupHash is how a dedup key is stored: the first 16 bytes of its SHA-256, as SQLite stores it
// (see sqlite's dedupHash for why 16 bytes).
func dedupHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:16]
}

// AppendUnique implements logs.Store with SQLite's semantics: a keyed event is stored unless
// log_dedup already holds its key at its timestamp for the group, or an earlier event of the batch
// has them. Keys are inserted with ON CONFLICT DO NOTHING ... RETURNING the positions inserted, so
// one statement both claims the new keys and tells the duplicates; two replicas appending one
// record at once queue on the group's row lock, and the second finds the first's key.
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
	var blocks []pendingBlock
	if !db.likelyRepeat(ctx, sc, b, hashes) {
		blocks = db.encodeBatch(b.Events, b.IngestionTime, func(i int) bool { return !repeat[i] })
	}
	encoded := blocks != nil || len(b.Events) == 0
	var res logs.AppendResult
	err := db.withTx(ctx, func(tx pgx.Tx) error {
		res = logs.AppendResult{Duplicate: make([]bool, len(b.Events))}
		copy(res.Duplicate, repeat)
		gid, sid, err := lockStream(ctx, tx, sc, b.LogGroupName, b.LogStreamName)
		if errors.Is(err, logs.ErrLogStreamNotFound) && b.CreateStream {
			// Another replica may create it meanwhile (CreateLogStream takes no group lock).
			err = tx.QueryRow(ctx, `INSERT INTO log_streams (group_id, name, creation_time) VALUES ($1, $2, $3)
				ON CONFLICT (group_id, name) DO UPDATE SET name = excluded.name RETURNING id`,
				gid, b.LogStreamName, b.IngestionTime).Scan(&sid)
			if err != nil {
				return fmt.Errorf("insert log stream: %w", err)
			}
		}
		if err != nil {
			return err
		}
		var base int64
		if len(b.Events) > 0 {
			if base, err = allocSeq(ctx, tx, len(b.Events)); err != nil {
				return err
			}
		}
		again, err := insertKeysTx(ctx, tx, gid, sid, base, b.Events, hashes, res.Duplicate)
		if err != nil {
			return err
		}
		final := blocks
		if again || !encoded {
			final = db.encodeBatch(b.Events, b.IngestionTime, func(i int) bool { return !res.Duplicate[i] })
		}
		if err := insertBlocksTx(ctx, tx, gid, sid, base, final); err != nil {
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
		if err := insertSamplesTx(ctx, tx, res.Samples); err != nil {
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

// likelyRepeat reports whether the first keyed event of b is stored already, by a read outside the
// transaction (a hint only: the transaction decides), so that a batch delivered again whole is not
// compressed in vain.
func (db *DB) likelyRepeat(ctx context.Context, sc logs.Scope, b logs.AppendBatch, hashes [][]byte) bool {
	for i, h := range hashes {
		if h == nil {
			continue
		}
		var one int
		return db.pool.QueryRow(ctx, `SELECT 1 FROM log_dedup d JOIN log_groups g ON g.id = d.group_id
			WHERE g.account_id = $1 AND g.region = $2 AND g.name = $3 AND d.ts = $4 AND d.key = $5`,
			sc.AccountID, sc.Region, b.LogGroupName, b.Events[i].Timestamp, h).Scan(&one) == nil
	}
	return false
}

// insertKeysTx inserts the keys of the batch's events not marked in dup, each with the sequence
// number base+position, and marks dup for the events whose key the group already held. again
// reports whether it marked any.
func insertKeysTx(ctx context.Context, tx pgx.Tx, gid, sid, base int64, events []logs.InputLogEvent, hashes [][]byte, dup []bool) (again bool, err error) {
	var (
		ts   []int64
		keys [][]byte
		seqs []int64
	)
	for i, h := range hashes {
		if h != nil && !dup[i] {
			ts = append(ts, events[i].Timestamp)
			keys = append(keys, h)
			seqs = append(seqs, base+int64(i))
		}
	}
	if len(keys) == 0 {
		return false, nil
	}
	rows, err := tx.Query(ctx, `INSERT INTO log_dedup (group_id, ts, key, stream_id, seq)
		SELECT $1, t, k, $2, s FROM unnest($3::bigint[], $4::bytea[], $5::bigint[]) AS u(t, k, s)
		ON CONFLICT DO NOTHING RETURNING seq`, gid, sid, ts, keys, seqs)
	if err != nil {
		return false, fmt.Errorf("insert dedup keys: %w", err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return false, fmt.Errorf("insert dedup keys: %w", err)
	}
	if len(inserted) == len(keys) {
		return false, nil
	}
	ok := make(map[int64]bool, len(inserted))
	for _, s := range inserted {
		ok[s] = true
	}
	for _, s := range seqs {
		if !ok[s] {
			dup[s-base], again = true, true
		}
	}
	return again, nil
}

// blockColumns are the Meta columns of log_blocks b.
const blockColumns = `b.id, b.stream_id, b.bucket, b.min_ts, b.max_ts, b.min_seq, b.max_seq, b.count, b.raw_bytes, b.seq_base`

// blockSource is logblock.Source over a read transaction. pgx cannot run a query on a connection
// while another's rows are open, so the block rows (the index, not the data) are read first; the
// data is loaded one block at a time as Scan asks for it.
type blockSource struct {
	ctx      context.Context
	tx       pgx.Tx
	gid      int64
	metas    []logblock.Meta
	selected map[int64]bool // the query's streams; nil: all
	names    map[int64]string
}

func (s *blockSource) Next() (logblock.Meta, bool, error) {
	if len(s.metas) == 0 {
		return logblock.Meta{}, false, nil
	}
	m := s.metas[0]
	s.metas = s.metas[1:]
	return m, true, nil
}

func (s *blockSource) Load(m logblock.Meta) ([]byte, error) {
	var data []byte
	if err := s.tx.QueryRow(s.ctx, `SELECT data FROM log_blocks WHERE id = $1`, m.ID).Scan(&data); err != nil {
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
	err := s.tx.QueryRow(s.ctx, `SELECT name FROM log_streams WHERE id = $1 AND group_id = $2`, id, s.gid).Scan(&name)
	if err != nil {
		return "", false, fmt.Errorf("look up log stream %d: %w", id, err)
	}
	s.names[id] = name
	return name, true, nil
}

// ScanEvents implements logs.Store: the blocks the query can need, read in one REPEATABLE READ
// transaction (a snapshot, so that a compaction committing meanwhile changes nothing), merged by
// logblock.Scan.
func (db *DB) ScanEvents(ctx context.Context, sc logs.Scope, q logs.EventQuery, fn func(logs.Event) bool) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("scan log events: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	gid, err := logGroupID(ctx, tx, sc, q.LogGroupName)
	if err != nil {
		return err
	}
	var (
		ids      []int64
		selected map[int64]bool
	)
	if len(q.Streams) > 0 || q.StreamPrefix != "" {
		if ids, err = streamIDs(ctx, tx, gid, q.Streams, q.StreamPrefix); err != nil {
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
	r := logblock.RangeOf(q)
	var a args
	where := `b.group_id = ` + a.add(gid)
	if len(ids) > 0 {
		where += ` AND b.stream_id IN (` + inList(&a, ids) + `, 0)`
	}
	where += ` AND b.bucket >= ` + a.add(r.FirstBucket) + ` AND b.bucket <= ` + a.add(r.LastBucket)
	order := ` ORDER BY b.bucket, b.min_ts`
	if !r.Ascending {
		order = ` ORDER BY b.bucket DESC, b.max_ts DESC`
	}
	rows, err := tx.Query(ctx, `SELECT `+blockColumns+` FROM log_blocks b WHERE `+where+order, a...)
	if err != nil {
		return fmt.Errorf("scan log blocks: %w", err)
	}
	var metas []logblock.Meta
	for rows.Next() {
		var (
			m     logblock.Meta
			count int32
		)
		if err := rows.Scan(&m.ID, &m.StreamID, &m.Bucket, &m.MinTS, &m.MaxTS, &m.MinSeq, &m.MaxSeq, &count, &m.RawBytes, &m.SeqBase); err != nil {
			rows.Close()
			return fmt.Errorf("scan log blocks: %w", err)
		}
		m.Count = int(count)
		metas = append(metas, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan log blocks: %w", err)
	}
	return db.blocks.Scan(&blockSource{ctx: ctx, tx: tx, gid: gid, metas: metas, selected: selected, names: map[int64]string{}}, q, fn)
}

// streamIDs returns the ids of the group's streams named names (when any) and starting with prefix
// (when not empty).
func streamIDs(ctx context.Context, q pgq, gid int64, names []string, prefix string) ([]int64, error) {
	var a args
	query := `SELECT id FROM log_streams WHERE group_id = ` + a.add(gid)
	if len(names) > 0 {
		query += ` AND name = ANY(` + a.add(names) + `)`
	}
	if prefix != "" {
		query += ` AND starts_with(name, ` + a.add(prefix) + `)`
	}
	rows, err := q.Query(ctx, query+` ORDER BY id`, a...)
	if err != nil {
		return nil, fmt.Errorf("look up log streams: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("look up log streams: %w", err)
	}
	return ids, nil
}

// expireBlocks is how many blocks one expiry transaction deletes, so that a sweep holds a group's
// lock (and so its appends) for a moment at a time.
const expireBlocks = 64

// expireKeys is how many dedup keys one expiry transaction deletes.
const expireKeys = 5000

// ExpireEvents implements logs.Store as SQLite's does: for each group with a retention policy,
// whole blocks older than the cutoff go expireBlocks at a time, blocks straddling the cutoff are
// rewritten with the events they keep, and the dedup keys older than the cutoff go after them.
// Each transaction holds the group's row lock, so appends and sweeps of one group (from any
// replica) take turns; two replicas sweeping at once delete each block once.
func (db *DB) ExpireEvents(ctx context.Context, now int64) (int64, error) {
	type group struct{ id, cutoff int64 }
	rows, err := db.pool.Query(ctx, `SELECT id, retention_days FROM log_groups WHERE retention_days > 0`)
	if err != nil {
		return 0, fmt.Errorf("list retention policies: %w", err)
	}
	var groups []group
	for rows.Next() {
		var (
			id   int64
			days int32
		)
		if err := rows.Scan(&id, &days); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list retention policies: %w", err)
		}
		groups = append(groups, group{id, now - int64(days)*24*60*60*1000})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list retention policies: %w", err)
	}
	var total int64
	for _, g := range groups {
		for {
			var n int64
			var more bool
			err := db.withTx(ctx, func(tx pgx.Tx) error {
				if ok, err := lockGroup(ctx, tx, g.id); err != nil || !ok {
					return err
				}
				var err error
				n, more, err = db.expireBlocksTx(ctx, tx, g.id, g.cutoff)
				return err
			})
			if err != nil {
				return total, err
			}
			total += n
			if !more {
				break
			}
		}
		for {
			tag, err := db.pool.Exec(ctx, `DELETE FROM log_dedup WHERE (group_id, ts, key) IN
				(SELECT group_id, ts, key FROM log_dedup WHERE group_id = $1 AND ts < $2 LIMIT $3)`, g.id, g.cutoff, expireKeys)
			if err != nil {
				return total, fmt.Errorf("delete expired dedup keys: %w", err)
			}
			if tag.RowsAffected() < expireKeys {
				break
			}
		}
	}
	return total, nil
}

// expireBlocksTx deletes up to expireBlocks blocks of a group whose events are all older than
// cutoff, or, when there are none left, rewrites the blocks holding events on both sides of it. It
// returns how many events it deleted and whether there may be more to do.
func (db *DB) expireBlocksTx(ctx context.Context, tx pgx.Tx, gid, cutoff int64) (int64, bool, error) {
	rows, err := tx.Query(ctx, `DELETE FROM log_blocks WHERE id IN (SELECT id FROM log_blocks
		WHERE group_id = $1 AND bucket <= $2 AND max_ts < $3 LIMIT $4) RETURNING count, raw_bytes, streams`,
		gid, logblock.Bucket(cutoff), cutoff, expireBlocks)
	if err != nil {
		return 0, false, fmt.Errorf("delete expired blocks: %w", err)
	}
	var (
		perStream = map[int64]int64{}
		events    int64
		bytes     int64
		deleted   int
	)
	for rows.Next() {
		var (
			count   int32
			size    int64
			streams []byte
		)
		if err := rows.Scan(&count, &size, &streams); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("delete expired blocks: %w", err)
		}
		stats, err := logblock.DecodeStats(streams)
		if err != nil {
			rows.Close()
			return 0, false, err
		}
		for _, st := range stats {
			perStream[st.StreamID] += st.Bytes
		}
		deleted++
		events += int64(count)
		bytes += size
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("delete expired blocks: %w", err)
	}
	more := deleted > 0 // then the straddling blocks, in a transaction of their own
	if deleted == 0 {
		n, err := db.trimBlocksTx(ctx, tx, gid, cutoff, perStream)
		if err != nil {
			return 0, false, err
		}
		events = n
		for _, size := range perStream {
			bytes += size
		}
	}
	if bytes > 0 {
		if _, err := tx.Exec(ctx, `UPDATE log_groups SET stored_bytes = stored_bytes - $1 WHERE id = $2`, bytes, gid); err != nil {
			return 0, false, fmt.Errorf("update log group: %w", err)
		}
	}
	for sid, size := range perStream {
		if _, err := tx.Exec(ctx, `UPDATE log_streams SET stored_bytes = stored_bytes - $1 WHERE id = $2`, size, sid); err != nil {
			return 0, false, fmt.Errorf("update log stream: %w", err)
		}
	}
	return events, more, nil
}

// storedBlock is a block row read with its data.
type storedBlock struct {
	id, sid, base int64
	data          []byte
}

// trimBlocksTx rewrites the group's blocks that hold events older than cutoff beside newer ones,
// keeping the newer ones, adds the freed message bytes per stream to freed and returns how many
// events it dropped.
func (db *DB) trimBlocksTx(ctx context.Context, tx pgx.Tx, gid, cutoff int64, freed map[int64]int64) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, stream_id, seq_base, data FROM log_blocks
		WHERE group_id = $1 AND bucket = $2 AND min_ts < $3`, gid, logblock.Bucket(cutoff), cutoff)
	if err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedBlock, error) {
		var b storedBlock
		err := r.Scan(&b.id, &b.sid, &b.base, &b.data)
		return b, err
	})
	if err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	var dropped int64
	for _, b := range todo {
		n, err := db.rewriteBlockTx(ctx, tx, gid, b, func(e *logblock.Entry) bool {
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
func (db *DB) rewriteBlockTx(ctx context.Context, tx pgx.Tx, gid int64, b storedBlock, keep func(*logblock.Entry) bool) (int64, error) {
	entries, err := db.blocks.Decode(b.data, b.base, b.sid)
	if err != nil {
		return 0, fmt.Errorf("block %d: %w", b.id, err)
	}
	kept := entries[:0]
	for i := range entries {
		if e := entries[i]; keep(&e) {
			kept = append(kept, e)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM log_blocks WHERE id = $1`, b.id); err != nil {
		return 0, fmt.Errorf("delete log block: %w", err)
	}
	if len(kept) > 0 {
		if err := insertBlocksTx(ctx, tx, gid, 0, 0, []pendingBlock{db.newBlock(kept, logblock.Small)}); err != nil {
			return 0, err
		}
	}
	return int64(len(entries) - len(kept)), nil
}

// deleteStreamEventsTx deletes the events of stream sid of group gid: its own blocks, and its
// events in the group's blocks of several streams, rewritten without them.
func (db *DB) deleteStreamEventsTx(ctx context.Context, tx pgx.Tx, gid, sid int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM log_blocks WHERE stream_id = $1`, sid); err != nil {
		return fmt.Errorf("delete log events: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, seq_base, streams FROM log_blocks WHERE group_id = $1 AND stream_id = 0`, gid)
	if err != nil {
		return fmt.Errorf("find log blocks: %w", err)
	}
	var todo []storedBlock
	for rows.Next() {
		var (
			b       storedBlock
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
		if err := tx.QueryRow(ctx, `SELECT data FROM log_blocks WHERE id = $1`, b.id).Scan(&b.data); err != nil {
			return fmt.Errorf("read log block: %w", err)
		}
		if _, err := db.rewriteBlockTx(ctx, tx, gid, b, func(e *logblock.Entry) bool { return e.StreamID != sid }); err != nil {
			return err
		}
	}
	return nil
}

// compactEvery is the least time between two compaction rounds of one replica.
const compactEvery = time.Second

// kickCompactor wakes the compactor without waiting.
func (db *DB) kickCompactor() {
	select {
	case db.compactKick <- struct{}{}:
	default:
	}
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
		if err != nil && db.logger != nil {
			select {
			case <-db.quit:
				return
			default:
			}
			db.logger.Warn("compact log blocks", "err", err)
		}
		if n > 0 {
			// A round that merged blocks may have left some (maxHourRounds): the next round
			// comes without waiting for another append, which the end of a burst never sends.
			db.kickCompactor()
		}
		select {
		case <-db.quit:
			return
		case <-time.After(compactEvery):
		}
	}
}

// CompactBlocks merges small log blocks as SQLite's CompactBlocks does: for each group and hour
// holding two or more blocks that are not full (logblock.Meta.Full), once they add up to a full
// block or the hour is over, it merges them (logblock.Plan; the full blocks stay as they are) into
// full blocks and at most one smaller one. The merge is computed outside any transaction; the transaction, under the group's row lock, replaces the
// blocks only if all of them still exist (another replica's compaction, an expiry or a deletion may
// have removed some). It returns how many blocks it removed.
func (db *DB) CompactBlocks(ctx context.Context) (int, error) {
	var small int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM log_blocks WHERE `+smallBlock+` LIMIT 2) s`).Scan(&small); err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	if small < 2 {
		return 0, nil
	}
	closed := logblock.Bucket(db.now().UnixMilli()) - 1
	rows, err := db.pool.Query(ctx, dueHoursSQL, logblock.TargetEvents, logblock.FullRawBytes, closed)
	if err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	type candidate struct{ gid, bucket int64 }
	cands, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (candidate, error) {
		var c candidate
		err := r.Scan(&c.gid, &c.bucket)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("find small log blocks: %w", err)
	}
	// An hour that fails (a block that does not decode) is reported and the others merged still:
	// stopping at it left every hour after it unmerged, round after round.
	removed := 0
	var errs []error
	for _, c := range cands {
		// An hour with more small blocks than one merge takes is merged again at once.
		n, err := logblock.CompactHour(maxHourRounds, func() (int, error) { return db.compactOne(ctx, c.gid, c.bucket) },
			func() (bool, error) { return db.hourBacklog(ctx, c.gid, c.bucket, closed) })
		removed += n
		if err != nil {
			if ctx.Err() != nil {
				return removed, err
			}
			errs = append(errs, fmt.Errorf("log group %d, hour %d: %w", c.gid, c.bucket, err))
		}
	}
	return removed, errors.Join(errs...)
}

// CompactBacklog returns how many hours of log groups hold small blocks that a compaction round
// would merge (CompactBlocks' criterion), whichever replica merges them.
func (db *DB) CompactBacklog(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (`+dueHoursSQL+`) s`,
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
	err := db.pool.QueryRow(ctx, `SELECT count(*), coalesce(sum(count), 0), coalesce(sum(raw_bytes), 0) FROM log_blocks
		WHERE group_id = $1 AND bucket = $2 AND `+smallBlock,
		gid, bucket).Scan(&n, &events, &bytes)
	if err != nil {
		return false, fmt.Errorf("find small log blocks: %w", err)
	}
	return logblock.Due(int(n), events, bytes, bucket, closed), nil
}

// smallBlock is the SQL of a block that is not full (logblock.Meta.Full), the predicate of the
// partial index log_blocks_small (schema 100) written the same way: with literals, not
// parameters, a generic plan can use that index too (TestSmallBlockIndex).
const smallBlock = `count < 1024 AND raw_bytes < 491520`

// dueHoursSQL selects the (group_id, bucket) of the hours a compaction round merges
// (logblock.Due), given logblock.TargetEvents, logblock.FullRawBytes and the first open bucket.
const dueHoursSQL = `SELECT group_id, bucket FROM log_blocks WHERE ` + smallBlock + `
	GROUP BY group_id, bucket HAVING count(*) >= 2 AND (sum(count) >= $1 OR sum(raw_bytes) >= $2 OR bucket < $3)`

// compactOne runs a compaction round of one group and bucket, as SQLite's does: logblock plans it
// (the small blocks, up to a bound) and merges it; compactHour reads and replaces the blocks. A block
// gone meanwhile (another replica's round, an expiry, a deletion) ends the round.
func (db *DB) compactOne(ctx context.Context, gid, bucket int64) (int, error) {
	return db.blocks.Compact(&compactHour{ctx: ctx, db: db, gid: gid, bucket: bucket})
}

// compactHour is logblock.CompactStore over the blocks of one group and bucket. It reads the
// blocks' rows first and their data one block at a time, outside any transaction.
type compactHour struct {
	ctx         context.Context
	db          *DB
	gid, bucket int64
}

// SmallBlocks implements logblock.CompactStore: the hour's blocks that are not full, by MinTS, read
// through the pool, outside any transaction (Replace checks that they are still there).
func (h *compactHour) SmallBlocks(fn func(logblock.Meta) bool) error {
	rows, err := h.db.pool.Query(h.ctx, `SELECT id, stream_id, count, raw_bytes, seq_base, min_ts, max_ts, min_seq, max_seq FROM log_blocks
		WHERE group_id = $1 AND bucket = $2 AND `+smallBlock+` ORDER BY min_ts`,
		h.gid, h.bucket)
	if err != nil {
		return fmt.Errorf("read small log blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanCompactMeta(rows)
		if err != nil {
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

// scanCompactMeta scans the columns id, stream_id, count, raw_bytes, seq_base, min_ts, max_ts, min_seq, max_seq.
func scanCompactMeta(rows pgx.Rows) (logblock.Meta, error) {
	var (
		m     logblock.Meta
		count int32
	)
	err := rows.Scan(&m.ID, &m.StreamID, &count, &m.RawBytes, &m.SeqBase, &m.MinTS, &m.MaxTS, &m.MinSeq, &m.MaxSeq)
	m.Count = int(count)
	return m, err
}

// Load implements logblock.CompactStore: a block's encoded bytes, or logblock.ErrGone when it was
// deleted since the round listed it.
func (h *compactHour) Load(m logblock.Meta) ([]byte, error) {
	var data []byte
	err := h.db.pool.QueryRow(h.ctx, `SELECT data FROM log_blocks WHERE id = $1`, m.ID).Scan(&data)
	if errNoRows(err) {
		return nil, logblock.ErrGone
	}
	if err != nil {
		return nil, fmt.Errorf("read log block: %w", err)
	}
	return data, nil
}

// Replace deletes the merged blocks and inserts the new ones in one transaction under the group's
// row lock, which appends, expiry and other replicas' rounds of the group take too, if the group
// still exists and the DELETE removed every one of them; two replicas merging one hour leave one
// result. The ids suffice here: an identity column never gives a deleted row's id to another, and
// a rewrite stores a new row.
func (h *compactHour) Replace(old []logblock.Meta, blocks []logblock.Compacted) error {
	ids := make([]int64, len(old))
	for i, m := range old {
		ids[i] = m.ID
	}
	merged := make([]pendingBlock, len(blocks))
	for i, b := range blocks {
		merged[i] = pendingBlock{entries: b.Entries, data: b.Data, meta: b.Meta}
	}
	return h.db.withTx(h.ctx, func(tx pgx.Tx) error {
		if ok, err := lockGroup(h.ctx, tx, h.gid); err != nil {
			return err
		} else if !ok {
			return logblock.ErrGone
		}
		tag, err := tx.Exec(h.ctx, `DELETE FROM log_blocks WHERE id = ANY($1)`, ids)
		if err != nil {
			return fmt.Errorf("delete merged log blocks: %w", err)
		}
		if int(tag.RowsAffected()) != len(ids) {
			return logblock.ErrGone
		}
		return insertBlocksTx(h.ctx, tx, h.gid, 0, 0, merged)
	})
}
