package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// A sample written through replica B reaches replica A's listener (the evaluation lease holder)
// within a second.
func TestNotifySamplesAcrossReplicas(t *testing.T) {
	u := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	type note struct {
		sc metrics.Scope
		ms []metrics.Metric
	}
	got := make(chan note, 4)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	listening := make(chan error, 1)
	go func() {
		listening <- a.ListenSamples(lctx, func(sc metrics.Scope, ms []metrics.Metric) { got <- note{sc, ms} })
	}()
	m := metrics.Metric{Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage"}
	s := metrics.Sample{AccountID: "111122223333", Region: "us-east-1", Namespace: m.Namespace, MetricName: m.MetricName, Timestamp: time.Now(), Value: 1}
	// LISTEN takes effect asynchronously: notify until the listener hears one, each a second apart
	// at most, which is the bound the issue sets for early evaluation across replicas.
	deadline := time.After(8 * time.Second)
	for {
		sent := time.Now()
		if err := b.NotifySamples(ctx, []metrics.Sample{s, s}); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			if took := time.Since(sent); took > time.Second {
				t.Fatalf("notification took %v", took)
			}
			if n.sc != (metrics.Scope{AccountID: "111122223333", Region: "us-east-1"}) || len(n.ms) != 1 || n.ms[0].MetricName != m.MetricName {
				t.Fatalf("got %+v", n)
			}
			return
		case err := <-listening:
			t.Fatalf("listener ended: %v", err)
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatal("no notification heard")
		}
	}
}

// Options.OnListening is told once each LISTEN is in place, and from then on the first
// notification is heard: a server can wait for it before it reports ready.
func TestOnListeningMeansTheFirstNotificationIsHeard(t *testing.T) {
	u := testSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listening := make(chan string, 2)
	a, err := Open(ctx, u, Options{OnListening: func(ch string) { listening <- ch }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan metrics.Scope, 1)
	go a.ListenSamples(lctx, func(sc metrics.Scope, _ []metrics.Metric) { got <- sc })
	select {
	case ch := <-listening:
		if ch != ChannelSamples {
			t.Fatalf("listening on %q", ch)
		}
	case <-ctx.Done():
		t.Fatal("OnListening was not called")
	}
	s := metrics.Sample{AccountID: "111122223333", Region: "us-east-1", Namespace: "N", MetricName: "M", Timestamp: time.Now(), Value: 1}
	if err := a.NotifySamples(ctx, []metrics.Sample{s}); err != nil {
		t.Fatal(err)
	}
	select {
	case sc := <-got:
		if sc.AccountID != "111122223333" {
			t.Fatalf("scope %+v", sc)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the first notification after OnListening was not heard")
	}
}
