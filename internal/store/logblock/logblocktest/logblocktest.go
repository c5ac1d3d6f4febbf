// Package logblocktest holds the compaction scenarios that every backend storing log events in
// logblock's blocks runs in its tests, so that SQLite and PostgreSQL are held to one definition
// of what compaction must leave behind.
package logblocktest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

// Backend is what the scenarios need of a backend: its log store, one compaction round, and the
// index rows of its stored blocks (MinTS, MaxTS and Count at least).
type Backend struct {
	Store logs.Store
	Scope logs.Scope
	// Now is the backend's clock, fixed for the test.
	Now time.Time
	// Compact runs one compaction round (the backend's CompactBlocks).
	Compact func(ctx context.Context) error
	// Blocks returns the index rows of every stored block.
	Blocks func(ctx context.Context) []logblock.Meta
}

// LevelsOverlappingStreams appends, round after round, batches of three streams whose times
// overlap the previous round's, compacting after each round as the compactor does under sustained
// ingest: the blocks of the hour must come out covering disjoint stretches of time (they may touch
// at one timestamp), so that a query of a few minutes decodes one or two blocks. Merging only the
// small blocks left them overlapping two to three deep (issue 15's first-page latency).
func LevelsOverlappingStreams(t *testing.T, b Backend) {
	t.Helper()
	ctx := context.Background()
	must(t, b.Store.CreateLogGroup(ctx, b.Scope, logs.LogGroup{Name: "ct", LogGroupClass: "STANDARD"}))
	for s := range 3 {
		must(t, b.Store.CreateLogStream(ctx, b.Scope, "ct", logs.LogStream{Name: fmt.Sprint("s", s), CreationTime: b.Now.UnixMilli()}))
	}
	start := b.Now.Add(-2 * time.Hour).UnixMilli() // a closed hour: every round compacts
	const rounds, perBatch, span = 8, 400, 60_000
	for r := range rounds {
		for s := range 3 {
			var evs []logs.InputLogEvent
			for j := range perBatch {
				// Each batch covers two spans from its round's start, overlapping the next round's.
				ts := start + int64(r)*span + int64(j)*2*span/perBatch + int64(s)*7
				evs = append(evs, logs.InputLogEvent{Timestamp: ts, Message: fmt.Sprintf(`{"eventID":"r%d-s%d-%d"}`, r, s, j)})
			}
			_, err := b.Store.AppendEvents(ctx, b.Scope, logs.AppendBatch{LogGroupName: "ct", LogStreamName: fmt.Sprint("s", s),
				Events: evs, IngestionTime: b.Now.UnixMilli()})
			must(t, err)
		}
		must(t, b.Compact(ctx))
	}
	n := 0
	must(t, b.Store.ScanEvents(ctx, b.Scope, logs.EventQuery{LogGroupName: "ct"}, func(logs.Event) bool { n++; return true }))
	if n != rounds*3*perBatch {
		t.Fatalf("%d events after compaction, want %d", n, rounds*3*perBatch)
	}
	CheckDisjoint(t, b.Blocks(ctx), start)
}

// CheckDisjoint fails t for every block of blocks (of one group and hour) that overlaps another:
// ordered by (MinTS, MaxTS), each must start at or after the end of all before it. Times are
// reported relative to origin.
func CheckDisjoint(t *testing.T, blocks []logblock.Meta, origin int64) {
	t.Helper()
	blocks = slices.Clone(blocks)
	slices.SortFunc(blocks, func(a, b logblock.Meta) int {
		return cmp.Or(cmp.Compare(a.MinTS, b.MinTS), cmp.Compare(a.MaxTS, b.MaxTS))
	})
	for i, m := range blocks {
		if i > 0 && m.MinTS < blocks[i-1].MaxTS {
			t.Errorf("block %d [%d, %d] (%d events) overlaps the previous one, which ends at %d",
				i, m.MinTS-origin, m.MaxTS-origin, m.Count, blocks[i-1].MaxTS-origin)
		}
		if i > 0 {
			blocks[i].MaxTS = max(m.MaxTS, blocks[i-1].MaxTS) // the end of all blocks so far
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
