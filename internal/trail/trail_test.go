package trail

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory Store. Its reads yield the processor after reading, so that a caller
// racing a read against a write (issue 11's lost StopLogging) loses often.
type memStore struct {
	mu     sync.Mutex
	trails map[Scope]map[string]Trail
}

func (m *memStore) scope(sc Scope) map[string]Trail {
	if m.trails[sc] == nil {
		m.trails[sc] = map[string]Trail{}
	}
	return m.trails[sc]
}

func (m *memStore) CreateTrail(_ context.Context, sc Scope, t Trail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.scope(sc)[t.Name]; ok {
		return ErrExists
	}
	m.scope(sc)[t.Name] = t
	return nil
}

func (m *memStore) GetTrail(_ context.Context, sc Scope, name string) (Trail, error) {
	m.mu.Lock()
	t, ok := m.scope(sc)[name]
	m.mu.Unlock()
	runtime.Gosched()
	if !ok {
		return Trail{}, ErrNotFound
	}
	return t, nil
}

func (m *memStore) ListTrails(_ context.Context, sc Scope) ([]Trail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Trail
	for _, t := range m.scope(sc) {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (m *memStore) UpdateTrail(_ context.Context, sc Scope, name string, fn func(*Trail) error) (Trail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.scope(sc)[name]
	if !ok {
		return Trail{}, ErrNotFound
	}
	if err := fn(&t); err != nil {
		return Trail{}, err
	}
	m.scope(sc)[name] = t
	return t, nil
}

func (m *memStore) DeleteTrail(_ context.Context, sc Scope, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.scope(sc)[name]; !ok {
		return ErrNotFound
	}
	delete(m.scope(sc), name)
	return nil
}

func TestCheckName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"main", ""},
		{"a.b-c_d9", ""},
		{"ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."},
		{strings.Repeat("a", 129), "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters."},
		{"_abc", "Trail name must starts with a letter or number."},
		{"abc-", "Trail name must ends with a letter or number."},
		{"a b c", "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_)."},
	}
	for _, tt := range tests {
		err := checkName(tt.name)
		var e *Error
		if tt.want == "" && err != nil || tt.want != "" && (!errors.As(err, &e) || e.Code != "InvalidTrailNameException" || e.Message != tt.want) {
			t.Errorf("checkName(%q) = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLogGroupName(t *testing.T) {
	sc := Scope{"111122223333", "us-east-1"}
	tests := []struct {
		arn, want string
		ok        bool
	}{
		{"arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/logs:*", "CloudTrail/logs", true},
		{"arn:aws:logs:us-east-1:111122223333:log-group:g", "g", true},
		{"arn:aws:logs:eu-west-1:111122223333:log-group:g", "", false},
		{"arn:aws:logs:us-east-1:999999999999:log-group:g", "", false},
		{"arn:aws:logs:us-east-1:111122223333:log-group:", "", false},
		{"g", "", false},
	}
	for _, tt := range tests {
		if got, ok := LogGroupName(sc, tt.arn); got != tt.want || ok != tt.ok {
			t.Errorf("LogGroupName(%q) = %q, %v", tt.arn, got, ok)
		}
	}
}

// TestService walks a trail through its life and checks the hooks, the AWS errors and that a trail
// of one trailwatch account is invisible to another.
func TestService(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	s := NewService(&memStore{trails: map[Scope]map[string]Trail{}}, func() time.Time { return now })
	s.LogGroupExists = func(_ context.Context, _ Scope, name string) (bool, error) { return name == "ct", nil }
	var changes []string
	s.OnChange = func(_ Scope, name string, t *Trail) {
		if t == nil {
			changes = append(changes, name+":deleted")
		} else {
			changes = append(changes, name+":"+map[bool]string{true: "on", false: "off"}[t.Logging])
		}
	}
	s.Status = func(Scope, string) RuntimeStatus {
		return RuntimeStatus{LatestDeliveryTime: now.Add(time.Minute), LatestDeliveryError: "AccessDenied"}
	}
	ctx := context.Background()
	a, b := Scope{"111122223333", "us-east-1"}, Scope{"444455556666", "us-east-1"}
	arn := "arn:aws:logs:us-east-1:111122223333:log-group:ct:*"
	if _, err := s.Create(ctx, a, Trail{Name: "main", S3BucketName: "bkt", CloudWatchLogsLogGroupArn: arn}); err != nil {
		t.Fatal(err)
	}
	wantErr := func(err error, code, msg string) {
		t.Helper()
		var e *Error
		if !errors.As(err, &e) || e.Code != code || (msg != "" && e.Message != msg) {
			t.Fatalf("got %v, want %s %q", err, code, msg)
		}
	}
	_, err := s.Create(ctx, a, Trail{Name: "main", S3BucketName: "bkt"})
	wantErr(err, "TrailAlreadyExistsException", "Trail main already exists for customer: 111122223333")
	_, err = s.Create(ctx, a, Trail{Name: "other", S3BucketName: "bkt", CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:missing"})
	wantErr(err, "InvalidCloudWatchLogsLogGroupArnException", "")
	_, err = s.Create(ctx, a, Trail{Name: "other"})
	wantErr(err, "InvalidParameterException", "")
	_, err = s.Get(ctx, b, "main")
	wantErr(err, "TrailNotFoundException", "Unknown trail: main for the user: 444455556666")
	if ts, _ := s.Describe(ctx, b, nil); len(ts) != 0 {
		t.Fatalf("account b sees %v", ts)
	}
	if err := s.SetLogging(ctx, a, "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", true); err != nil {
		t.Fatal(err)
	}
	st, err := s.GetStatus(ctx, a, "main")
	if err != nil || !st.IsLogging || !st.StartLoggingTime.Equal(now) || st.LatestDeliveryError != "AccessDenied" || !st.LatestDeliveryTime.Equal(now.Add(time.Minute)) {
		t.Fatalf("status %+v %v", st, err)
	}
	if _, err := s.Update(ctx, a, "main", func(t *Trail) { t.S3KeyPrefix = "org" }); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Describe(ctx, a, []string{"main", "nope"}); len(ts) != 1 || ts[0].S3KeyPrefix != "org" || !ts[0].Logging {
		t.Fatalf("describe %+v", ts)
	}
	if err := s.SetLogging(ctx, a, "main", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, a, "main"); err != nil {
		t.Fatal(err)
	}
	wantErr(s.Delete(ctx, a, "main"), "TrailNotFoundException", "")
	if got := strings.Join(changes, " "); got != "main:off main:on main:on main:off main:deleted" {
		t.Fatalf("changes %s", got)
	}
}

// TestConcurrentStopAndUpdate is issue 11's race at the service: a StopLogging among many
// UpdateTrails at once is never undone, and the hook's last call is the stored, stopped trail.
func TestConcurrentStopAndUpdate(t *testing.T) {
	s := NewService(&memStore{trails: map[Scope]map[string]Trail{}}, nil)
	var mu sync.Mutex
	var last *Trail
	s.OnChange = func(_ Scope, _ string, t *Trail) {
		runtime.Gosched() // a hook that takes time, so that an older change could overtake
		mu.Lock()
		defer mu.Unlock()
		last = t
	}
	ctx := context.Background()
	sc := Scope{"111122223333", "us-east-1"}
	if _, err := s.Create(ctx, sc, Trail{Name: "main", S3BucketName: "bkt"}); err != nil {
		t.Fatal(err)
	}
	for round := range 50 {
		if err := s.SetLogging(ctx, sc, "main", true); err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				<-start
				if _, err := s.Update(ctx, sc, "main", func(t *Trail) { t.S3KeyPrefix = fmt.Sprint(round, "-", i) }); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := s.SetLogging(ctx, sc, "main", false); err != nil {
				t.Error(err)
			}
		})
		close(start)
		wg.Wait()
		st, err := s.GetStatus(ctx, sc, "main")
		if err != nil || st.IsLogging {
			t.Fatalf("round %d: status %+v, %v: the StopLogging was lost", round, st, err)
		}
		mu.Lock()
		if last == nil || last.Logging {
			t.Fatalf("round %d: the last change the runner saw is %+v, want a stopped trail", round, last)
		}
		mu.Unlock()
	}
}

// TestUpdateLogGroupCheckedInTransaction: when another update moves the log group between the
// existence check and the transaction, the update starts again and checks the group it stores.
func TestUpdateLogGroupCheckedInTransaction(t *testing.T) {
	st := &memStore{trails: map[Scope]map[string]Trail{}}
	s := NewService(st, nil)
	sc := Scope{"111122223333", "us-east-1"}
	arn := func(g string) string { return "arn:aws:logs:us-east-1:111122223333:log-group:" + g }
	var checked []string
	moved := false
	s.LogGroupExists = func(_ context.Context, _ Scope, name string) (bool, error) {
		checked = append(checked, name)
		if !moved {
			// Another writer changes the group right after this check.
			moved = true
			st.trails[sc]["main"] = Trail{Name: "main", S3BucketName: "bkt", CloudWatchLogsLogGroupArn: arn("other")}
		}
		return name != "missing", nil
	}
	ctx := context.Background()
	st.trails[sc] = map[string]Trail{"main": {Name: "main", S3BucketName: "bkt", CloudWatchLogsLogGroupArn: arn("g1")}}
	got, err := s.Update(ctx, sc, "main", func(t *Trail) { t.S3KeyPrefix = "p" })
	if err != nil || got.CloudWatchLogsLogGroupArn != arn("other") || got.S3KeyPrefix != "p" {
		t.Fatalf("update: %+v, %v", got, err)
	}
	if fmt.Sprint(checked) != "[g1 other]" {
		t.Fatalf("log groups checked: %v, want [g1 other]", checked)
	}
}

// NewMemStore gives the external conformance test (package trail_test) the in-memory store.
func NewMemStore() Store { return &memStore{trails: map[Scope]map[string]Trail{}} }
