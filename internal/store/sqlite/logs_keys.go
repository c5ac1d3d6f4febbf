package sqlite

import (
	"bytes"
	"cmp"
	"container/list"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Duplicate suppression (schema 162). A group that suppresses duplicates identifies an event by
// its timestamp and the 16-byte hash of its key (dedupHash), as log_dedup did with one B-tree row
// per event. Inserting those rows was the committer's largest cost on CloudTrail ingest, a quarter
// of BenchmarkObjectIngest's time: an append now stores the keys it kept as one keyset per hour
// bucket (log_keysets, a BLOB of sorted pairs), and the committer decides which keys are new
// against keyCache, an in-memory set of the keys of each recent minute of each group, loaded from
// the keysets the first time a batch touches that minute. Since only the committer writes, and it
// checks and stores in the same transaction, the decision is exactly the one the B-tree gave.
//
// log_dedup keeps the keys stored before schema 162 (the conversion of schema 161 put them there);
// loading a minute reads its rows too, and retention and deletion still remove them.

// keyBytes is the size of a stored key hash (dedupHash).
const keyBytes = 16

// keyEntry is one stored key: an event's timestamp and its key's hash.
type keyEntry struct {
	ts   int64
	hash [keyBytes]byte
}

// keyUnit is what keyCache loads and evicts at once: the keys of one group with timestamps in one
// minute. A CloudTrail batch spans seconds to minutes of one account and region, so it touches
// few units, and a unit of a busy organization (60,000 keys at 1,000 events per second) loads in
// milliseconds.
type keyUnit struct {
	gid    int64
	minute int64 // floor(ts / 60,000)
}

// unitOf returns the unit of a timestamp of group gid.
func unitOf(gid, ts int64) keyUnit {
	m := ts / 60000
	if ts%60000 < 0 {
		m--
	}
	return keyUnit{gid, m}
}

// defaultDedupCacheKeys is Options.DedupCacheKeys's default. A Go map of these keys, grown as a
// minute loads, takes up to 80 bytes a key (measured: 84 MB for 2^20 keys), so this is about 42 MB:
// the last nine minutes of a group ingesting a thousand CloudTrail events a second, and hours at
// ordinary rates. A minute evicted is read again from its keysets when a batch needs it, which costs
// milliseconds, not a wrong answer.
const defaultDedupCacheKeys = 1 << 19

// keyCache holds the keys of recently used units. The committer reads and changes it inside its
// transactions and tells it how each ended (beginFn/endFn/endGroup), so that it always reflects
// what the database holds for the transaction in progress: keys a failed transaction added are
// taken out again, and a group whose COMMIT failed empties the cache, since units loaded during it
// saw writes that did not commit. Other goroutines may read it (likelyRepeat) under mu.
type keyCache struct {
	mu    sync.Mutex
	units map[keyUnit]*unitKeys
	size  int // keys held in all units
	limit int
	// lru orders the loaded units, most recently used first: eviction takes from the back without
	// looking at every unit, which many quiet groups would make thousands.
	lru list.List // of keyUnit
	// fnAdded are the keys the running transaction added, undone if it fails; groupDirty says
	// that the open group changed the cache, which a failed COMMIT then empties.
	fnAdded    []addedKey
	groupDirty bool
}

// unitKeys is one loaded unit.
type unitKeys struct {
	keys map[keyEntry]struct{}
	elem *list.Element // in keyCache.lru
}

// addedKey is a key a transaction added to a unit.
type addedKey struct {
	unit keyUnit
	key  keyEntry
}

func newKeyCache(limit int) *keyCache {
	if limit <= 0 {
		limit = defaultDedupCacheKeys
	}
	return &keyCache{units: map[keyUnit]*unitKeys{}, limit: limit}
}

// beginFn starts a transaction of the committer's group.
func (c *keyCache) beginFn() {
	c.mu.Lock()
	c.fnAdded = c.fnAdded[:0]
	c.mu.Unlock()
}

// endFn ends a transaction: when it failed (its savepoint rolled back), the keys it added go.
func (c *keyCache) endFn(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		for _, a := range c.fnAdded {
			if u := c.units[a.unit]; u != nil {
				if _, found := u.keys[a.key]; found {
					delete(u.keys, a.key)
					c.size--
				}
			}
		}
	}
	c.fnAdded = c.fnAdded[:0]
}

// endGroup ends the committer's group: committed or not. A group that changed the cache and did
// not commit empties it.
func (c *keyCache) endGroup(committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !committed && c.groupDirty {
		c.units, c.size = map[keyUnit]*unitKeys{}, 0
		c.lru.Init()
	}
	c.groupDirty = false
}

// dropGroup forgets every unit of group gid, after a change of its keys other than an append
// (a stream's or the group's deletion, expiry); they load again from the database when needed.
func (c *keyCache) dropGroup(gid int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for u := range c.units {
		if u.gid == gid {
			c.remove(u)
		}
	}
}

