package snstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// Memory is an in-memory sns.Store, the reference the conformance suite is checked against and
// a store for tests of code built on the SNS service. Values are copied in and out through JSON,
// as a database would, so callers cannot alias stored state.
type Memory struct {
	mu        sync.Mutex
	topics    map[string]string // arn → JSON
	deleted   map[string]int
	subs      map[string]string
	published map[string]string
	ds        []sns.Delivery
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{topics: map[string]string{}, deleted: map[string]int{}, subs: map[string]string{}, published: map[string]string{}}
}

var _ sns.Store = (*Memory)(nil)

func enc(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// GetTopic implements sns.Store.
func (m *Memory) GetTopic(_ context.Context, arn string) (*sns.Topic, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	doc, ok := m.topics[arn]
	if !ok {
		return nil, fmt.Errorf("topic: %w", sns.ErrNotFound)
	}
	t := new(sns.Topic)
	json.Unmarshal([]byte(doc), t)
	t.SubscriptionsDeleted = m.deleted[arn]
	return t, nil
}

// PutTopic implements sns.Store.
func (m *Memory) PutTopic(_ context.Context, t *sns.Topic) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.topics[t.ARN] = enc(t)
	return nil
}

// DeleteTopic implements sns.Store.
func (m *Memory) DeleteTopic(_ context.Context, arn string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.topics, arn)
	delete(m.deleted, arn)
	for k, doc := range m.subs {
		var s sns.Subscription
		json.Unmarshal([]byte(doc), &s)
		if s.TopicARN == arn {
			delete(m.subs, k)
		}
	}
	return nil
}

// ListTopics implements sns.Store.
func (m *Memory) ListTopics(_ context.Context, sc sns.Scope, after string, limit int) ([]*sns.Topic, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*sns.Topic
	for _, doc := range m.topics {
		t := new(sns.Topic)
		json.Unmarshal([]byte(doc), t)
		if t.Scope == sc && t.ARN > after {
			t.SubscriptionsDeleted = m.deleted[t.ARN]
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *Memory) allSubs() []*sns.Subscription {
	var out []*sns.Subscription
	for _, doc := range m.subs {
		s := new(sns.Subscription)
		json.Unmarshal([]byte(doc), s)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// GetSubscription implements sns.Store.
func (m *Memory) GetSubscription(_ context.Context, arn string) (*sns.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	doc, ok := m.subs[arn]
	if !ok {
		return nil, fmt.Errorf("subscription: %w", sns.ErrNotFound)
	}
	s := new(sns.Subscription)
	json.Unmarshal([]byte(doc), s)
	return s, nil
}

// SubscriptionByToken implements sns.Store.
func (m *Memory) SubscriptionByToken(_ context.Context, token string) (*sns.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.allSubs() {
		if s.Token == token {
			return s, nil
		}
	}
	return nil, fmt.Errorf("subscription: %w", sns.ErrNotFound)
}

func (m *Memory) enqueue(ds []sns.Delivery) {
	for _, d := range ds {
		var c sns.Delivery
		json.Unmarshal([]byte(enc(d)), &c)
		c.ID = int64(len(m.ds) + 1)
		c.Status = sns.DeliveryPending
		m.ds = append(m.ds, c)
	}
}

// PutSubscription implements sns.Store.
func (m *Memory) PutSubscription(_ context.Context, s *sns.Subscription, ds []sns.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.ARN] = enc(s)
	m.enqueue(ds)
	return nil
}

// DeleteSubscription implements sns.Store.
func (m *Memory) DeleteSubscription(_ context.Context, arn string, ds []sns.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	doc, ok := m.subs[arn]
	if !ok {
		return nil
	}
	var s sns.Subscription
	json.Unmarshal([]byte(doc), &s)
	delete(m.subs, arn)
	if _, ok := m.topics[s.TopicARN]; ok {
		m.deleted[s.TopicARN]++
	}
	m.enqueue(ds)
	return nil
}

// ListSubscriptions implements sns.Store.
func (m *Memory) ListSubscriptions(_ context.Context, sc sns.Scope, topicARN, after string, limit int) ([]*sns.Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*sns.Subscription
	for _, s := range m.allSubs() {
		if s.Scope == sc && (topicARN == "" || s.TopicARN == topicARN) && s.ARN > after {
			out = append(out, s)
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Enqueue implements sns.Store.
func (m *Memory) Enqueue(_ context.Context, dedupKey, messageID string, ds []sns.Delivery) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if dedupKey != "" {
		if prev, ok := m.published[dedupKey]; ok {
			return prev, nil
		}
		m.published[dedupKey] = messageID
	}
	m.enqueue(ds)
	return messageID, nil
}

// Deliveries implements Store: enqueued deliveries with id > after, in id order.
func (m *Memory) Deliveries(_ context.Context, after int64, limit int) ([]sns.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sns.Delivery
	for _, d := range m.ds {
		if d.ID > after && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}
