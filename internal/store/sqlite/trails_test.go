package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/trail"
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
	tr.Logging = true
	mustOK(t, db.UpdateTrail(ctx, a, tr))
	if err := db.UpdateTrail(ctx, a, trail.Trail{Name: "nope"}); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
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
}
