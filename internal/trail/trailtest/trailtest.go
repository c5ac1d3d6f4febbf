// Package trailtest is the conformance suite of trail.Store: every storage backend runs Run, so
// the trail service can rely on the same contract, above all that UpdateTrail is one
// read-modify-write (issue 11: a StopLogging racing an UpdateTrail must not be undone).
package trailtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/trail"
)

var (
	scopeA = trail.Scope{AccountID: "111111111111", Region: "us-east-1"}
	scopeB = trail.Scope{AccountID: "222222222222", Region: "us-east-1"}
)

// Run runs the suite; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) trail.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s trail.Store)
	}{
		{"CreateGetList", testCreateGetList},
		{"UpdateAndDelete", testUpdateAndDelete},
		{"UpdateIsAtomic", testUpdateIsAtomic},
		{"StopRacesUpdate", testStopRacesUpdate},
		{"Selectors", testSelectors},
		{"SelectorsRaceUpdates", testSelectorsRaceUpdates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testCreateGetList(t *testing.T, s trail.Store) {
	ctx := context.Background()
	must(t, s.CreateTrail(ctx, scopeA, trail.Trail{Name: "zeta", S3BucketName: "b1", SqsQueueURL: "https://q"}))
	must(t, s.CreateTrail(ctx, scopeA, trail.Trail{Name: "alpha", S3BucketName: "b2"}))
	must(t, s.CreateTrail(ctx, scopeB, trail.Trail{Name: "zeta", S3BucketName: "other"}))
	if err := s.CreateTrail(ctx, scopeA, trail.Trail{Name: "zeta", S3BucketName: "b3"}); !errors.Is(err, trail.ErrExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	got, err := s.GetTrail(ctx, scopeA, "zeta")
	must(t, err)
	if got.S3BucketName != "b1" || got.SqsQueueURL != "https://q" {
		t.Fatalf("get: %+v", got)
	}
	if _, err := s.GetTrail(ctx, scopeB, "alpha"); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("get of another scope: %v", err)
	}
	list, err := s.ListTrails(ctx, scopeA)
	must(t, err)
	if len(list) != 2 || list[0].Name != "alpha" || list[1].Name != "zeta" {
		t.Fatalf("list: %+v", list)
	}
}

func testUpdateAndDelete(t *testing.T, s trail.Store) {
	ctx := context.Background()
	must(t, s.CreateTrail(ctx, scopeA, trail.Trail{Name: "main", S3BucketName: "b"}))
	up, err := s.UpdateTrail(ctx, scopeA, "main", func(t *trail.Trail) error { t.Logging = true; return nil })
	must(t, err)
	if !up.Logging || up.Name != "main" || up.S3BucketName != "b" {
		t.Fatalf("update returned %+v", up)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateTrail(ctx, scopeA, "main", func(t *trail.Trail) error { t.Logging = false; return refused }); err != refused {
		t.Fatalf("update refused by fn: %v, want the fn's error as is", err)
	}
	if got, _ := s.GetTrail(ctx, scopeA, "main"); !got.Logging {
		t.Fatalf("a refused update was stored: %+v", got)
	}
	if _, err := s.UpdateTrail(ctx, scopeB, "main", func(*trail.Trail) error { return nil }); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("update of another scope: %v", err)
	}
	must(t, s.DeleteTrail(ctx, scopeA, "main"))
	if err := s.DeleteTrail(ctx, scopeA, "main"); !errors.Is(err, trail.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// testUpdateIsAtomic has many goroutines append to a trail's prefix at once: none is lost.
func testUpdateIsAtomic(t *testing.T, s trail.Store) {
	ctx := context.Background()
	must(t, s.CreateTrail(ctx, scopeA, trail.Trail{Name: "main", S3BucketName: "b"}))
	const n = 32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.UpdateTrail(ctx, scopeA, "main", func(t *trail.Trail) error { t.S3KeyPrefix += "x"; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetTrail(ctx, scopeA, "main")
	must(t, err)
	if got.S3KeyPrefix != strings.Repeat("x", n) {
		t.Fatalf("prefix %q: %d of %d updates kept", got.S3KeyPrefix, len(got.S3KeyPrefix), n)
	}
}

// testStopRacesUpdate drives the trail service over the store: a StopLogging among UpdateTrails
// at once is never undone, and the last change the service reports is the stopped trail.
func testStopRacesUpdate(t *testing.T, s trail.Store) {
	ctx := context.Background()
	svc := trail.NewService(s, nil)
	var mu sync.Mutex
	var last *trail.Trail
	svc.OnChange = func(_ trail.Scope, _ string, tr *trail.Trail) {
		mu.Lock()
		defer mu.Unlock()
		last = tr
	}
	if _, err := svc.Create(ctx, scopeA, trail.Trail{Name: "main", S3BucketName: "b"}); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		must(t, svc.SetLogging(ctx, scopeA, "main", true))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				<-start
				if _, err := svc.Update(ctx, scopeA, "main", func(tr *trail.Trail) { tr.S3KeyPrefix = fmt.Sprint(round, "-", i) }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := svc.SetLogging(ctx, scopeA, "main", false); err != nil {
				t.Error(err)
			}
		})
		close(start)
		wg.Wait()
		st, err := svc.GetStatus(ctx, scopeA, "main")
		must(t, err)
		mu.Lock()
		stopped := last != nil && !last.Logging
		mu.Unlock()
		if st.IsLogging || !stopped {
			t.Fatalf("round %d: IsLogging %v, last change %+v: the StopLogging was lost", round, st.IsLogging, last)
		}
	}
}

// testSelectors checks that a trail's event selectors (PutEventSelectors) are stored with it and
// read back whole by GetTrail and ListTrails: nil for a trail that never had any, basic selectors
// with their data resources and excluded sources, advanced ones replacing them with every
// operator, and kept by an update of another member.
func testSelectors(t *testing.T, s trail.Store) {
	ctx := context.Background()
	must(t, s.CreateTrail(ctx, scopeA, trail.Trail{Name: "main", S3BucketName: "b"}))
	if got, _ := s.GetTrail(ctx, scopeA, "main"); got.Selectors != nil {
		t.Fatalf("a new trail has selectors %+v, want none (the default)", got.Selectors)
	}
	basic := trail.Selectors{Basic: []trail.EventSelector{
		{ReadWriteType: "WriteOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
		{ReadWriteType: "All", DataResources: []trail.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b1/", "arn:aws:s3:::b2/p"}}}},
	}}
	advanced := trail.Selectors{Advanced: []trail.AdvancedEventSelector{
		{Name: "mgmt", FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
		{FieldSelectors: []trail.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::a/"}, EndsWith: []string{".log"}, NotEquals: []string{"arn:aws:s3:::a/x"},
				NotStartsWith: []string{"arn:aws:s3:::a/tmp/"}, NotEndsWith: []string{".tmp"}}}},
	}}
	for _, want := range []trail.Selectors{basic, advanced} {
		up, err := s.UpdateTrail(ctx, scopeA, "main", func(t *trail.Trail) error { c := want; t.Selectors = &c; return nil })
		must(t, err)
		if up.Selectors == nil || !reflect.DeepEqual(*up.Selectors, want) {
			t.Fatalf("update returned selectors %+v, want %+v", up.Selectors, want)
		}
		got, err := s.GetTrail(ctx, scopeA, "main")
		must(t, err)
		if got.Selectors == nil || !reflect.DeepEqual(*got.Selectors, want) {
			t.Fatalf("stored selectors %+v, want %+v", got.Selectors, want)
		}
	}
	_, err := s.UpdateTrail(ctx, scopeA, "main", func(t *trail.Trail) error { t.Logging = true; return nil })
	must(t, err)
	list, err := s.ListTrails(ctx, scopeA)
	must(t, err)
	if len(list) != 1 || list[0].Selectors == nil || !reflect.DeepEqual(*list[0].Selectors, advanced) || !list[0].Logging {
		t.Fatalf("list after an update of another member: %+v", list)
	}
}

// testSelectorsRaceUpdates drives the trail service over the store: PutEventSelectors calls racing
// UpdateTrail and StopLogging lose none of them; the trail ends stopped, with the prefix of one
// update and the selectors of one put.
func testSelectorsRaceUpdates(t *testing.T, s trail.Store) {
	ctx := context.Background()
	svc := trail.NewService(s, nil)
	if _, err := svc.Create(ctx, scopeA, trail.Trail{Name: "main", S3BucketName: "b"}); err != nil {
		t.Fatal(err)
	}
	must(t, svc.SetLogging(ctx, scopeA, "main", true))
	rw := []string{"ReadOnly", "WriteOnly", "All"}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			<-start
			if _, err := svc.PutSelectors(ctx, scopeA, "main", []trail.EventSelector{{ReadWriteType: rw[i%3], IncludeManagementEvents: true}}, nil); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			<-start
			if _, err := svc.Update(ctx, scopeA, "main", func(tr *trail.Trail) { tr.S3KeyPrefix = fmt.Sprint("p", i) }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		<-start
		if err := svc.SetLogging(ctx, scopeA, "main", false); err != nil {
			t.Error(err)
		}
	})
	close(start)
	wg.Wait()
	got, err := s.GetTrail(ctx, scopeA, "main")
	must(t, err)
	if got.Logging || !strings.HasPrefix(got.S3KeyPrefix, "p") || got.Selectors == nil || len(got.Selectors.Basic) != 1 {
		t.Fatalf("after the race: logging %v, prefix %q, selectors %+v: a change was lost", got.Logging, got.S3KeyPrefix, got.Selectors)
	}
}
