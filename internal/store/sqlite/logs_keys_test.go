package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// keyedBatch is a batch of one event per key of stream s, event i at ts[i].
func keyedBatch(stream string, ts []int64, keys []string) logs.AppendBatch {
	b := logs.AppendBatch{LogGroupName: "ct", LogStreamName: stream, CreateStream: true, DedupKeys: keys, IngestionTime: 1}
	for i, t := range ts {
		b.Events = append(b.Events, logs.InputLogEvent{Timestamp: t, Message: fmt.Sprintf("%s@%d", keys[i], t)})
	}
	return b
}

func openKeysDB(t *testing.T, dir string, cacheKeys int) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir, Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }, DedupCacheKeys: cacheKeys})
	mustOK(t, err)
	return db
}

// TestDedupKeysetsExact appends keyed events over many minutes through a key cache too small to
// hold them, so minutes are evicted and read again from their keysets, and checks that every key
// is recognised at its timestamp (and only there) before and after a reopen, which starts with an
// empty cache.
func TestDedupKeysetsExact(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openKeysDB(t, dir, 25)
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct"}))
	var ts []int64
	var keys []string
	for i := range 400 {
		ts = append(ts, int64(i)*7_000) // 400 events over 46 minutes, several per minute
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	for start := 0; start < len(ts); start += 50 {
		res, err := db.AppendUnique(ctx, svcScope, keyedBatch(fmt.Sprint("s", start%150), ts[start:start+50], keys[start:start+50]))
		mustOK(t, err)
		if slices.Contains(res.Duplicate, true) {
			t.Fatalf("batch at %d: duplicates %v among new keys", start, res.Duplicate)
		}
	}
	check := func(db *DB, when string, off int64) {
		t.Helper()
		// Every key again, in an order that walks the minutes back and forth: all duplicates.
		order := make([]int, len(ts))
		for i := range order {
			order[i] = (i * 37) % len(ts)
		}
		for _, i := range order {
			res, err := db.AppendUnique(ctx, svcScope, keyedBatch("s0", ts[i:i+1], keys[i:i+1]))
			mustOK(t, err)
			if !res.Duplicate[0] {
				t.Fatalf("%s: key %s at %d stored again", when, keys[i], ts[i])
			}
		}
		// The same key at another timestamp is another event.
		res, err := db.AppendUnique(ctx, svcScope, keyedBatch("s0", []int64{ts[10] + off}, []string{keys[10]}))
		mustOK(t, err)
		if res.Duplicate[0] {
			t.Fatalf("%s: key %s at another timestamp taken for a duplicate", when, keys[10])
		}
	}
	check(db, "evicting", 1)
	mustOK(t, db.Close())
	db = openKeysDB(t, dir, 0)
	defer db.Close()
	check(db, "after reopen", 2)
	var n int
	mustOK(t, db.read.QueryRow(`SELECT count(*) FROM log_dedup`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d rows in log_dedup: new keys belong in log_keysets", n)
	}
}

// TestDedupFailedTransactionForgetsKeys stores keys in a transaction that then fails: its savepoint
// rolls back, and the key cache must forget them, or the events would never be stored.
func TestDedupFailedTransactionForgetsKeys(t *testing.T) {
	ctx := context.Background()
	db := openKeysDB(t, t.TempDir(), 0)
	defer db.Close()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct"}))
	// Load the minute into the cache first, so that the failing transaction adds to a loaded unit.
	_, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{60_000}, []string{"first"}))
	mustOK(t, err)
	boom := errors.New("boom")
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		gid, err := logGroupID(ctx, tx, svcScope, "ct")
		if err != nil {
			return err
		}
		events := []logs.InputLogEvent{{Timestamp: 60_001, Message: "x"}}
		hashes := [][]byte{dedupHash("lost")}
		dup := []bool{false}
		if _, err := db.checkKeysTx(ctx, tx, gid, events, hashes, dup); err != nil {
			return err
		}
		if err := db.insertKeysetsTx(ctx, tx, gid, 1, events, hashes, dup); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction: %v, want boom", err)
	}
	res, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{60_001}, []string{"lost"}))
	mustOK(t, err)
	if res.Duplicate[0] {
		t.Fatal("a key of a rolled-back transaction is taken for a stored one")
	}
}

// TestKeyCacheGroupFailureEmpties checks the cache's bookkeeping of group commits: a unit loaded or
// changed in a group that does not commit is forgotten, and keys of a failed transaction go while
// those of the group's successful ones stay until the group's outcome.
func TestKeyCacheGroupFailureEmpties(t *testing.T) {
	c := newKeyCache(100)
	u := keyUnit{1, 5}
	k1, k2 := keyEntry{ts: 300_000}, keyEntry{ts: 300_001}
	c.beginFn()
	c.put(u, map[keyEntry]struct{}{})
	c.add(1, []keyEntry{k1})
	c.endFn(true)
	c.beginFn()
	c.add(1, []keyEntry{k2})
	c.endFn(false)
	if found, _ := c.has(u, k1); !found {
		t.Fatal("the successful transaction's key is gone")
	}
	if found, _ := c.has(u, k2); found {
		t.Fatal("the failed transaction's key stayed")
	}
	c.endGroup(true)
	if found, loaded := c.has(u, k1); !found || !loaded {
		t.Fatal("a committed group's key is gone")
	}
	c.beginFn()
	c.add(1, []keyEntry{k2})
	c.endFn(true)
	c.endGroup(false)
	if _, loaded := c.has(u, k1); loaded {
		t.Fatal("a group that did not commit left its units in the cache")
	}
	if c.size != 0 {
		t.Fatalf("size %d after emptying", c.size)
	}
}

