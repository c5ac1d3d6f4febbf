package logs

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestOnPutLogEvents checks that the hook sees exactly the events a PutLogEvents call stored
// (not the ones rejected for their time) and is not called for a failed call.
func TestOnPutLogEvents(t *testing.T) {
	fs := &fakeStore{group: LogGroup{Name: "g", RetentionInDays: 1}}
	s := NewService(fs, func() time.Time { return now })
	type call struct {
		sc     Scope
		group  string
		events []InputLogEvent
	}
	var got []call
	s.OnPutLogEvents = func(sc Scope, group string, ev []InputLogEvent) {
		got = append(got, call{sc, group, append([]InputLogEvent(nil), ev...)})
	}
	ctx := context.Background()
	n := nowMs()
	if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s",
		LogEvents: []InputLogEvent{{n - day - 1, "expired"}, {n - 2, "a"}, {n - 2, "bb"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "nope", LogEvents: events(n)}); err == nil {
		t.Fatal("PutLogEvents to a missing stream succeeded")
	}
	want := []call{{scope, "g", []InputLogEvent{{n - 2, "a"}, {n - 2, "bb"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnPutLogEvents saw %+v, want %+v", got, want)
	}
}
