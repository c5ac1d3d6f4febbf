package trail

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Store persists trails, scoped by account and region.
type Store interface {
	// CreateTrail stores a new trail; ErrExists if the name is taken.
	CreateTrail(ctx context.Context, sc Scope, t Trail) error
	// GetTrail returns one trail; ErrNotFound if absent.
	GetTrail(ctx context.Context, sc Scope, name string) (Trail, error)
	// ListTrails returns the scope's trails sorted by name.
	ListTrails(ctx context.Context, sc Scope) ([]Trail, error)
	// UpdateTrail reads the stored trail, applies fn to it and stores the result, all in one
	// transaction, and returns what it stored; ErrNotFound if absent. Two updates of a trail at
	// once therefore never lose each other's changes (a StopLogging is never undone by an
	// UpdateTrail that read the trail before it). An error of fn aborts the update and is
	// returned unwrapped. fn must be quick and touch nothing but the trail: it runs inside the
	// store's write transaction.
	UpdateTrail(ctx context.Context, sc Scope, name string, fn func(*Trail) error) (Trail, error)
	// DeleteTrail removes a trail; ErrNotFound if absent.
	DeleteTrail(ctx context.Context, sc Scope, name string) error
}

// RuntimeStatus is what the running sources report about a trail's delivery.
type RuntimeStatus struct {
	LatestDeliveryTime  time.Time
	LatestDeliveryError string
}

// Service implements the CloudTrail trail operations.
//
// The changes of one trail are serialised: each Create, Update and Delete holds the trail's lock
// from its write to the return of OnChange, so the hook learns of a trail's changes in the order
// they were stored and the last call always carries the stored trail. Without that, a
// StartLogging stored before a StopLogging could reach the runner after it and leave a source
// running for a stopped trail.
type Service struct {
	store Store
	now   func() time.Time
	locks keyedLocks
	// LogGroupExists, when non-nil, checks that a CloudWatchLogsLogGroupArn's group exists.
	LogGroupExists func(ctx context.Context, sc Scope, name string) (bool, error)
	// OnChange, when non-nil, is called after a trail is created, updated, started, stopped (t
	// set) or deleted (t nil), so the app can start or stop its source.
	OnChange func(sc Scope, name string, t *Trail)
	// Status, when non-nil, reports a trail's delivery as its source has seen it.
	Status func(sc Scope, name string) RuntimeStatus
}

// NewService returns a Service over store; now is its clock (nil means time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func checkName(name string) error {
	if len(name) < 3 {
		return invalidName(fmt.Sprintf("Trail name too short. Minimum allowed length: 3 characters. Specified name length: %d characters.", len(name)))
	}
	if len(name) > 128 {
		return invalidName(fmt.Sprintf("Trail name too long. Maximum allowed length: 128 characters. Specified name length: %d characters.", len(name)))
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) {
		return invalidName("Trail name must starts with a letter or number.")
	}
	if !alnum(name[len(name)-1]) {
		return invalidName("Trail name must ends with a letter or number.")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '.' && c != '-' && c != '_' {
			return invalidName("Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
		}
	}
	return nil
}

func (s *Service) checkLogGroup(ctx context.Context, sc Scope, t *Trail) error {
	if t.CloudWatchLogsLogGroupArn == "" {
		if t.CloudWatchLogsRoleArn != "" {
			return &Error{"InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group ARN together with a role ARN."}
		}
		return nil
	}
	name, ok := LogGroupName(sc, t.CloudWatchLogsLogGroupArn)
	if !ok {
		return &Error{"InvalidCloudWatchLogsLogGroupArnException", "CloudWatch Logs log group ARN is invalid or in another account or region: " + t.CloudWatchLogsLogGroupArn}
	}
	if s.LogGroupExists != nil {
		exists, err := s.LogGroupExists(ctx, sc, name)
		if err != nil {
			return fmt.Errorf("check log group: %w", err)
		}
		if !exists {
			return &Error{"InvalidCloudWatchLogsLogGroupArnException", "The log group " + name + " does not exist."}
		}
	}
	return nil
}

// Create validates and stores a new trail (not logging).
func (s *Service) Create(ctx context.Context, sc Scope, t Trail) (Trail, error) {
	if err := checkName(t.Name); err != nil {
		return Trail{}, err
	}
	if t.S3BucketName == "" {
		return Trail{}, &Error{"InvalidParameterException", "1 validation error detected: Value null at 's3BucketName' failed to satisfy constraint: Member must not be null"}
	}
	if err := s.checkLogGroup(ctx, sc, &t); err != nil {
		return Trail{}, err
	}
	t.Logging = false
	t.CreationTime = s.now().UTC()
	defer s.locks.lock(sc, t.Name)()
	if err := s.store.CreateTrail(ctx, sc, t); err != nil {
		if errors.Is(err, ErrExists) {
			return Trail{}, alreadyExists(sc, t.Name)
		}
		return Trail{}, fmt.Errorf("create trail: %w", err)
	}
	s.changed(sc, t.Name, &t)
	return t, nil
}

func (s *Service) changed(sc Scope, name string, t *Trail) {
	if s.OnChange != nil {
		s.OnChange(sc, name, t)
	}
}

// Get returns a trail by name or ARN.
func (s *Service) Get(ctx context.Context, sc Scope, nameOrARN string) (Trail, error) {
	name := nameFromARN(sc, nameOrARN)
	t, err := s.store.GetTrail(ctx, sc, name)
	if errors.Is(err, ErrNotFound) {
		return Trail{}, notFound(sc, nameOrARN)
	}
	if err != nil {
		return Trail{}, fmt.Errorf("get trail: %w", err)
	}
	return t, nil
}

