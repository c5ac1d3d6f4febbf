package receivertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/internal/receiver"
)

// Memory is an in-memory receiver.Store for tests.
type Memory struct {
	mu        sync.Mutex
	receivers map[string]receiver.Receiver
	threads   map[string]receiver.Thread
}

var _ receiver.Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{receivers: map[string]receiver.Receiver{}, threads: map[string]receiver.Thread{}}
}

// PutReceiver implements receiver.Store.
func (m *Memory) PutReceiver(_ context.Context, r *receiver.Receiver) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.receivers[r.AccountID+"\x00"+r.Name] = *r
	return nil
}

// GetReceiver implements receiver.Store.
func (m *Memory) GetReceiver(_ context.Context, accountID, name string) (*receiver.Receiver, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.receivers[accountID+"\x00"+name]
	if !ok {
		return nil, fmt.Errorf("receiver %s: %w", name, receiver.ErrNotFound)
	}
	return &r, nil
}

// ListReceivers implements receiver.Store.
func (m *Memory) ListReceivers(_ context.Context, accountID string) ([]*receiver.Receiver, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*receiver.Receiver
	for _, r := range m.receivers {
		if r.AccountID == accountID {
			out = append(out, &r)
		}
	}
	slices.SortFunc(out, func(a, b *receiver.Receiver) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteReceiver implements receiver.Store.
func (m *Memory) DeleteReceiver(_ context.Context, accountID, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := accountID + "\x00" + name
	if _, ok := m.receivers[k]; !ok {
		return fmt.Errorf("receiver %s: %w", name, receiver.ErrNotFound)
	}
	delete(m.receivers, k)
	for tk := range m.threads {
		if strings.HasPrefix(tk, k+"\x00") {
			delete(m.threads, tk)
		}
	}
	return nil
}

// GetThread implements receiver.Store.
func (m *Memory) GetThread(_ context.Context, accountID, name, key string) (receiver.Thread, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.threads[accountID+"\x00"+name+"\x00"+key]
	return t, ok, nil
}

// PutThread implements receiver.Store.
func (m *Memory) PutThread(_ context.Context, accountID, name, key string, t receiver.Thread) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.threads[accountID+"\x00"+name+"\x00"+key] = t
	return nil
}
