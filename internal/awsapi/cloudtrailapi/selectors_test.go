package cloudtrailapi

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// mapStore is a trail.Store for the adapter's tests (the stores themselves are tested by
// trailtest).
type mapStore struct {
	mu sync.Mutex
	m  map[string]trail.Trail
}

func (s *mapStore) CreateTrail(_ context.Context, _ trail.Scope, t trail.Trail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[t.Name]; ok {
		return trail.ErrExists
	}
	s.m[t.Name] = t
	return nil
}

func (s *mapStore) GetTrail(_ context.Context, _ trail.Scope, name string) (trail.Trail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[name]
	if !ok {
		return trail.Trail{}, trail.ErrNotFound
	}
	return t, nil
}

func (s *mapStore) ListTrails(context.Context, trail.Scope) ([]trail.Trail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []trail.Trail
	for _, t := range s.m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *mapStore) UpdateTrail(_ context.Context, _ trail.Scope, name string, fn func(*trail.Trail) error) (trail.Trail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[name]
	if !ok {
		return trail.Trail{}, trail.ErrNotFound
	}
	if err := fn(&t); err != nil {
		return trail.Trail{}, err
	}
	s.m[name] = t
	return t, nil
}

func (s *mapStore) DeleteTrail(_ context.Context, _ trail.Scope, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, name)
	return nil
}

// TestEventSelectors runs PutEventSelectors and GetEventSelectors requests, in order, on one
// trail and compares each answer (or error code) with AWS's shapes: the default selector of a
// new trail with its empty lists, the defaults of absent members, TrailARN, name or ARN as
// TrailName, one kind of selectors replacing the other.
func TestEventSelectors(t *testing.T) {
	ctx := awsapi.WithCaller(context.Background(), awsapi.Identity{AccountID: "111122223333", Region: "us-east-1"})
	a := &adapter{t: trail.NewService(&mapStore{m: map[string]trail.Trail{}}, nil)}
	if _, err := a.createTrail(ctx, &trailInput{Name: "main", S3BucketName: ptr("b")}); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"
	steps := []struct {
		op, in, want, code string
	}{
		{op: "Get", in: `{"TrailName":"main"}`,
			want: `{"TrailARN":"` + arn + `","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]}`},
		{op: "Trail", want: `false`},
		{op: "Put", in: `{"TrailName":"` + arn + `","EventSelectors":[{"ReadWriteType":"WriteOnly","ExcludeManagementEventSources":["kms.amazonaws.com"]},{"IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::bucket/"]}]}]}`,
			want: `{"TrailARN":"` + arn + `","EventSelectors":[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":["kms.amazonaws.com"]},{"ReadWriteType":"All","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::bucket/"]}],"ExcludeManagementEventSources":[]}]}`},
		{op: "Trail", want: `true`},
		{op: "Get", in: `{"TrailName":"` + arn + `"}`,
			want: `{"TrailARN":"` + arn + `","EventSelectors":[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":["kms.amazonaws.com"]},{"ReadWriteType":"All","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::bucket/"]}],"ExcludeManagementEventSources":[]}]}`},
		{op: "Put", in: `{"TrailName":"main","AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]}`,
			want: `{"TrailARN":"` + arn + `","AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]}`},
		{op: "Get", in: `{"TrailName":"main"}`,
			want: `{"TrailARN":"` + arn + `","AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]}`},
		{op: "Put", in: `{"TrailName":"main","EventSelectors":[],"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}`, code: "InvalidEventSelectorsException"},
		{op: "Put", in: `{"TrailName":"main","EventSelectors":[{"ReadWriteType":"read-only"}]}`, code: "InvalidEventSelectorsException"},
		{op: "Put", in: `{"TrailName":"main"}`, code: "InvalidEventSelectorsException"},
		{op: "Get", in: `{"TrailName":"main"}`,
			want: `{"TrailARN":"` + arn + `","AdvancedEventSelectors":[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]}`},
		{op: "Put", in: `{"TrailName":"nope","EventSelectors":[{}]}`, code: "TrailNotFoundException"},
		{op: "Get", in: `{"TrailName":"x"}`, code: "InvalidTrailNameException"},
		{op: "Get", in: `{"TrailName":"arn:aws:cloudtrail:us-east-1:111122223333:channel/x"}`, code: "CloudTrailARNInvalidException"},
		{op: "Put", in: `{"TrailName":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/main","EventSelectors":[{}]}`, code: "InvalidHomeRegionException"},
		{op: "Put", in: `{"TrailName":"main","EventSelectors":[{}]}`,
			want: `{"TrailARN":"` + arn + `","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]}`},
		{op: "Trail", want: `true`},
	}
	for i, st := range steps {
		var out any
		var err error
		switch st.op {
		case "Get":
			var in trailNameInput
			if err := json.Unmarshal([]byte(st.in), &in); err != nil {
				t.Fatal(err)
			}
			out, err = a.getEventSelectors(ctx, &in)
		case "Put":
			var in putEventSelectorsInput
			if err := json.Unmarshal([]byte(st.in), &in); err != nil {
				t.Fatal(err)
			}
			out, err = a.putEventSelectors(ctx, &in)
		case "Trail":
			g, gerr := a.getTrail(ctx, &nameInput{Name: "main"})
			out, err = g.Trail.HasCustomEventSelectors, gerr
		}
		if st.code != "" {
			var e *trail.Error
			if !errors.As(err, &e) || e.Code != st.code {
				t.Errorf("step %d %s %s: err %v, want %s", i, st.op, st.in, err, st.code)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d %s %s: %v", i, st.op, st.in, err)
		}
		b, _ := json.Marshal(out)
		if string(b) != st.want {
			t.Errorf("step %d %s %s:\n got %s\nwant %s", i, st.op, st.in, b, st.want)
		}
	}
}