// Describe returns the named trails (names or ARNs), or all trails of the scope when names is
// empty. Unknown names are left out, as DescribeTrails does.
func (s *Service) Describe(ctx context.Context, sc Scope, names []string) ([]Trail, error) {
	all, err := s.store.ListTrails(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("list trails: %w", err)
	}
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[nameFromARN(sc, n)] = true
	}
	var out []Trail
	for _, t := range all {
		if want[t.Name] {
			out = append(out, t)
		}
	}
	return out, nil
}

// errLogGroupMoved aborts an update whose log group changed between its check and its
// transaction.
var errLogGroupMoved = errors.New("log group changed during the update")

// updateAttempts bounds the retries of an update whose log group keeps changing under it.
const updateAttempts = 5

// Update applies fn to a stored trail and stores the result after validation, in one transaction
// of the store (read, fn, write), so that concurrent updates compose instead of overwriting each
// other. fn may run more than once and must only change the trail.
//
// Whether the log group exists is asked before the transaction (it is a read of another
// service, too slow to hold the write transaction for), on the trail fn makes of the trail as it
// is then; the transaction re-applies fn to the trail as stored and, should that name another
// log group than the one checked, the update starts again.
func (s *Service) Update(ctx context.Context, sc Scope, nameOrARN string, fn func(*Trail)) (Trail, error) {
	name := nameFromARN(sc, nameOrARN)
	defer s.locks.lock(sc, name)()
	for attempt := 1; ; attempt++ {
		t, err := s.Get(ctx, sc, nameOrARN)
		if err != nil {
			return Trail{}, err
		}
		fn(&t)
		if err := checkUpdate(&t); err != nil {
			return Trail{}, err
		}
		if err := s.checkLogGroup(ctx, sc, &t); err != nil {
			return Trail{}, err
		}
		checked := t.CloudWatchLogsLogGroupArn
		t, err = s.store.UpdateTrail(ctx, sc, name, func(t *Trail) error {
			fn(t)
			if err := checkUpdate(t); err != nil {
				return err
			}
			if t.CloudWatchLogsLogGroupArn != checked {
				return errLogGroupMoved
			}
			return nil
		})
		switch {
		case errors.Is(err, errLogGroupMoved) && attempt < updateAttempts:
			continue
		case errors.Is(err, errLogGroupMoved):
			return Trail{}, concurrentModification()
		case errors.Is(err, ErrNotFound):
			return Trail{}, notFound(sc, nameOrARN)
		case err != nil:
			var e *Error
			if errors.As(err, &e) {
				return Trail{}, err
			}
			return Trail{}, fmt.Errorf("update trail: %w", err)
		}
		s.changed(sc, t.Name, &t)
		return t, nil
	}
}

// checkUpdate is the validation of an updated trail that needs no I/O.
func checkUpdate(t *Trail) error {
	if t.S3BucketName == "" {
		return &Error{"InvalidParameterException", "S3BucketName must not be empty."}
	}
	return nil
}

// Delete removes a trail and stops its source.
func (s *Service) Delete(ctx context.Context, sc Scope, nameOrARN string) error {
	name := nameFromARN(sc, nameOrARN)
	defer s.locks.lock(sc, name)()
	if err := s.store.DeleteTrail(ctx, sc, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFound(sc, nameOrARN)
		}
		return fmt.Errorf("delete trail: %w", err)
	}
	s.changed(sc, name, nil)
	return nil
}

// SetLogging starts or stops a trail's delivery.
func (s *Service) SetLogging(ctx context.Context, sc Scope, nameOrARN string, on bool) error {
	_, err := s.Update(ctx, sc, nameOrARN, func(t *Trail) {
		t.Logging = on
		if on {
			t.StartLoggingTime = s.now().UTC()
		} else {
			t.StopLoggingTime = s.now().UTC()
		}
	})
	return err
}

// TrailStatus is the output of GetTrailStatus.
type TrailStatus struct {
	IsLogging                         bool
	LatestDeliveryTime                time.Time
	LatestDeliveryError               string
	StartLoggingTime, StopLoggingTime time.Time
}

// GetStatus reports whether the trail is logging and, truthfully, when its source last delivered
// records and the last error it met (both empty until it has run).
func (s *Service) GetStatus(ctx context.Context, sc Scope, nameOrARN string) (TrailStatus, error) {
	t, err := s.Get(ctx, sc, nameOrARN)
	if err != nil {
		return TrailStatus{}, err
	}
	st := TrailStatus{IsLogging: t.Logging, StartLoggingTime: t.StartLoggingTime, StopLoggingTime: t.StopLoggingTime}
	if s.Status != nil {
		rs := s.Status(sc, t.Name)
		st.LatestDeliveryTime, st.LatestDeliveryError = rs.LatestDeliveryTime, rs.LatestDeliveryError
	}
	return st, nil
}

// keyedLocks is one mutex per trail, created on first use and dropped when no caller holds or
// waits for it.
type keyedLocks struct {
	mu sync.Mutex
	m  map[lockKey]*keyedLock
}

type lockKey struct {
	sc   Scope
	name string
}

type keyedLock struct {
	mu    sync.Mutex
	users int
}

// lock takes the trail's lock and returns its release.
func (k *keyedLocks) lock(sc Scope, name string) (unlock func()) {
	key := lockKey{sc, name}
	k.mu.Lock()
	if k.m == nil {
		k.m = map[lockKey]*keyedLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
