package sqlite

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/trail"
)

func TestScopes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	mustOK(t, err)
	defer db.Close()
	got, err := db.Scopes(ctx)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatalf("Scopes of an empty database = %v", got)
	}
	mustOK(t, db.CreateLogGroup(ctx, logs.Scope{AccountID: "111122223333", Region: "us-east-1"}, logs.LogGroup{Name: "g", CreationTime: 1}))
	mustOK(t, db.CreateLogGroup(ctx, logs.Scope{AccountID: "111122223333", Region: "us-east-1"}, logs.LogGroup{Name: "h", CreationTime: 1}))
	mustOK(t, db.PutTopic(ctx, &sns.Topic{Scope: sns.Scope{AccountID: "111122223333", Region: "eu-west-1"}, Name: "t", ARN: "arn:aws:sns:eu-west-1:111122223333:t", Created: time.Now()}))
	mustOK(t, db.CreateTrail(ctx, trail.Scope{AccountID: "000000000000", Region: "us-west-2"}, trail.Trail{Name: "main", S3BucketName: "b"}))
	got, err = db.Scopes(ctx)
	mustOK(t, err)
	want := []Scope{{"000000000000", "us-west-2"}, {"111122223333", "eu-west-1"}, {"111122223333", "us-east-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("Scopes = %v, want %v", got, want)
	}
}

func TestRecentDeliveries(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	mustOK(t, err)
	defer db.Close()
	var ds []sns.Delivery
	for i := range 5 {
		ds = append(ds, sns.Delivery{MessageID: string(rune('a' + i)), Type: sns.TypeNotification, Protocol: "email", Endpoint: "x@example.com", Status: sns.DeliveryPending, Created: time.Now(), NextAttempt: time.Now()})
	}
	_, err = db.Enqueue(ctx, "", "m", ds)
	mustOK(t, err)
	page, err := db.RecentDeliveries(ctx, 0, 2)
	mustOK(t, err)
	if len(page) != 2 || page[0].ID <= page[1].ID || page[0].MessageID != "e" {
		t.Fatalf("first page = %+v", page)
	}
	page, err = db.RecentDeliveries(ctx, page[1].ID, 10)
	mustOK(t, err)
	if len(page) != 3 || page[0].MessageID != "c" || page[2].MessageID != "a" {
		t.Fatalf("second page = %+v", page)
	}
}
