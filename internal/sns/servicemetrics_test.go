package sns_test

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

// recordingSink keeps every datum it is given.
type recordingSink struct {
	mu   sync.Mutex
	data []sns.MetricDatum
}

func (r *recordingSink) PublishMetrics(_ context.Context, data []sns.MetricDatum) {
	r.mu.Lock()
	r.data = append(r.data, data...)
	r.mu.Unlock()
}

// sums adds the values up by "topic/metric", and the number of data by the same key.
func (r *recordingSink) sums() (sums, counts map[string]float64) {
	sums, counts = map[string]float64{}, map[string]float64{}
	for _, d := range r.data {
		k := d.TopicName + "/" + d.MetricName
		sums[k] += d.Value
		counts[k]++
	}
	return sums, counts
}

// TestPublishMetrics checks NumberOfMessagesPublished and PublishSize against the messages
// published: every accepted Publish counts once (with or without a subscription to deliver to), a
// repeated DedupKey and a refused Publish do not, and PublishSize is the message's bytes plus its
// attributes' names, types and values, per topic.
func TestPublishMetrics(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	svc := snstest.NewService(snstest.NewMemory(), func() time.Time { return now })
	sink := &recordingSink{}
	svc.Metrics = sink
	alerts, err := svc.CreateTopic(ctx, snstest.Scope, "alerts", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.CreateTopic(ctx, snstest.Scope, "other", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	subject := "Hi"
	publish := []struct {
		in sns.PublishInput
		ok bool
	}{
		{sns.PublishInput{TopicARN: alerts, Message: "hello"}, true},                          // 5
		{sns.PublishInput{TopicARN: alerts, Message: "héllo wörld", Subject: &subject}, true}, // 13
		// 3 + attribute "k" (1) + "String" (6) + "v1" (2) = 12
		{sns.PublishInput{TopicARN: alerts, Message: "abc", MessageAttributes: map[string]sns.MessageAttribute{"k": {DataType: "String", StringValue: "v1"}}}, true},
		{sns.PublishInput{TopicARN: alerts, Message: strings.Repeat("x", 1000), DedupKey: "action-1"}, true}, // 1000
		{sns.PublishInput{TopicARN: alerts, Message: strings.Repeat("x", 1000), DedupKey: "action-1"}, true}, // repeat: not counted
		{sns.PublishInput{TopicARN: alerts, Message: ""}, false},
		{sns.PublishInput{TopicARN: alerts + "-missing", Message: "lost"}, false},
		{sns.PublishInput{TopicARN: other, Message: "0123456789"}, true}, // 10
	}
	for i, p := range publish {
		if _, err := svc.Publish(ctx, snstest.Scope, p.in); (err == nil) != p.ok {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	sums, counts := sink.sums()
	wantSums := map[string]float64{
		"alerts/NumberOfMessagesPublished": 4, "alerts/PublishSize": 5 + 13 + 12 + 1000,
		"other/NumberOfMessagesPublished": 1, "other/PublishSize": 10,
	}
	wantCounts := map[string]float64{
		"alerts/NumberOfMessagesPublished": 4, "alerts/PublishSize": 4,
		"other/NumberOfMessagesPublished": 1, "other/PublishSize": 1,
	}
	if !reflect.DeepEqual(sums, wantSums) || !reflect.DeepEqual(counts, wantCounts) {
		t.Fatalf("sums %v counts %v\nwant %v %v", sums, counts, wantSums, wantCounts)
	}
	for _, d := range sink.data {
		unit := map[string]string{sns.MetricMessagesPublished: "Count", sns.MetricPublishSize: "Bytes"}[d.MetricName]
		if d.Unit != unit || d.Scope != snstest.Scope || !d.Time.Equal(now) {
			t.Fatalf("datum %+v", d)
		}
	}
}

func TestTopicNameOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sns:us-east-1:111122223333:alerts": "alerts",
		"arn:aws:sns:us-east-1:111122223333:a.fifo": "a.fifo",
	} {
		if got := sns.TopicNameOf(arn); got != want {
			t.Errorf("TopicNameOf(%q) = %q", arn, got)
		}
	}
}
