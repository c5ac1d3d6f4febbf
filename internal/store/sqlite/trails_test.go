package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/trail"
	"github.com/trailwatch/trailwatch/internal/trail/trailtest"
)

func TestTrailStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	mustOK(t, err)
	a := trail.Scope{AccountID: "111122223333", Region: "us-east-1"}
	b := trail.Scope{AccountID: "444455556666", Region: "us-east-1"}
	tr := trail.Trail{Name: "main", S3BucketName: "bucket", CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:ct", SqsQueueURL: "http://q"}
	mustOK(t, db.CreateTrail(ctx, a, tr))
	if err := db.CreateTrail(ctx, a, tr); !errors.Is(err, trail.ErrExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	mustOK(t, db.CreateTrail(ctx, b, trail.Trail{Name: "main", S3BucketName: "other"}))
	got, err := db.GetTrail(ctx, a, "main")
	mustOK(t, err)
	if got.S3BucketName != "bucket" || got.SqsQueueURL != "http://q" {
		t.Fatalf("get: %+v", got)
	}
	up, err := db.UpdateTrail(ctx, a, "main", func(t *trail.Trail) error { t.Logging = true; return nil })
	mustOK(t, err)
	if !up.Logging || up.S3BucketName != "bucket" {
		t.Fatalf("update returned %+v", up)
	}
	if _, err := db.UpdateTrail(ctx, a, "nope", func(*trail.Trail) error { return nil }); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	refuse := errors.New("refused")
	if _, err := db.UpdateTrail(ctx, a, "main", func(t *trail.Trail) error { t.Logging = false; return refuse }); err != refuse {
		t.Fatalf("update refused by fn: %v", err)
	}
	list, err := db.ListTrails(ctx, a)
	mustOK(t, err)
	if len(list) != 1 || !list[0].Logging {
		t.Fatalf("list: %+v", list)
	}
	all, err := db.AllTrails(ctx)
	mustOK(t, err)
	if len(all) != 2 {
		t.Fatalf("all: %+v", all)
	}
	mustOK(t, db.MarkProcessed(ctx, "src", []string{"k1", "k3"}, []int{3, 0}, time.Now()))
	mustOK(t, db.MarkProcessed(ctx, "src", []string{"k1"}, []int{3}, time.Now()))
	mustOK(t, db.SaveCursors(ctx, "src", map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "k1", "AWSLogs/1/CloudTrail/eu-west-1/": "k0"}))
	mustOK(t, db.SaveCursors(ctx, "src", map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "k3"}))
	mustOK(t, db.SaveCursors(ctx, "other", map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "x"}))
	mustOK(t, db.DeleteTrail(ctx, b, "main"))
	if err := db.DeleteTrail(ctx, b, "main"); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	db.Close()

	// The processed-object record survives a reopen.
	db, err = Open(ctx, dir, Options{})
	mustOK(t, err)
	defer db.Close()
	for _, c := range []struct {
		source, key string
		want        bool
	}{{"src", "k1", true}, {"src", "k3", true}, {"src", "k2", false}, {"other", "k1", false}} {
		got, err := db.Processed(ctx, c.source, c.key)
		mustOK(t, err)
		if got != c.want {
			t.Errorf("Processed(%s, %s) = %v", c.source, c.key, got)
		}
	}
	if _, err := db.GetTrail(ctx, b, "main"); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("deleted trail: %v", err)
	}
	// So do the listing cursors, per source.
	cur, err := db.Cursors(ctx, "src")
	mustOK(t, err)
	if fmt.Sprint(cur) != "map[AWSLogs/1/CloudTrail/eu-west-1/:k0 AWSLogs/1/CloudTrail/us-east-1/:k3]" {
		t.Fatalf("cursors after reopen: %v", cur)
	}
}

// TestTrailConformance holds the SQLite backend to trail.Store's contract.
func TestTrailConformance(t *testing.T) {
	trailtest.Run(t, func(t *testing.T) trail.Store {
		db, err := Open(context.Background(), t.TempDir(), Options{})
		mustOK(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestTrailStopRacesUpdate is issue 11's race: StopLogging and UpdateTrail calls running at once
// must not lose the stop (an UpdateTrail that read the trail before the stop must not write
// IsLogging=true back after it), and the last change the runner is told of must be the stored one.
func TestTrailStopRacesUpdate(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	mustOK(t, err)
	defer db.Close()
	svc := trail.NewService(db, nil)
	var mu sync.Mutex
	var last *trail.Trail
	svc.OnChange = func(_ trail.Scope, _ string, tr *trail.Trail) {
		mu.Lock()
		defer mu.Unlock()
		last = tr
	}
	a := trail.Scope{AccountID: "111122223333", Region: "us-east-1"}
	_, err = svc.Create(ctx, a, trail.Trail{Name: "main", S3BucketName: "bucket"})
	mustOK(t, err)
	for round := range 20 {
		mustOK(t, svc.SetLogging(ctx, a, "main", true))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				<-start
				_, err := svc.Update(ctx, a, "main", func(tr *trail.Trail) { tr.S3KeyPrefix = fmt.Sprint("p", round, "-", i) })
				mustOK(t, err)
			})
		}
		wg.Go(func() {
			<-start
			mustOK(t, svc.SetLogging(ctx, a, "main", false))
		})
		close(start)
		wg.Wait()
		st, err := svc.GetStatus(ctx, a, "main")
		mustOK(t, err)
		if st.IsLogging {
			t.Fatalf("round %d: StopLogging was lost: the trail is still logging", round)
		}
		mu.Lock()
		if last == nil || last.Logging {
			t.Fatalf("round %d: the last change applied is %+v, want a stopped trail", round, last)
		}
		mu.Unlock()
	}
}

// TestTrailWithoutSelectorsDocument reads a trail stored before event selectors existed (its JSON
// document has no Selectors member): it has none, so GetEventSelectors answers CloudTrail's
// default, and a put adds them without a migration.
func TestTrailWithoutSelectorsDocument(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	mustOK(t, err)
	defer db.Close()
	mustOK(t, db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO trails (account_id, region, name, config) VALUES (?, ?, ?, ?)`, "111122223333", "us-east-1", "old",
			`{"Name":"old","S3BucketName":"b","IncludeGlobalServiceEvents":true,"Logging":true,"CreationTime":"2026-11-01T00:00:00Z"}`)
		return err
	}))
	sc := trail.Scope{AccountID: "111122223333", Region: "us-east-1"}
	svc := trail.NewService(db, nil)
	tr, sel, err := svc.GetSelectors(ctx, sc, "old")
	mustOK(t, err)
	if tr.Selectors != nil || fmt.Sprint(sel) != fmt.Sprint(trail.DefaultSelectors()) || !tr.Logging {
		t.Fatalf("old document: %+v, selectors %+v", tr, sel)
	}
	_, err = svc.PutSelectors(ctx, sc, "old", []trail.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}, nil)
	mustOK(t, err)
	if _, sel, _ = svc.GetSelectors(ctx, sc, "old"); len(sel.Basic) != 1 || sel.Basic[0].ReadWriteType != "WriteOnly" {
		t.Fatalf("after put: %+v", sel)
	}
}
