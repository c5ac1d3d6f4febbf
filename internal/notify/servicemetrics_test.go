package notify

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestDeliveryMetricsRules is the table of what one recorded attempt counts.
func TestDeliveryMetricsRules(t *testing.T) {
	const (
		delivered = sns.MetricNotificationsDelivered
		failed    = sns.MetricNotificationsFailed
	)
	tests := []struct {
		typ, protocol, outcome, want string
	}{
		{sns.TypeNotification, "email", OutcomeDelivered, delivered},
		{sns.TypeNotification, "email-json", OutcomeDelivered, delivered},
		{sns.TypeNotification, "https", OutcomeDelivered, delivered},
		{sns.TypeNotification, "email", OutcomeRetry, ""}, // counted when SNS stops trying
		{sns.TypeNotification, "email-json", OutcomeRetry, ""},
		{sns.TypeNotification, "email", OutcomeFailed, failed},
		{sns.TypeNotification, "http", OutcomeRetry, failed}, // every failed HTTP/S attempt
		{sns.TypeNotification, "https", OutcomeRetry, failed},
		{sns.TypeNotification, "https", OutcomeFailed, failed},
		{sns.TypeSubscriptionConfirmation, "https", OutcomeDelivered, ""},
		{sns.TypeSubscriptionConfirmation, "https", OutcomeRetry, ""},
		{sns.TypeUnsubscribeConfirmation, "email", OutcomeFailed, ""},
	}
	at := time.Date(2026, 11, 25, 20, 0, 5, 0, time.UTC)
	sc := sns.Scope{AccountID: "111122223333", Region: "us-east-1"}
	for _, tc := range tests {
		d := sns.Delivery{Type: tc.typ, Protocol: tc.protocol, Scope: sc, TopicARN: "arn:aws:sns:us-east-1:111122223333:alerts"}
		got := deliveryMetrics(d, sns.Attempt{At: at, Outcome: tc.outcome})
		var want []sns.MetricDatum
		if tc.want != "" {
			want = []sns.MetricDatum{{Scope: sc, TopicName: "alerts", MetricName: tc.want, Unit: "Count", Value: 1, Time: at}}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s %s: %+v, want %+v", tc.typ, tc.protocol, tc.outcome, got, want)
		}
	}
}

// scriptSender fails the deliveries of a message while its down func says so.
type scriptSender struct{ down map[string]func() bool }

func (s scriptSender) Send(_ context.Context, d sns.Delivery) (string, error) {
	if f := s.down[d.MessageID]; f != nil && f() {
		return "", errors.New("connection refused")
	}
	return "ok", nil
}

type sinkFunc func(context.Context, []sns.MetricDatum)

func (f sinkFunc) PublishMetrics(ctx context.Context, data []sns.MetricDatum) { f(ctx, data) }

// TestDeliveryMetricsOfWorker runs the worker over a set of deliveries and checks the exact sums
// of NumberOfNotificationsDelivered and NumberOfNotificationsFailed per topic against what
// happened to them.
func TestDeliveryMetricsOfWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		sc := sns.Scope{AccountID: "111122223333", Region: "us-east-1"}
		alerts, ops := sns.TopicARN(sc, "alerts"), sns.TopicARN(sc, "ops")
		short := sns.RetryPolicy{NumRetries: 2, MinDelayTarget: 1, MaxDelayTarget: 1, BackoffFunction: "linear"}
		mk := func(id, typ, protocol, topic string, p sns.RetryPolicy) sns.Delivery {
			return sns.Delivery{MessageID: id, Type: typ, Protocol: protocol, Scope: sc, TopicARN: topic, NextAttempt: start, Policy: p}
		}
		ob := newOutbox(
			mk("mail-late", sns.TypeNotification, "email", alerts, sns.EmailPolicy),       // fails 10 min, then delivered: 1 delivered
			mk("hook-down", sns.TypeNotification, "https", alerts, sns.HTTPDefaultPolicy), // 4 failed attempts: 4 failed
			mk("mail-lost", sns.TypeNotification, "email", ops, short),                    // 3 attempts, policy runs out: 1 failed
			mk("hook-ok", sns.TypeNotification, "https", ops, sns.HTTPDefaultPolicy),      // 1 delivered
			mk("hook-flaky", sns.TypeNotification, "http", ops, sns.HTTPDefaultPolicy),    // 1 failed attempt, then 1 delivered
			mk("confirm", sns.TypeSubscriptionConfirmation, "https", ops, sns.HTTPDefaultPolicy),
		)
		always := func() bool { return true }
		snd := scriptSender{down: map[string]func() bool{
			"mail-late":  func() bool { return time.Since(start) < 10*time.Minute },
			"hook-down":  always,
			"mail-lost":  always,
			"hook-flaky": func() bool { return time.Since(start) < 10*time.Second },
		}}
		var mu sync.Mutex
		sums := map[string]float64{}
		sink := sinkFunc(func(_ context.Context, data []sns.MetricDatum) {
			mu.Lock()
			defer mu.Unlock()
			for _, d := range data {
				sums[d.TopicName+"/"+d.MetricName] += d.Value
			}
		})
		w := &Worker{Outbox: ob, Senders: map[string]Sender{"email": snd, "https": snd, "http": snd}, Metrics: sink}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.Run(ctx); close(done) }()
		time.Sleep(30 * time.Minute)
		cancel()
		<-done
		want := map[string]float64{
			"alerts/NumberOfNotificationsDelivered": 1, "alerts/NumberOfNotificationsFailed": 4,
			"ops/NumberOfNotificationsDelivered": 2, "ops/NumberOfNotificationsFailed": 2,
		}
		if !reflect.DeepEqual(sums, want) {
			t.Fatalf("sums %v\nwant %v", sums, want)
		}
		if len(ob.attemptsOf(3)) != 3 || ob.get(3).Status != sns.DeliveryFailed {
			t.Fatalf("mail-lost: %d attempts, %s", len(ob.attemptsOf(3)), ob.get(3).Status)
		}
	})
}
