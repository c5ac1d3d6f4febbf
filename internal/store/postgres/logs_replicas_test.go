package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/logs/logstest"
)

// openPair opens two DBs (two pools, as two replicas) on one new schema.
func openPair(t *testing.T) (*DB, *DB) {
	t.Helper()
	u := testSchema(t)
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(context.Background(), u, Options{})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestAppendFromTwoReplicas appends to one stream from two pools at once, every event at the same
// timestamp, while a reader follows the stream with (timestamp, sequence) positions as
// GetLogEvents' tokens do: every event is stored once, the upload sequence counts every append,
// and the reader, which never goes back, sees every event, which holds only if sequence numbers
// within a group follow commit order (allocSeq under the group's row lock).
func TestAppendFromTwoReplicas(t *testing.T) {
	a, b := openPair(t)
	ctx := context.Background()
	mustOK(t, a.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	mustOK(t, b.CreateLogStream(ctx, svcScope, "g", logs.LogStream{Name: "s"}))
	const (
		appends = 60
		per     = 20
	)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w, db := range []*DB{a, b, a, b} {
		wg.Go(func() {
			for i := range appends / 4 {
				evs := make([]logs.InputLogEvent, per)
				for j := range evs {
					evs[j] = logs.InputLogEvent{Timestamp: 1000, Message: fmt.Sprintf("w%d-%d-%d", w, i, j)}
				}
				if _, err := db.AppendEvents(ctx, svcScope, logs.AppendBatch{LogGroupName: "g", LogStreamName: "s", Events: evs, IngestionTime: 5}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen := map[string]int{}
	var pos *logs.EventCursor
	follow := func() {
		mustOK(t, b.ScanEvents(ctx, svcScope, logs.EventQuery{LogGroupName: "g", After: pos}, func(e logs.Event) bool {
			seen[e.Message]++
			pos = &logs.EventCursor{Timestamp: e.Timestamp, Seq: e.Seq}
			return true
		}))
	}
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(2 * time.Millisecond):
		}
		follow()
	}
	follow()
	if len(seen) != appends*per {
		t.Fatalf("the follower saw %d distinct events, want %d", len(seen), appends*per)
	}
	for m, n := range seen {
		if n != 1 {
			t.Fatalf("event %s seen %d times", m, n)
		}
	}
	st, err := a.GetLogStream(ctx, svcScope, "g", "s")
	mustOK(t, err)
	if st.UploadSequence != appends {
		t.Fatalf("upload sequence %d, want %d", st.UploadSequence, appends)
	}
}

// TestAppendUniqueFromTwoReplicas delivers the same records through two pools at once: each is
// stored, and counted by its metric filter, once.
func TestAppendUniqueFromTwoReplicas(t *testing.T) {
	a, b := openPair(t)
	now := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	sa := logs.NewService(a, func() time.Time { return now })
	sb := logs.NewService(b, func() time.Time { return now })
	logstest.CreateRootGroup(t, sa, svcScope)
	evs, keys := logstest.RootRecords(now.Add(-time.Minute).UnixMilli(), 400)
	total := logstest.PutRecordsConcurrently(t, []*logs.Service{sa, sb, sa, sb}, svcScope, evs, keys, 40)
	if total.Stored != 400 || total.Duplicates != 1200 {
		t.Fatalf("%+v", total)
	}
	if got := logstest.RootSum(t, b, svcScope, now); got != 400 {
		t.Fatalf("root sum %v, want 400", got)
	}
}