// TestKeyCacheEvictsLeastRecentlyUsed checks the bound: loading past the limit evicts the units
// used least recently, never the one just loaded.
func TestKeyCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newKeyCache(4)
	unit := func(m int64, n int) (keyUnit, map[keyEntry]struct{}) {
		keys := map[keyEntry]struct{}{}
		for i := range n {
			keys[keyEntry{ts: m*60000 + int64(i)}] = struct{}{}
		}
		return keyUnit{1, m}, keys
	}
	u1, k1 := unit(1, 2)
	u2, k2 := unit(2, 2)
	c.put(u1, k1)
	c.put(u2, k2)
	c.has(u1, keyEntry{}) // u1 is now more recent than u2
	u3, k3 := unit(3, 2)
	c.put(u3, k3)
	if _, loaded := c.has(u2, keyEntry{}); loaded {
		t.Fatal("the least recently used unit was kept")
	}
	for _, u := range []keyUnit{u1, u3} {
		if _, loaded := c.has(u, keyEntry{}); !loaded {
			t.Fatalf("unit %v evicted", u)
		}
	}
	u4, k4 := unit(4, 10) // larger than the limit alone: kept, everything else goes
	c.put(u4, k4)
	if _, loaded := c.has(u4, keyEntry{}); !loaded || len(c.units) != 1 || c.size != 10 {
		t.Fatalf("after an oversized unit: %d units, size %d", len(c.units), c.size)
	}
}

// TestDedupKeysExpireWithTheirEvents expires a group whose keyset straddles the cutoff: the key
// older than the cutoff is freed (its event is gone) and the newer one is kept, as log_dedup's rows
// were deleted key by key.
func TestDedupKeysExpireWithTheirEvents(t *testing.T) {
	ctx := context.Background()
	db := openKeysDB(t, t.TempDir(), 0)
	defer db.Close()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct", RetentionInDays: 1}))
	const day = 24 * 60 * 60 * 1000
	now := int64(10*day + 30*60*1000) // the cutoff falls mid-hour: both keys share a bucket, so one keyset
	cutoff := now - day
	// One batch, one keyset: a key just before the cutoff, one just after (same hour bucket).
	_, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{cutoff - 1000, cutoff + 1000}, []string{"old", "new"}))
	mustOK(t, err)
	_, err = db.ExpireEvents(ctx, now)
	mustOK(t, err)
	res, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{cutoff - 1000, cutoff + 1000}, []string{"old", "new"}))
	mustOK(t, err)
	if !slices.Equal(res.Duplicate, []bool{false, true}) {
		t.Fatalf("duplicates %v after expiry, want [false true]: the expired key freed, the kept one still known", res.Duplicate)
	}
	// The straddling keyset was rewritten: only the kept key (and the re-stored old one) remain.
	var sets, minTS int64
	mustOK(t, db.read.QueryRow(`SELECT count(*), min(min_ts) FROM log_keysets`).Scan(&sets, &minTS))
	if sets != 2 || minTS != cutoff-1000 {
		t.Fatalf("%d keysets, least min_ts %d", sets, minTS)
	}
}

// FuzzDecodeKeyset checks that any bytes decode without panicking and that encoded keysets decode
// to what was encoded.
func FuzzDecodeKeyset(f *testing.F) {
	f.Add([]byte{}, int64(0))
	f.Add(encodeKeyset([]keyEntry{{ts: 5}, {ts: 9, hash: [16]byte{1}}}), int64(5))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, int64(-1))
	f.Fuzz(func(t *testing.T, b []byte, minTS int64) {
		var got []keyEntry
		if err := decodeKeyset(b, minTS, func(k keyEntry) { got = append(got, k) }); err != nil {
			return
		}
		if len(got) == 0 {
			return
		}
		// What decoded re-encodes to a keyset decoding to the same keys.
		var again []keyEntry
		if err := decodeKeyset(encodeKeyset(got), got[0].ts, func(k keyEntry) { again = append(again, k) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, again) {
			t.Fatalf("round trip changed the keys: %v, %v", got, again)
		}
	})
}

// TestExpireSkipsARecreatedGroup lists a group's retention, deletes the group and creates another
// that takes its id (SQLite reuses the largest) with a longer retention, then expires with the
// stale listing: nothing of the new group may go.
func TestExpireSkipsARecreatedGroup(t *testing.T) {
	ctx := context.Background()
	db := openKeysDB(t, t.TempDir(), 0)
	defer db.Close()
	const day = 24 * 60 * 60 * 1000
	now := int64(30 * day)
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "old", RetentionInDays: 1}))
	var id int64
	mustOK(t, db.read.QueryRow(`SELECT id FROM log_groups WHERE name = 'old'`).Scan(&id))
	stale := retention{id: id, days: 1, cutoff: now - day}
	mustOK(t, db.DeleteLogGroup(ctx, svcScope, "old"))
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "ct", RetentionInDays: 7}))
	var newID int64
	mustOK(t, db.read.QueryRow(`SELECT id FROM log_groups WHERE name = 'ct'`).Scan(&newID))
	if newID != id {
		t.Skipf("SQLite gave the new group id %d, not the deleted one's %d", newID, id)
	}
	// Two days old: within the new group's seven days, past the stale one day.
	_, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{now - 2*day}, []string{"k"}))
	mustOK(t, err)
	n, err := db.expireGroup(ctx, stale)
	mustOK(t, err)
	if n != 0 {
		t.Fatalf("the stale listing expired %d events of the new group", n)
	}
	res, err := db.AppendUnique(ctx, svcScope, keyedBatch("s", []int64{now - 2*day}, []string{"k"}))
	mustOK(t, err)
	if !res.Duplicate[0] {
		t.Fatal("the stale listing expired the new group's dedup key")
	}
}
