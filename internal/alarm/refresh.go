package alarm

import (
	"context"
	"errors"
	"fmt"
)

// AlarmLoader reads one alarm from the store: the record, or nil when there is none. A store that
// several replicas share implements it, so that each replica can follow the changes another made
// (Service.Refresh).
type AlarmLoader interface {
	LoadAlarm(ctx context.Context, k AlarmKey) (*Record, error)
}

// errNoLoader is returned by Refresh over a store without LoadAlarm.
var errNoLoader = errors.New("alarm store cannot load one alarm")

// Refresh makes the service's view of alarm k the store's, after another replica wrote it
// (created, reconfigured, transitioned or deleted it): the record is read while k's entry is
// locked, which every local change of k also holds, so the read sees every local change already
// committed and none can land between the read and the update of the view. A change committed
// by another replica after the read is announced again and refreshed again. Composites are not
// re-evaluated here: the replica that changed a child re-evaluates its parents itself.
func (s *Service) Refresh(ctx context.Context, k AlarmKey) error {
	loader, ok := s.store.(AlarmLoader)
	if !ok {
		return errNoLoader
	}
	s.mu.Lock()
	e := s.alarms[k]
	if e == nil {
		e = &entry{}
		s.alarms[k] = e
	}
	s.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	return s.refreshLocked(ctx, loader, k, e)
}

// refreshLocked is Refresh for a caller that holds e.mu.
func (s *Service) refreshLocked(ctx context.Context, loader AlarmLoader, k AlarmKey, e *entry) error {
	rec, err := loader.LoadAlarm(ctx, k)
	if err != nil {
		s.dropEmpty(k, e)
		return fmt.Errorf("refresh alarm %q: %w", k.Name, err)
	}
	old := e.rec.Load()
	if rec == nil {
		e.rec.Store(nil)
		s.mu.Lock()
		if s.alarms[k] == e {
			delete(s.alarms, k)
		}
		if old != nil {
			s.index(k, old, nil, nil)
		}
		s.mu.Unlock()
		return nil
	}
	var rule *Rule
	if rec.Composite != nil {
		if rule, err = ParseRule(rec.Composite.AlarmRule); err != nil {
			s.dropEmpty(k, e)
			return fmt.Errorf("refresh alarm %q: %w", k.Name, err)
		}
	}
	e.rule = rule
	e.rec.Store(rec)
	s.mu.Lock()
	s.index(k, old, rec, rule)
	s.mu.Unlock()
	return nil
}

// dropEmpty removes k's entry if it holds no record (a placeholder Refresh made), so a failed
// refresh leaves no empty entry behind.
func (s *Service) dropEmpty(k AlarmKey, e *entry) {
	if e.rec.Load() != nil {
		return
	}
	s.mu.Lock()
	if s.alarms[k] == e {
		delete(s.alarms, k)
	}
	s.mu.Unlock()
}

// RefreshAll makes the service's view of every alarm the store's: each alarm stored, and each
// alarm the view holds, is refreshed as Refresh does (so an alarm another replica deleted leaves
// the view). A replica runs it each time it starts listening for the other replicas' changes
// (again, after a lost connection): the changes announced while it was not listening were missed,
// and without this catch-up an alarm created through another replica meanwhile would never be
// evaluated here, and one transitioned by a former lease holder would be judged from a stale
// state, until a restart.
func (s *Service) RefreshAll(ctx context.Context) error {
	if _, ok := s.store.(AlarmLoader); !ok {
		return errNoLoader
	}
	recs, err := s.store.LoadAlarms(ctx)
	if err != nil {
		return fmt.Errorf("refresh alarms: %w", err)
	}
	keys := map[AlarmKey]bool{}
	for _, r := range recs {
		keys[AlarmKey{r.Scope, r.Name}] = true
	}
	s.mu.RLock()
	for k := range s.alarms {
		keys[k] = true
	}
	s.mu.RUnlock()
	var errs []error
	for k := range keys {
		if err := s.Refresh(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
