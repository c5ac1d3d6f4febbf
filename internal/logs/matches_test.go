package logs

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

// dedupStore is fakeStore with AppendUnique: keys seen before are duplicates.
type dedupStore struct {
	*fakeStore
	seen map[string]bool
}

func (d *dedupStore) AppendUnique(_ context.Context, _ Scope, b AppendBatch) (AppendResult, error) {
	res := AppendResult{Duplicate: make([]bool, len(b.Events))}
	for i, k := range b.DedupKeys {
		res.Duplicate[i] = k != "" && d.seen[k]
		d.seen[k] = true
	}
	return res, nil
}

// TestOnStoredAndMatchingFilters checks that OnStored sees every committed batch, from
// PutLogEvents and PutRecords, without a record group's duplicates, and that MatchingFilters
// names the filters each message matches.
func TestOnStoredAndMatchingFilters(t *testing.T) {
	fs := &fakeStore{group: LogGroup{Name: "g"}, filters: []MetricFilter{
		{LogGroupName: "g", FilterName: "root", FilterPattern: `{ $.userIdentity.type = "Root" }`, Transformation: MetricTransformation{MetricName: "R", MetricNamespace: "N", MetricValue: "1"}},
		{LogGroupName: "g", FilterName: "login", FilterPattern: `{ $.eventName = "ConsoleLogin" }`, Transformation: MetricTransformation{MetricName: "L", MetricNamespace: "N", MetricValue: "1"}},
	}}
	s := NewService(&dedupStore{fakeStore: fs, seen: map[string]bool{}}, func() time.Time { return now })
	var got []StoredBatch
	s.OnStored = func(b StoredBatch) { got = append(got, b) }
	ctx := context.Background()
	n := nowMs()
	root := `{"userIdentity":{"type":"Root"},"eventName":"ConsoleLogin"}`
	other := `{"userIdentity":{"type":"IAMUser"},"eventName":"ListBuckets"}`
	if _, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: []InputLogEvent{{n - 2, root}, {n - 1, other}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutRecords(ctx, scope, PutRecordsInput{LogGroupName: "g", LogStreamName: "ct", Events: []InputLogEvent{{n - 2, root}, {n - 1, other}}, DedupKeys: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	// Redelivered "a" is a duplicate; only "c" is stored.
	if _, err := s.PutRecords(ctx, scope, PutRecordsInput{LogGroupName: "g", LogStreamName: "ct", Events: []InputLogEvent{{n - 2, root}, {n - 1, other}}, DedupKeys: []string{"a", "c"}}); err != nil {
		t.Fatal(err)
	}
	// All duplicates: no call.
	if _, err := s.PutRecords(ctx, scope, PutRecordsInput{LogGroupName: "g", LogStreamName: "ct", Events: []InputLogEvent{{n - 2, root}}, DedupKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	want := []StoredBatch{
		{scope, "g", "s", n, []InputLogEvent{{n - 2, root}, {n - 1, other}}},
		{scope, "g", "ct", n, []InputLogEvent{{n - 2, root}, {n - 1, other}}},
		{scope, "g", "ct", n, []InputLogEvent{{n - 1, other}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OnStored saw %+v\nwant %+v", got, want)
	}
	m, err := s.MatchingFilters(ctx, scope, "g", []string{root, other, "not json"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || !slices.Equal(m[0], []string{"root", "login"}) && !slices.Equal(m[0], []string{"login", "root"}) || m[1] != nil || m[2] != nil {
		t.Errorf("MatchingFilters = %q, want [[root login] [] []]", m)
	}
	if _, err := s.MatchingFilters(ctx, scope, "missing", []string{root}); err == nil {
		t.Error("MatchingFilters of a missing group succeeded")
	}
}
