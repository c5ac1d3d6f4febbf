package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/logs"
)

// recordingWriter is a RecordWriter that remembers, per stream, the first timestamp of each batch
// in the order the batches arrived, and fails every batch of one stream. With overlap set, calls
// wait until two are in flight at once (or give up after 10 s, which sequential delivery causes).
type recordingWriter struct {
	mu         sync.Mutex
	batches    map[string][]int64
	inFlight   int
	failStream string
	overlap    chan struct{} // closed once two calls are in flight, or once a call gave up waiting
	overlapped bool
	once       sync.Once
}

func (w *recordingWriter) PutRecords(_ context.Context, _ logs.Scope, in logs.PutRecordsInput) (logs.PutRecordsOutput, error) {
	w.mu.Lock()
	w.inFlight++
	if w.overlap != nil && w.inFlight == 2 {
		w.once.Do(func() { w.overlapped = true; close(w.overlap) })
	}
	w.mu.Unlock()
	if w.overlap != nil {
		select {
		case <-w.overlap:
		case <-time.After(10 * time.Second):
			w.once.Do(func() { close(w.overlap) })
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight--
	if in.LogStreamName == w.failStream {
		return logs.PutRecordsOutput{}, errors.New("disk on fire")
	}
	w.batches[in.LogStreamName] = append(w.batches[in.LogStreamName], in.Events[0].Timestamp)
	return logs.PutRecordsOutput{Stored: len(in.Events)}, nil
}

// TestDeliverBatches checks that Deliver writes batches concurrently, those of one stream too (so
// the store's group commit can share commits between them), delivers every record of every stream
// exactly once, and reports the first error after the other batches are stored.
func TestDeliverBatches(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, streams := range []int{1, 6} {
		var res cloudtrail.Result
		for a := range streams {
			// 25,000 records per stream, newest first: three batches of at most 10,000, cut evenly.
			for i := range 25000 {
				res.Records = append(res.Records, rec(fmt.Sprint(a), "r", t0.Add(time.Duration(25000-i)*time.Millisecond), 10))
			}
		}
		w := &recordingWriter{batches: map[string][]int64{}, overlap: make(chan struct{})}
		st, err := NewSink(w, nil).Deliver(context.Background(), Destination{Scope: testScope, LogGroup: "ct"}, res)
		if err != nil {
			t.Fatal(err)
		}
		if st.Stored != 25000*streams || st.Bytes != 250000*int64(streams) {
			t.Fatalf("%d streams: stats %+v", streams, st)
		}
		if !w.overlapped {
			t.Fatalf("%d streams: no two batches were ever in flight together", streams)
		}
		for stream, firsts := range w.batches {
			slices.Sort(firsts)
			// Batches cut a stream's records in time order: 8,334, 8,334, then 8,332 ms.
			want := []int64{t0.Add(time.Millisecond).UnixMilli(), t0.Add(8335 * time.Millisecond).UnixMilli(), t0.Add(16669 * time.Millisecond).UnixMilli()}
			if !slices.Equal(firsts, want) {
				t.Fatalf("stream %s: batches starting at %v, want %v", stream, firsts, want)
			}
		}
	}

	w := &recordingWriter{batches: map[string][]int64{}, failStream: "3_CloudTrail_r"}
	st, err := NewSink(w, nil).Deliver(context.Background(), Destination{Scope: testScope, LogGroup: "ct"}, cloudtrail.Result{Records: []cloudtrail.Record{
		rec("1", "r", t0, 10), rec("2", "r", t0, 10), rec("3", "r", t0, 10)}})
	if err == nil || st.Stored > 2 {
		t.Fatalf("failing stream: %+v, %v", st, err)
	}
}
