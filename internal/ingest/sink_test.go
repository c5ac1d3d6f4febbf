package ingest

import (
	"context"
	"errors"
	"fmt"
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

// TestDeliverStreams checks that Deliver writes streams concurrently (so the store's group commit
// can share commits between them), each stream's batches in time order, and reports the first
// error after the other streams' batches are stored.
func TestDeliverStreams(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var res cloudtrail.Result
	for a := range 6 {
		// 25,000 records per stream: three batches of at most 10,000, which must arrive in order.
		for i := range 25000 {
			res.Records = append(res.Records, rec(fmt.Sprint(a), "r", t0.Add(time.Duration(25000-i)*time.Millisecond), 10))
		}
	}
	w := &recordingWriter{batches: map[string][]int64{}, overlap: make(chan struct{})}
	st, err := NewSink(w, nil).Deliver(context.Background(), Destination{Scope: testScope, LogGroup: "ct"}, res)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stored != 150000 || st.Bytes != 1500000 {
		t.Fatalf("stats %+v", st)
	}
	if !w.overlapped {
		t.Fatal("no two batches were ever in flight together; streams were written one at a time")
	}
	for stream, firsts := range w.batches {
		if len(firsts) != 3 || firsts[0] >= firsts[1] || firsts[1] >= firsts[2] {
			t.Fatalf("stream %s: batches starting at %v, want three in time order", stream, firsts)
		}
	}

	w = &recordingWriter{batches: map[string][]int64{}, failStream: "3_CloudTrail_r"}
	st, err = NewSink(w, nil).Deliver(context.Background(), Destination{Scope: testScope, LogGroup: "ct"}, cloudtrail.Result{Records: []cloudtrail.Record{
		rec("1", "r", t0, 10), rec("2", "r", t0, 10), rec("3", "r", t0, 10)}})
	if err == nil || st.Stored > 2 {
		t.Fatalf("failing stream: %+v, %v", st, err)
	}
}
