package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// fillGroup appends batches of incompressible events to a new group, so that its blocks take
// pages of their own.
func fillGroup(t *testing.T, db *DB, name string, now time.Time, batches int) {
	t.Helper()
	ctx := context.Background()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: name, LogGroupClass: "STANDARD"}))
	mustOK(t, db.CreateLogStream(ctx, svcScope, name, logs.LogStream{Name: "s"}))
	buf := make([]byte, 500)
	for i := range batches {
		evs := make([]logs.InputLogEvent, 500)
		for j := range evs {
			rand.Read(buf)
			evs[j] = logs.InputLogEvent{Timestamp: now.UnixMilli() - int64(i*1000+j), Message: hex.EncodeToString(buf)}
		}
		slices.Reverse(evs)
		_, err := db.AppendEvents(ctx, svcScope, logs.AppendBatch{LogGroupName: name, LogStreamName: "s", Events: evs, IngestionTime: now.UnixMilli()})
		mustOK(t, err)
	}
}

func pragmaInt(t *testing.T, db *DB, name string) int64 {
	t.Helper()
	var n int64
	mustOK(t, db.read.QueryRowContext(context.Background(), "SELECT * FROM pragma_"+name).Scan(&n))
	return n
}

// TestReclaimFreePages checks that a new database is created with 16 KiB pages in
// auto_vacuum=INCREMENTAL mode, and that reclaimFreePages hands the free pages a deleted group left
// back to the file system, down to its reserve, without touching another group's events.
func TestReclaimFreePages(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{Now: func() time.Time { return now }, noCompactor: true})
	mustOK(t, err)
	defer db.Close()
	if got := pragmaInt(t, db, "auto_vacuum"); got != 2 {
		t.Fatalf("auto_vacuum %d, want 2 (incremental)", got)
	}
	if got := pragmaInt(t, db, "page_size"); got != 16384 {
		t.Fatalf("page_size %d, want 16384", got)
	}
	fillGroup(t, db, "keep", now, 4)
	fillGroup(t, db, "drop", now, 100) // 50,000 events of 1 KB: more free pages than one call vacuums
	q := logs.EventQuery{LogGroupName: "keep"}
	before := eventsOf(t, db, q)
	mustOK(t, db.DeleteLogGroup(ctx, svcScope, "drop"))
	pages, free := pragmaInt(t, db, "page_count"), pragmaInt(t, db, "freelist_count")
	if free < minFreePages+maxReclaim+minReclaim {
		t.Fatalf("%d free pages of %d after the deletion: the test frees too little", free, pages)
	}
	// One call vacuums at most maxReclaim pages; calls follow until the reserve is left.
	reserve := max(minFreePages, pages/freeFraction)
	for calls := 1; ; calls++ {
		before := pragmaInt(t, db, "freelist_count")
		n, err := db.reclaimFreePages(ctx)
		mustOK(t, err)
		if before-reserve >= minReclaim && n != min(before-reserve, maxReclaim) {
			t.Fatalf("call %d vacuumed %d pages, want %d (%d free, reserve %d)", calls, n, min(before-reserve, maxReclaim), before, reserve)
		}
		if got := pragmaInt(t, db, "freelist_count"); got != before-n {
			t.Fatalf("call %d: %d free pages after vacuuming %d of %d", calls, got, n, before)
		}
		if n == 0 {
			break
		}
		if int64(calls) > free/maxReclaim+2 {
			t.Fatalf("%d calls and still vacuuming", calls)
		}
		reserve = max(minFreePages, pragmaInt(t, db, "page_count")/freeFraction)
	}
	if got := pragmaInt(t, db, "freelist_count"); got > reserve+minReclaim {
		t.Fatalf("%d free pages after the vacuums, want at most %d", got, reserve+minReclaim)
	}
	if after := eventsOf(t, db, q); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the kept group's events changed: %d, had %d", len(after), len(before))
	}
}

// TestReclaimFreePagesOldDatabase checks that a database created before auto_vacuum was set (its
// file had tables) keeps auto_vacuum=NONE, and that reclaimFreePages leaves it alone.
func TestReclaimFreePagesOldDatabase(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	mustOK(t, err)
	_, err = old.Exec(`CREATE TABLE unrelated (x)`)
	mustOK(t, err)
	mustOK(t, old.Close())
	db, err := Open(ctx, dir, Options{Now: func() time.Time { return now }, noCompactor: true})
	mustOK(t, err)
	defer db.Close()
	if got := pragmaInt(t, db, "auto_vacuum"); got != 0 {
		t.Fatalf("auto_vacuum %d, want 0: a database with tables keeps its mode", got)
	}
	fillGroup(t, db, "drop", now, 40)
	mustOK(t, db.DeleteLogGroup(ctx, svcScope, "drop"))
	if n, err := db.reclaimFreePages(ctx); err != nil || n != 0 {
		t.Fatalf("vacuumed %d pages (%v) of a database in auto_vacuum=NONE", n, err)
	}
}

// eventsOf returns the events q selects, as strings.
func eventsOf(t *testing.T, db *DB, q logs.EventQuery) []string {
	t.Helper()
	var out []string
	mustOK(t, db.ScanEvents(context.Background(), svcScope, q, func(e logs.Event) bool {
		out = append(out, fmt.Sprint(e.Timestamp, e.Seq, e.Message))
		return true
	}))
	return out
}

// TestCompactorDrainsWithoutAppends checks that the background compactor keeps merging once the
// appends stop: a round merges at most hourRounds merges of an hour, and the compactor waited for
// the next append's wake-up before the next round, so the end of a burst left its backlog unmerged
// until more events came (TestIngestLoad's wait for compaction timed out). The test drives the
// compactor's rounds through its ticks and is told each round's outcome; no append comes after the
// first round.
func TestCompactorDrainsWithoutAppends(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 30, 0, 0, time.UTC)
	ticks := make(chan time.Time)
	rounds := make(chan int, 16)
	db, err := Open(ctx, t.TempDir(), Options{Now: func() time.Time { return now },
		compactTicks: ticks, compacted: func(n int) { rounds <- n }, hourRounds: 1})
	mustOK(t, err)
	defer db.Close()
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	mustOK(t, db.CreateLogStream(ctx, svcScope, "g", logs.LogStream{Name: "s"}))
	// 40 blocks of 800 events in the open hour: about four merges of 8,192 events.
	batch := make([]logs.InputLogEvent, 40*800)
	for i := range batch {
		batch[i] = logs.InputLogEvent{Timestamp: now.Add(-20*time.Minute).UnixMilli() + int64(i), Message: fmt.Sprint("event ", i)}
	}
	for i := 0; i < len(batch); i += 800 {
		_, err := db.AppendEvents(ctx, svcScope, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", Events: batch[i : i+800], IngestionTime: now.UnixMilli()})
		mustOK(t, err)
	}
	timeout := time.After(time.Minute) // a safety net for the old behaviour, not a wait
	for merges := 0; ; merges++ {
		select {
		case <-rounds:
		case <-timeout:
			n, _ := db.CompactBacklog(ctx)
			t.Fatalf("the compactor stopped after %d rounds with %d hours still to merge", merges, n)
		}
		n, err := db.CompactBacklog(ctx)
		mustOK(t, err)
		if n == 0 {
			break
		}
		ticks <- time.Time{}
	}
	if got := len(eventsOf(t, db, logs.EventQuery{LogGroupName: "g"})); got != len(batch) {
		t.Fatalf("%d events after compaction, want %d", got, len(batch))
	}
}
