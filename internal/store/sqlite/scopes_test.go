package sqlite

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/receiver"
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

// TestLastReceiverDelivery: the newest receiver message of an endpoint, not another receiver's
// nor an SNS delivery to the same URL, found through the partial index of schema 230.
func TestLastReceiverDelivery(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	mustOK(t, err)
	defer db.Close()
	const ep = "https://tw.example/receivers/sec-slack"
	if _, ok, err := db.LastReceiverDelivery(ctx, ep); err != nil || ok {
		t.Fatalf("empty outbox: ok %v, err %v", ok, err)
	}
	now := time.Now()
	enqueue := func(id, protocol, endpoint string) {
		t.Helper()
		_, err := db.Enqueue(ctx, "", id, []sns.Delivery{{MessageID: id, Type: receiver.MessageType, Protocol: protocol, Endpoint: endpoint,
			Status: sns.DeliveryPending, Created: now, NextAttempt: now}})
		mustOK(t, err)
	}
	enqueue("first", receiver.Protocol, ep)
	enqueue("newest", receiver.Protocol, ep)
	enqueue("other", receiver.Protocol, "https://tw.example/receivers/oncall")
	enqueue("sns", "https", ep) // the SNS delivery to the endpoint is not the receiver's message
	d, ok, err := db.LastReceiverDelivery(ctx, ep)
	mustOK(t, err)
	if !ok || d.MessageID != "newest" || d.Status != sns.DeliveryPending || d.Endpoint != ep {
		t.Errorf("LastReceiverDelivery = %+v, %v", d, ok)
	}
	var plan, detail string
	var id, parent, unused int
	rows, err := db.read.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM sns_deliveries
		WHERE protocol = '`+receiver.Protocol+`' AND json_extract(doc, '$.Endpoint') = ? ORDER BY id DESC LIMIT 1`, ep)
	mustOK(t, err)
	for rows.Next() {
		mustOK(t, rows.Scan(&id, &parent, &unused, &detail))
		plan += detail + "\n"
	}
	rows.Close()
	if !strings.Contains(plan, "sns_deliveries_receiver") {
		t.Errorf("the lookup does not use the index:\n%s", plan)
	}
}
