package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

func openSNSDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSNSConformance(t *testing.T) {
	snstest.Run(t, func(t *testing.T) snstest.Store { return openSNSDB(t) })
}

// TestSNSOutbox checks the outbox side: due order, attempts recorded with the new state in one
// step, delivered messages no longer due, and the state surviving a reopen.
func TestSNSOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	clock := Options{Now: func() time.Time { return t0 }}
	db, err := Open(ctx, dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id string, due time.Time) sns.Delivery {
		return sns.Delivery{MessageID: id, Type: sns.TypeNotification, SubscriptionARN: "arn:s", Protocol: "email", Endpoint: "a@b.c",
			Body: "body " + id, Created: t0, NextAttempt: due, Status: sns.DeliveryPending, Policy: sns.EmailPolicy}
	}
	if _, err := db.Enqueue(ctx, "", "m1", []sns.Delivery{mk("m1", t0.Add(time.Second)), mk("m2", t0)}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Enqueue(ctx, "key", "m3", []sns.Delivery{mk("m3", t0)}); err != nil || got != "m3" {
		t.Fatal(got, err)
	}
	if got, err := db.Enqueue(ctx, "key", "m4", []sns.Delivery{mk("m4", t0)}); err != nil || got != "m3" {
		t.Fatalf("dedup key reused: %q %v", got, err)
	}
	due, err := db.DueDeliveries(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].MessageID != "m2" || due[1].MessageID != "m3" || due[0].Body != "body m2" || due[0].Policy != sns.EmailPolicy {
		t.Fatalf("due at t0: %+v", due)
	}
	next, ok, err := db.NextDeliveryDue(ctx)
	if err != nil || !ok || !next.Equal(t0) {
		t.Fatalf("next due %v %v %v", next, ok, err)
	}
	if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: due[0].ID, N: 1, At: t0, Outcome: "retry", Detail: "connection refused"}, sns.DeliveryPending, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: due[1].ID, N: 1, At: t0, Duration: 3 * time.Millisecond, Outcome: "delivered", Detail: "250"}, sns.DeliveryDelivered, t0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(ctx, dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	due, _ = db.DueDeliveries(ctx, t0.Add(5*time.Second), 10)
	if len(due) != 1 || due[0].MessageID != "m1" {
		t.Fatalf("due at t0+5s after reopen: %+v", due)
	}
	due, _ = db.DueDeliveries(ctx, t0.Add(10*time.Second), 10)
	if len(due) != 2 || due[1].MessageID != "m2" || due[1].Attempts != 1 || due[1].LastError != "connection refused" {
		t.Fatalf("due at t0+10s: %+v", due)
	}
	all, _ := db.Deliveries(ctx, 0, 10)
	if len(all) != 3 || all[2].Status != sns.DeliveryDelivered {
		t.Fatalf("all deliveries %+v", all)
	}
	as, err := db.Attempts(ctx, all[2].ID)
	if err != nil || len(as) != 1 || as[0].Outcome != "delivered" || as[0].Duration != 3*time.Millisecond {
		t.Fatalf("attempts %+v %v", as, err)
	}
	// Pruning removes finished deliveries and old dedup keys, never pending ones.
	n, err := db.PruneDeliveries(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	all, _ = db.Deliveries(ctx, 0, 10)
	if len(all) != 2 || all[0].Status != sns.DeliveryPending || all[1].Status != sns.DeliveryPending {
		t.Fatalf("after prune %+v", all)
	}
	if as, _ := db.Attempts(ctx, 3); len(as) != 0 {
		t.Fatalf("attempts of a pruned delivery kept: %+v", as)
	}
	if got, _ := db.Enqueue(ctx, "key", "m5", nil); got != "m5" {
		t.Fatalf("dedup key survived pruning: %q", got)
	}
}

// BenchmarkSNSPublish measures Publish over SQLite (validation, fan-out rendering with a
// SignatureVersion 1 signature per HTTP subscription, and the durable enqueue under group
// commit) with 0, 1 and 10 confirmed subscriptions; 0 is the baseline without fan-out.
func BenchmarkSNSPublish(b *testing.B) {
	for _, subs := range []int{0, 1, 10} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			svc := snstest.NewService(db, time.Now)
			arn, _ := svc.CreateTopic(ctx, snstest.Scope, "bench", nil, nil)
			for i := range subs {
				if _, err := svc.Subscribe(ctx, snstest.Scope, sns.SubscribeInput{TopicARN: arn, Protocol: "https", Endpoint: fmt.Sprintf("https://h%d.example/", i)}); err != nil {
					b.Fatal(err)
				}
			}
			ds, _ := db.Deliveries(ctx, 0, 100)
			for _, d := range ds {
				var m struct{ Token string }
				json.Unmarshal([]byte(d.Body), &m)
				if _, err := svc.ConfirmSubscription(ctx, snstest.Scope, arn, m.Token, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := svc.Publish(ctx, snstest.Scope, sns.PublishInput{TopicARN: arn, Message: `{"AlarmName":"root","NewStateValue":"ALARM"}`}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
