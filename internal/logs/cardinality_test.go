package logs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

// DisableMetricFilter of the fake store keeps the status on the matching filter version.
func (f *fakeStore) DisableMetricFilter(_ context.Context, _ Scope, group, name string, creationTime int64, st FilterStatus) error {
	for i := range f.filters {
		if fl := &f.filters[i]; fl.LogGroupName == group && fl.FilterName == name && fl.CreationTime == creationTime {
			fl.Status = &st
		}
	}
	return nil
}

func dims(kv ...string) []pattern.DimensionValue {
	var out []pattern.DimensionValue
	for i := 0; i < len(kv); i += 2 {
		out = append(out, pattern.DimensionValue{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// TestDimLimit pins the cardinality rule: 1,000 distinct name/value pairs within an hour are
// allowed, the sample bringing the 1,001st is refused and disables the filter for good (even for
// pairs seen before), pairs count per dimension, and pairs not generated for an hour make room.
func TestDimLimit(t *testing.T) {
	t.Run("1001 values", func(t *testing.T) {
		var l dimLimit
		for i := range 1000 {
			if ok, trip := l.admit(dims("User", fmt.Sprint(i)), 0); !ok || trip {
				t.Fatalf("value %d: ok %v trip %v", i+1, ok, trip)
			}
		}
		if ok, _ := l.admit(dims("User", "0"), 1); !ok {
			t.Fatal("a pair already seen was refused")
		}
		if ok, trip := l.admit(dims("User", "new"), 2); ok || !trip {
			t.Fatalf("1,001st value: ok %v trip %v", ok, trip)
		}
		if ok, trip := l.admit(dims("User", "0"), 3); ok || trip {
			t.Fatalf("after disabling: ok %v trip %v", ok, trip)
		}
	})
	t.Run("pairs of two dimensions", func(t *testing.T) {
		var l dimLimit
		for i := range 500 {
			if ok, _ := l.admit(dims("A", fmt.Sprint(i), "B", fmt.Sprint(i)), 0); !ok {
				t.Fatalf("sample %d refused", i)
			}
		}
		// A=0 is known, B=new is the 1,001st pair.
		if ok, trip := l.admit(dims("A", "0", "B", "new"), 0); ok || !trip {
			t.Fatalf("1,001st pair: ok %v trip %v", ok, trip)
		}
	})
	t.Run("sliding hour", func(t *testing.T) {
		var l dimLimit
		for i := range 1000 {
			l.admit(dims("User", fmt.Sprint(i)), int64(i)*minute/100) // over 10 minutes
		}
		// 60 minutes after the first pair, the earliest ones are an hour old and make room.
		at := hour + 5*minute/100
		for i := range 6 { // the pairs of 0, 600, ..., 3000 ms are an hour old
			if ok, _ := l.admit(dims("User", fmt.Sprint("late", i)), at); !ok {
				t.Fatalf("late value %d refused though 6 pairs are an hour old", i)
			}
		}
		if ok, trip := l.admit(dims("User", "one too many"), at); ok || !trip {
			t.Fatalf("1,001st pair within the hour: ok %v trip %v", ok, trip)
		}
	})
}

// TestPutLogEventsDisablesHighCardinalityFilter drives the rule through PutLogEvents: a filter whose
// dimension takes 1,001 distinct values within an hour publishes the first 1,000, is disabled at the
// 1,001st (logged once, stored, shown by DescribeMetricFilters) and publishes nothing more, while the
// group's other filter goes on. Putting the filter again enables it.
func TestPutLogEventsDisablesHighCardinalityFilter(t *testing.T) {
	users := MetricFilter{LogGroupName: "g", FilterName: "users", FilterPattern: `{ $.user = * }`, CreationTime: 5,
		Transformation: MetricTransformation{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1", Dimensions: map[string]string{"User": "$.user"}}}
	all := MetricFilter{LogGroupName: "g", FilterName: "all", FilterPattern: `{ $.user = * }`, CreationTime: 5,
		Transformation: MetricTransformation{MetricName: "AllCalls", MetricNamespace: "App", MetricValue: "1"}}
	fs := &fakeStore{group: LogGroup{Name: "g"}, filters: []MetricFilter{all, users}}
	clock := now
	s := NewService(fs, func() time.Time { return clock })
	var logged bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	ctx := context.Background()
	put := func(first, n int) (calls, perUser int) {
		t.Helper()
		var evs []InputLogEvent
		for i := first; i < first+n; i++ {
			evs = append(evs, InputLogEvent{Timestamp: nowMs(), Message: fmt.Sprintf(`{"user":"u%d"}`, i)})
		}
		before := len(fs.batches)
		if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
		for _, b := range fs.batches[before:] {
			for _, smp := range filterSamples(b.Samples) {
				if smp.MetricName == "Calls" {
					perUser++
				} else {
					calls++
				}
			}
		}
		return calls, perUser
	}
	if calls, perUser := put(0, 999); calls != 999 || perUser != 999 {
		t.Fatalf("first 999 values: %d, %d samples", calls, perUser)
	}
	if _, perUser := put(999, 1); perUser != 1 {
		t.Fatal("the 1,000th distinct value did not count")
	}
	if strings.Contains(logged.String(), "disabled") || fs.filters[1].Status != nil {
		t.Fatalf("disabled at 1,000 values: %s", logged.String())
	}
	clock = clock.Add(30 * time.Minute)
	if calls, perUser := put(1000, 3); calls != 3 || perUser != 0 {
		t.Fatalf("1,001st value: %d, %d samples; want the other filter's 3 and none of the limited one", calls, perUser)
	}
	if calls, perUser := put(0, 2); calls != 2 || perUser != 0 {
		t.Fatalf("after disabling: %d, %d samples", calls, perUser)
	}
	if n := strings.Count(logged.String(), "metric filter disabled"); n != 1 || !strings.Contains(logged.String(), "filter=users") {
		t.Fatalf("logged %d times:\n%s", n, logged.String())
	}
	want := FilterStatus{State: FilterStateDisabled, Time: clock.UnixMilli(),
		Reason: "its dimensions generated more than 1000 different name/value pairs within one hour"}
	out, err := s.DescribeMetricFilters(ctx, scope, DescribeMetricFiltersInput{LogGroupName: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricFilters) != 2 || out.MetricFilters[0].Status != nil || out.MetricFilters[1].Status == nil || *out.MetricFilters[1].Status != want {
		t.Fatalf("described %+v, want users %+v", out.MetricFilters, want)
	}
	// A reload (here: of a new service, as after a restart) reads the stored state.
	s = NewService(fs, func() time.Time { return clock })
	if _, perUser := put(0, 1); perUser != 0 {
		t.Fatal("disabled filter published after a reload")
	}
	// PutMetricFilter replaces the filter (the fake store by hand: a new version, no status).
	fs.filters[1] = users
	fs.filters[1].CreationTime = 6
	s.forget(scope, "g")
	if _, perUser := put(5000, 1); perUser != 1 {
		t.Fatal("filter put again did not publish")
	}
}

// TestInvalidStoredFilterIsLoggedAndShown stores a filter whose pattern does not compile (as after
// a pattern-language change): ingestion goes on with the other filters, the skip is logged once per
// load with the group, filter and error, and DescribeMetricFilters shows the filter as INVALID.
func TestInvalidStoredFilterIsLoggedAndShown(t *testing.T) {
	bad := MetricFilter{LogGroupName: "g", FilterName: "root", FilterPattern: `{ $.userIdentity.type = `, CreationTime: 5,
		Transformation: MetricTransformation{MetricName: "Root", MetricNamespace: "CT", MetricValue: "1"}}
	good := MetricFilter{LogGroupName: "g", FilterName: "any", FilterPattern: ``, CreationTime: 5,
		Transformation: MetricTransformation{MetricName: "Any", MetricNamespace: "CT", MetricValue: "1"}}
	fs := &fakeStore{group: LogGroup{Name: "g"}, filters: []MetricFilter{good, bad}}
	s := NewService(fs, func() time.Time { return now })
	var logged bytes.Buffer
	s.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	ctx := context.Background()
	for range 3 {
		if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(nowMs())}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logged.String(), "metric filter skipped"); n != 1 {
		t.Fatalf("logged %d times, want once per load:\n%s", n, logged.String())
	}
	for _, want := range []string{"logGroup=g", "filter=root", "error="} {
		if !strings.Contains(logged.String(), want) {
			t.Fatalf("log line lacks %q: %s", want, logged.String())
		}
	}
	if fsamples := filterSamples(fs.batches[2].Samples); len(fsamples) != 1 || fsamples[0].MetricName != "Any" {
		t.Fatalf("the valid filter stopped publishing: %+v", fs.batches[2].Samples)
	}
	out, err := s.DescribeMetricFilters(ctx, scope, DescribeMetricFiltersInput{LogGroupName: "g"})
	if err != nil {
		t.Fatal(err)
	}
	st := out.MetricFilters[1].Status
	if out.MetricFilters[0].Status != nil || st == nil || st.State != FilterStateInvalid ||
		!strings.HasPrefix(st.Reason, "The stored filter pattern no longer compiles: ") {
		t.Fatalf("described %+v (status %+v)", out.MetricFilters, st)
	}
	// A change to the group reloads its state: logged once more.
	s.forget(scope, "g")
	if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(nowMs())}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logged.String(), "metric filter skipped"); n != 2 {
		t.Fatalf("logged %d times after a reload, want 2:\n%s", n, logged.String())
	}
}
