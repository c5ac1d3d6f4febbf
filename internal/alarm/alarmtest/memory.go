package alarmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// Memory is an in-memory alarm.Store for tests of code built on the alarm service. It keeps
// copies (JSON round trips, as a real backend would) so callers cannot alias stored records.
type Memory struct {
	mu      sync.Mutex
	alarms  map[alarm.AlarmKey][]byte
	history []memHistory
	actions []alarm.Action
	// Fail, when non-nil, is returned by the next Apply instead of writing (then cleared).
	Fail error
}

type memHistory struct {
	seq   int64
	scope alarm.Scope
	item  alarm.HistoryItem
}

var _ alarm.Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory { return &Memory{alarms: map[alarm.AlarmKey][]byte{}} }

// LoadAlarms implements alarm.Store.
func (m *Memory) LoadAlarms(ctx context.Context) ([]*alarm.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*alarm.Record
	for _, b := range m.alarms {
		var r alarm.Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, nil
}

// Apply implements alarm.Store.
func (m *Memory) Apply(ctx context.Context, c alarm.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		err := m.Fail
		m.Fail = nil
		return err
	}
	enc := make([][]byte, len(c.Put))
	for i, r := range c.Put {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode alarm: %w", err)
		}
		enc[i] = b
	}
	for i, r := range c.Put {
		m.alarms[alarm.AlarmKey{Scope: r.Scope, Name: r.Name}] = enc[i]
	}
	for _, k := range c.Delete {
		delete(m.alarms, k)
	}
	for _, h := range c.History {
		m.history = append(m.history, memHistory{seq: int64(len(m.history) + 1), scope: h.Scope, item: h.Item})
	}
	for _, a := range c.Actions {
		a.ID = int64(len(m.actions) + 1)
		a.Status, a.Error, a.Attempts, a.NextAttempt = alarm.ActionPending, "", 0, time.Time{}
		m.actions = append(m.actions, a)
	}
	return nil
}

// History implements alarm.Store.
func (m *Memory) History(ctx context.Context, scope alarm.Scope, q alarm.HistoryQuery) ([]alarm.HistoryItem, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sel []memHistory
	for _, h := range m.history {
		it := h.item
		if h.scope != scope || (q.AlarmName != "" && it.AlarmName != q.AlarmName) ||
			!slices.Contains(q.AlarmTypes, it.AlarmType) || (q.ItemType != "" && it.HistoryItemType != q.ItemType) ||
			(!q.Start.IsZero() && it.Timestamp.Before(q.Start)) || (!q.End.IsZero() && !it.Timestamp.Before(q.End)) {
			continue
		}
		sel = append(sel, h)
	}
	slices.SortStableFunc(sel, func(a, b memHistory) int {
		c := a.item.Timestamp.Compare(b.item.Timestamp)
		if c == 0 {
			c = int(a.seq - b.seq)
		}
		if !q.Ascending {
			c = -c
		}
		return c
	})
	start := 0
	if q.After != "" {
		n, err := strconv.Atoi(q.After)
		if err != nil || n < 0 || n > len(sel) {
			return nil, "", alarm.ErrInvalidCursor
		}
		start = n
	}
	end := min(start+q.Limit, len(sel))
	var out []alarm.HistoryItem
	for _, h := range sel[start:end] {
		out = append(out, h.item)
	}
	next := ""
	if end < len(sel) {
		next = strconv.Itoa(end)
	}
	return out, next, nil
}

// ExpireHistory implements alarm.Store.
func (m *Memory) ExpireHistory(ctx context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.history)
	m.history = slices.DeleteFunc(m.history, func(h memHistory) bool { return h.item.Timestamp.Before(before) })
	return int64(n - len(m.history)), nil
}

// queueKey is the unit of FIFO order of the outbox: one alarm's actions to one ARN.
type queueKey struct {
	scope     alarm.Scope
	alarm     string
	actionARN string
}

// PendingActions implements alarm.ActionQueue: only the oldest pending action of each alarm and
// action ARN can be returned.
func (m *Memory) PendingActions(ctx context.Context, now time.Time, limit int) ([]alarm.Action, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alarm.Action
	heads := map[queueKey]bool{}
	for _, a := range m.actions {
		if a.Status != alarm.ActionPending {
			continue
		}
		k := queueKey{a.Scope, a.AlarmName, a.ActionARN}
		if heads[k] {
			continue // an older action of this alarm to this ARN is still pending
		}
		heads[k] = true
		if !a.NextAttempt.After(now) && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

// RetryAction implements alarm.ActionQueue.
func (m *Memory) RetryAction(ctx context.Context, id int64, r alarm.ActionRetry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.actions)) || m.actions[id-1].Status != alarm.ActionPending {
		return nil
	}
	a := &m.actions[id-1]
	a.Attempts, a.NextAttempt, a.Error = r.Attempts, r.NextAttempt, r.Err
	return nil
}

// MarkActionDone implements alarm.ActionQueue.
func (m *Memory) MarkActionDone(ctx context.Context, id int64, o alarm.ActionOutcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || id > int64(len(m.actions)) || m.actions[id-1].Status != alarm.ActionPending {
		return nil
	}
	a := &m.actions[id-1]
	a.Status, a.Error = alarm.ActionSucceeded, o.Err
	if o.Err != "" {
		a.Status = alarm.ActionFailed
	}
	m.history = append(m.history, memHistory{seq: int64(len(m.history) + 1), scope: a.Scope, item: alarm.ActionHistoryItem(*a, o)})
	return nil
}

// Actions returns every action ever recorded, in creation order (for assertions).
func (m *Memory) Actions() []alarm.Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.actions)
}