// remove forgets a loaded unit.
func (c *keyCache) remove(u keyUnit) {
	k := c.units[u]
	c.size -= len(k.keys)
	c.lru.Remove(k.elem)
	delete(c.units, u)
}

// has reports whether a loaded unit holds key, and whether the unit is loaded.
func (c *keyCache) has(u keyUnit, key keyEntry) (found, loaded bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.units[u]
	if k == nil {
		return false, false
	}
	c.lru.MoveToFront(k.elem)
	_, found = k.keys[key]
	return found, true
}

// put installs a unit the committer loaded, evicting the least recently used units beyond the
// limit (never the one installed).
func (c *keyCache) put(u keyUnit, keys map[keyEntry]struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.units[u] != nil {
		c.remove(u)
	}
	c.units[u] = &unitKeys{keys: keys, elem: c.lru.PushFront(u)}
	c.size += len(keys)
	c.groupDirty = true
	for c.size > c.limit && len(c.units) > 1 {
		c.remove(c.lru.Back().Value.(keyUnit)) // never u, which is at the front
	}
}

// add records keys the running transaction stored, in the units that are loaded (the others read
// them from the database when loaded).
func (c *keyCache) add(gid int64, keys []keyEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		u := unitOf(gid, key.ts)
		k := c.units[u]
		if k == nil {
			continue
		}
		if _, found := k.keys[key]; !found {
			k.keys[key] = struct{}{}
			c.size++
			c.fnAdded = append(c.fnAdded, addedKey{u, key})
			c.groupDirty = true
		}
	}
}

// loadUnitTx reads the keys of unit u from the keysets meeting its minute and from log_dedup.
func (db *DB) loadUnitTx(ctx context.Context, tx *sql.Tx, u keyUnit) (map[keyEntry]struct{}, error) {
	lo, hi := u.minute*60000, u.minute*60000+59999
	keys := map[keyEntry]struct{}{}
	stmt, err := db.txStmt(ctx, tx, stmtKey{loadKeysetsSQL, 0}, nil)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.QueryContext(ctx, u.gid, logblock.Bucket(lo), hi, lo)
	if err != nil {
		return nil, fmt.Errorf("read dedup keys: %w", err)
	}
	for rows.Next() {
		var (
			minTS int64
			blob  []byte
		)
		if err := rows.Scan(&minTS, &blob); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read dedup keys: %w", err)
		}
		err := decodeKeyset(blob, minTS, func(k keyEntry) {
			if k.ts >= lo && k.ts <= hi {
				keys[k] = struct{}{}
			}
		})
		if err != nil {
			rows.Close()
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dedup keys: %w", err)
	}
	legacy, err := db.txStmt(ctx, tx, stmtKey{legacyKeysSQL, 0}, nil)
	if err != nil {
		return nil, err
	}
	rows, err = legacy.QueryContext(ctx, u.gid, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read dedup keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k    keyEntry
			hash []byte
		)
		if err := rows.Scan(&k.ts, &hash); err != nil {
			return nil, fmt.Errorf("read dedup keys: %w", err)
		}
		if len(hash) != keyBytes {
			return nil, fmt.Errorf("read dedup keys: %w", errCorruptKeyset)
		}
		copy(k.hash[:], hash)
		keys[k] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dedup keys: %w", err)
	}
	return keys, nil
}

const (
	// loadKeysetsSQL finds the keysets of a group whose range meets a minute: those of its bucket
	// starting before the minute's end and ending at or after its start.
	loadKeysetsSQL = `SELECT min_ts, keys FROM log_keysets WHERE group_id = ? AND bucket = ? AND min_ts <= ? AND max_ts >= ?`
	// legacyKeysSQL reads the keys stored before schema 162 in a minute.
	legacyKeysSQL   = `SELECT ts, key FROM log_dedup WHERE group_id = ? AND ts >= ? AND ts <= ?`
	insertKeysetSQL = `INSERT INTO log_keysets (group_id, stream_id, bucket, min_ts, max_ts, keys) VALUES (?, ?, ?, ?, ?, ?)`
)

// checkKeysTx marks in dup the events whose key group gid already holds at their timestamp,
// among the keyed events (hashes[i] != nil) not yet marked, loading the units they fall in, and
// reports whether it marked any.
func (db *DB) checkKeysTx(ctx context.Context, tx *sql.Tx, gid int64, events []logs.InputLogEvent, hashes [][]byte, dup []bool) (bool, error) {
	again := false
	for i, h := range hashes {
		if h == nil || dup[i] {
			continue
		}
		key := keyEntry{ts: events[i].Timestamp}
		copy(key.hash[:], h)
		u := unitOf(gid, key.ts)
		found, loaded := db.keys.has(u, key)
		if !loaded {
			keys, err := db.loadUnitTx(ctx, tx, u)
			if err != nil {
				return false, err
			}
			_, found = keys[key]
			db.keys.put(u, keys)
		}
		if found {
			dup[i], again = true, true
		}
	}
	return again, nil
}

