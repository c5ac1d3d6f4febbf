package alarm

import (
	"context"
	"time"
)

// Publisher delivers one outbox action (for SNS actions: Publish of Action.Message with
// MessageStructure=json and Action.Subject to the topic Action.ActionARN). A returned error is
// recorded as a failed action ("Failed to execute action …").
type Publisher interface {
	PublishAction(ctx context.Context, a Action) error
}

// RecordOnly is the Publisher used until trailwatch has SNS: it delivers nothing and reports
// success, so every action is recorded in the outbox and shown as an Action history item, as
// AWS shows a publish to a topic.
type RecordOnly struct{}

// PublishAction implements Publisher.
func (RecordOnly) PublishAction(context.Context, Action) error { return nil }

// Dispatcher drains the action outbox into a Publisher: every pending action is published once
// and marked done (which writes its Action history item). After a crash between publishing and
// marking, the action is published again: delivery is at least once, the history exactly once.
type Dispatcher struct {
	Queue     ActionQueue
	Publisher Publisher
	Now       func() time.Time
	// Poll is how often the outbox is checked without a Notify; zero means one second.
	Poll time.Duration
	// OnError receives publish-loop errors (storage failures); nil ignores them.
	OnError func(error)

	wake chan struct{}
}

// NewDispatcher returns a dispatcher of q's actions to p.
func NewDispatcher(q ActionQueue, p Publisher, now func() time.Time) *Dispatcher {
	if now == nil {
		now = time.Now
	}
	return &Dispatcher{Queue: q, Publisher: p, Now: now, wake: make(chan struct{}, 1)}
}

// Notify wakes the dispatcher (the service calls it after committing actions).
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run publishes pending actions until ctx is cancelled.
func (d *Dispatcher) Run(ctx context.Context) error {
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := d.Drain(ctx); err != nil && d.OnError != nil && ctx.Err() == nil {
			d.OnError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

// Drain publishes every action pending now.
func (d *Dispatcher) Drain(ctx context.Context) error {
	for {
		acts, err := d.Queue.PendingActions(ctx, 100)
		if err != nil || len(acts) == 0 {
			return err
		}
		for _, a := range acts {
			o := ActionOutcome{}
			if err := d.Publisher.PublishAction(ctx, a); err != nil {
				o.Err = err.Error()
			}
			o.At = d.Now()
			if err := d.Queue.MarkActionDone(ctx, a.ID, o); err != nil {
				return err
			}
		}
	}
}
