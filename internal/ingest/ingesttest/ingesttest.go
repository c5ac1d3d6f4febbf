// Package ingesttest is the conformance suite of ingest.ObjectLog, the durable record of the S3
// objects a source has ingested and of its listing cursors. Every backend runs Run; on a shared
// database (PostgreSQL) the record is what keeps replicas that see the same object from storing
// it twice, so recording an object twice, also concurrently, must succeed and change nothing.
package ingesttest

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/ingest"
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) ingest.ObjectLog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s ingest.ObjectLog)
	}{
		{"ProcessedPerSource", testProcessedPerSource},
		{"MarkIsIdempotent", testMarkIsIdempotent},
		{"MismatchedCounts", testMismatchedCounts},
		{"ConcurrentMarks", testConcurrentMarks},
		{"Cursors", testCursors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var at = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func processed(t *testing.T, s ingest.ObjectLog, source, key string) bool {
	t.Helper()
	ok, err := s.Processed(context.Background(), source, key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func testProcessedPerSource(t *testing.T, s ingest.ObjectLog) {
	ctx := context.Background()
	if processed(t, s, "trail-a", "k1") {
		t.Fatal("an unrecorded object is processed")
	}
	if err := s.MarkProcessed(ctx, "trail-a", []string{"k1", "k2"}, []int{3, 0}, at); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		source, key string
		want        bool
	}{{"trail-a", "k1", true}, {"trail-a", "k2", true}, {"trail-a", "k3", false}, {"trail-b", "k1", false}} {
		if got := processed(t, s, c.source, c.key); got != c.want {
			t.Errorf("Processed(%s, %s) = %v, want %v", c.source, c.key, got, c.want)
		}
	}
	if err := s.MarkProcessed(ctx, "trail-a", nil, nil, at); err != nil {
		t.Fatalf("empty mark: %v", err)
	}
}

func testMarkIsIdempotent(t *testing.T, s ingest.ObjectLog) {
	ctx := context.Background()
	for range 2 {
		if err := s.MarkProcessed(ctx, "src", []string{"k"}, []int{1}, at); err != nil {
			t.Fatalf("mark: %v", err)
		}
	}
	if err := s.MarkProcessed(ctx, "src", []string{"k", "new"}, []int{1, 2}, at); err != nil {
		t.Fatalf("mark with a recorded key: %v", err)
	}
	if !processed(t, s, "src", "new") {
		t.Fatal("a new key beside a recorded one was not recorded")
	}
}

func testMismatchedCounts(t *testing.T, s ingest.ObjectLog) {
	if err := s.MarkProcessed(context.Background(), "src", []string{"a", "b"}, []int{1}, at); err == nil {
		t.Fatal("two keys with one record count: no error")
	}
	if processed(t, s, "src", "a") {
		t.Fatal("a refused mark recorded an object")
	}
}

// Replicas that see one object (an SQS message delivered twice, two pollers) record it at once.
func testConcurrentMarks(t *testing.T, s ingest.ObjectLog) {
	ctx := context.Background()
	keys := make([]string, 50)
	counts := make([]int, 50)
	for i := range keys {
		keys[i], counts[i] = fmt.Sprintf("AWSLogs/1/CloudTrail/us-east-1/2026/11/25/%03d.json.gz", i), i
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.MarkProcessed(ctx, "src", keys, counts, at) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent mark: %v", err)
		}
	}
	for _, k := range keys {
		if !processed(t, s, "src", k) {
			t.Fatalf("%s not recorded", k)
		}
	}
}

func testCursors(t *testing.T, s ingest.ObjectLog) {
	ctx := context.Background()
	got, err := s.Cursors(ctx, "src")
	if err != nil || len(got) != 0 {
		t.Fatalf("cursors of a new source: %v %v", got, err)
	}
	if err := s.SaveCursors(ctx, "src", nil); err != nil {
		t.Fatalf("save no cursors: %v", err)
	}
	first := map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "k1", "AWSLogs/2/CloudTrail/eu-west-1/": "k9"}
	if err := s.SaveCursors(ctx, "src", first); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursors(ctx, "src", map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "k2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursors(ctx, "other", map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "x"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Cursors(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"AWSLogs/1/CloudTrail/us-east-1/": "k2", "AWSLogs/2/CloudTrail/eu-west-1/": "k9"}
	if !maps.Equal(got, want) {
		t.Fatalf("cursors = %v, want %v", got, want)
	}
}