// insertKeysetsTx stores the keys of the batch's stored keyed events (not marked in dup) as one
// keyset per hour bucket, and adds them to the cache.
func (db *DB) insertKeysetsTx(ctx context.Context, tx *sql.Tx, gid, sid int64, events []logs.InputLogEvent, hashes [][]byte, dup []bool) error {
	var keys []keyEntry
	for i, h := range hashes {
		if h != nil && !dup[i] {
			k := keyEntry{ts: events[i].Timestamp}
			copy(k.hash[:], h)
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, compareKeys)
	stmt, err := db.txStmt(ctx, tx, stmtKey{insertKeysetSQL, 0}, nil)
	if err != nil {
		return err
	}
	for start := 0; start < len(keys); {
		b := logblock.Bucket(keys[start].ts)
		end := start + 1
		for end < len(keys) && logblock.Bucket(keys[end].ts) == b {
			end++
		}
		run := keys[start:end]
		if _, err := stmt.ExecContext(ctx, gid, sid, b, run[0].ts, run[len(run)-1].ts, encodeKeyset(run)); err != nil {
			return fmt.Errorf("insert dedup keys: %w", err)
		}
		start = end
	}
	db.keys.add(gid, keys)
	return nil
}

// compareKeys orders keys by timestamp, then hash.
func compareKeys(a, b keyEntry) int {
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	return bytes.Compare(a.hash[:], b.hash[:])
}

// Keyset encoding: for each key in (timestamp, hash) order, the uvarint of its timestamp minus the
// previous key's (the first key's minus the row's min_ts, so 0), then its 16-byte hash. About 17
// bytes a key, against about 40 for a log_dedup row and its B-tree.

var errCorruptKeyset = errors.New("corrupt dedup keyset")

// encodeKeyset encodes sorted keys.
func encodeKeyset(keys []keyEntry) []byte {
	out := make([]byte, 0, len(keys)*(keyBytes+2))
	prev := keys[0].ts
	for _, k := range keys {
		out = binary.AppendUvarint(out, uint64(k.ts-prev))
		out = append(out, k.hash[:]...)
		prev = k.ts
	}
	return out
}

// decodeKeyset calls fn with each key of a keyset whose row has min_ts minTS.
func decodeKeyset(b []byte, minTS int64, fn func(keyEntry)) error {
	ts := minTS
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 || d > 1<<62 || len(b) < n+keyBytes {
			return errCorruptKeyset
		}
		next := ts + int64(d)
		if next < ts {
			return errCorruptKeyset
		}
		ts = next
		var k keyEntry
		k.ts = ts
		copy(k.hash[:], b[n:n+keyBytes])
		fn(k)
		b = b[n+keyBytes:]
	}
	return nil
}

// expireKeysetsTx deletes up to expireKeys keysets of group gid whose keys are all older than
// cutoff, or, when none are left, rewrites those holding keys on both sides of it without the
// older ones, so that a key expires exactly when its event does, as log_dedup's rows did. It
// returns whether there may be more to do.
func (db *DB) expireKeysetsTx(ctx context.Context, tx *sql.Tx, gid, cutoff int64) (bool, error) {
	defer db.keys.dropGroup(gid)
	r, err := tx.ExecContext(ctx, `DELETE FROM log_keysets WHERE id IN (SELECT id FROM log_keysets
		WHERE group_id = ? AND bucket <= ? AND max_ts < ? LIMIT ?)`, gid, logblock.Bucket(cutoff), cutoff, expireKeys)
	if err != nil {
		return false, fmt.Errorf("delete expired dedup keys: %w", err)
	}
	if n, err := r.RowsAffected(); err != nil || n > 0 {
		return err == nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, min_ts, keys FROM log_keysets
		WHERE group_id = ? AND bucket = ? AND min_ts < ? AND max_ts >= ?`, gid, logblock.Bucket(cutoff), cutoff, cutoff)
	if err != nil {
		return false, fmt.Errorf("read expiring dedup keys: %w", err)
	}
	type rewrite struct {
		id   int64
		keys []keyEntry
	}
	var todo []rewrite
	for rows.Next() {
		var (
			w     rewrite
			minTS int64
			blob  []byte
		)
		if err := rows.Scan(&w.id, &minTS, &blob); err != nil {
			rows.Close()
			return false, fmt.Errorf("read expiring dedup keys: %w", err)
		}
		if err := decodeKeyset(blob, minTS, func(k keyEntry) {
			if k.ts >= cutoff {
				w.keys = append(w.keys, k)
			}
		}); err != nil {
			rows.Close()
			return false, err
		}
		todo = append(todo, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read expiring dedup keys: %w", err)
	}
	for _, w := range todo {
		// A keyset straddling the cutoff keeps at least one key at or after it.
		if _, err := tx.ExecContext(ctx, `UPDATE log_keysets SET min_ts = ?, keys = ? WHERE id = ?`,
			w.keys[0].ts, encodeKeyset(w.keys), w.id); err != nil {
			return false, fmt.Errorf("rewrite expiring dedup keys: %w", err)
		}
	}
	return false, nil
}
