package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// TestScopes: the scopes of alarms, topics, trails and log groups, each once, sorted
// (sqlite.TestScopes' counterpart).
func TestScopes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	got, err := db.Scopes(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Scopes of an empty database = %v, %v", got, err)
	}
	east := alarm.Scope{AccountID: "111122223333", Region: "us-east-1"}
	if err := db.Apply(ctx, alarm.Change{Put: []*alarm.Record{{Scope: east, Name: "a", Type: alarm.TypeMetric}, {Scope: east, Name: "b", Type: alarm.TypeMetric}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTopic(ctx, &sns.Topic{Scope: sns.Scope{AccountID: "111122223333", Region: "eu-west-1"}, Name: "t", ARN: "arn:aws:sns:eu-west-1:111122223333:t", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTrail(ctx, trail.Scope{AccountID: "000000000000", Region: "us-west-2"}, trail.Trail{Name: "main", S3BucketName: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTrail(ctx, trail.Scope{AccountID: "111122223333", Region: "us-east-1"}, trail.Trail{Name: "main", S3BucketName: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateLogGroup(ctx, logs.Scope{AccountID: "222233334444", Region: "ap-south-1"}, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}); err != nil {
		t.Fatal(err)
	}
	got, err = db.Scopes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Scope{{"000000000000", "us-west-2"}, {"111122223333", "eu-west-1"}, {"111122223333", "us-east-1"}, {"222233334444", "ap-south-1"}}
	if !slices.Equal(got, want) {
		t.Errorf("Scopes = %v, want %v", got, want)
	}
}

// TestRecentDeliveries: pages of the outbox, newest first, each page before the last id of the
// previous one.
func TestRecentDeliveries(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	if page, err := db.RecentDeliveries(ctx, 0, 10); err != nil || len(page) != 0 {
		t.Fatalf("empty outbox: %v, %v", page, err)
	}
	var ds []sns.Delivery
	for i := range 5 {
		ds = append(ds, sns.Delivery{MessageID: string(rune('a' + i)), Type: sns.TypeNotification, Protocol: "email", Endpoint: "x@example.com",
			Status: sns.DeliveryPending, Created: time.Now(), NextAttempt: time.Now()})
	}
	if _, err := db.Enqueue(ctx, "", "m", ds); err != nil {
		t.Fatal(err)
	}
	page, err := db.RecentDeliveries(ctx, 0, 2)
	if err != nil || len(page) != 2 || page[0].ID <= page[1].ID || page[0].MessageID != "e" || page[1].MessageID != "d" {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	page, err = db.RecentDeliveries(ctx, page[1].ID, 10)
	if err != nil || len(page) != 3 || page[0].MessageID != "c" || page[2].MessageID != "a" {
		t.Fatalf("second page = %+v, %v", page, err)
	}
}

// TestLastReceiverDelivery: the newest receiver message of an endpoint, not another receiver's
// nor an SNS delivery to the same URL, and the lookup can use the partial index of schema 080.
func TestLastReceiverDelivery(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, Options{})
	const ep = "https://tw.example/receivers/sec-slack"
	if _, ok, err := db.LastReceiverDelivery(ctx, ep); err != nil || ok {
		t.Fatalf("empty outbox: ok %v, err %v", ok, err)
	}
	now := time.Now()
	enqueue := func(id, protocol, endpoint string) {
		t.Helper()
		if _, err := db.Enqueue(ctx, "", id, []sns.Delivery{{MessageID: id, Type: receiver.MessageType, Protocol: protocol, Endpoint: endpoint,
			Status: sns.DeliveryPending, Created: now, NextAttempt: now}}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("first", receiver.Protocol, ep)
	enqueue("newest", receiver.Protocol, ep)
	enqueue("other", receiver.Protocol, "https://tw.example/receivers/oncall")
	enqueue("sns", "https", ep) // the SNS delivery to the endpoint is not the receiver's message
	d, ok, err := db.LastReceiverDelivery(ctx, ep)
	if err != nil || !ok || d.MessageID != "newest" || d.Status != sns.DeliveryPending || d.Endpoint != ep {
		t.Errorf("LastReceiverDelivery = %+v, %v, %v", d, ok, err)
	}

	// With sequential scans off, the planner takes the index if the query can use it at all.
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `EXPLAIN SELECT `+deliveryColumns+` FROM sns_deliveries
		WHERE protocol = '`+receiver.Protocol+`' AND (doc::jsonb) ->> 'Endpoint' = $1 ORDER BY id DESC LIMIT 1`, ep)
	if err != nil {
		t.Fatal(err)
	}
	var plan string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan += line + "\n"
	}
	rows.Close()
	if !strings.Contains(plan, "sns_deliveries_receiver") {
		t.Errorf("the lookup does not use the index:\n%s", plan)
	}
}
