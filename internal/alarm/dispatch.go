package alarm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Publisher delivers one outbox action (for SNS actions: Publish of Action.Message with
// MessageStructure=json and Action.Subject to the topic Action.ActionARN).
//
// A returned *PermanentError fails the action at once, with the Action history item "Failed to
// execute action …", as CloudWatch records an action that cannot be executed. Any other error is
// transient (a locked database, a server still starting): the action stays pending and the
// Dispatcher retries it with backoff until it is published.
type Publisher interface {
	PublishAction(ctx context.Context, a Action) error
}

// PermanentError is a Publisher's report that an action can never succeed, whatever the number
// of attempts: the topic does not exist, the action ARN is not a topic's, SNS refuses the message.
// Reason is the text CloudWatch shows in the Action history item, `Failed to execute action <arn>.
// Received error: "<Reason>"`: the message of SNS's error, without its code, as in AWS's
// knowledge-center article on alarms that do not notify ("Received error: \"Resource: … is not
// authorized to perform: SNS:Publish on resource: …\"",
// repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
type PermanentError struct {
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *PermanentError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// ErrNoPublisher is NoPublisher's transient error.
var ErrNoPublisher = errors.New("no SNS publisher is wired: the action stays pending until one is")

// NoPublisher is the Publisher of a server without SNS. It sends nothing, so it must not report
// success (which would write "Successfully executed action …" for a mail nobody sent): every
// action fails transiently with ErrNoPublisher and stays pending, retried at most every
// RetryMax, and is delivered once the server runs with SNS wired. Failing the actions
// permanently instead would lose them for good for a configuration mistake.
type NoPublisher struct{}

// PublishAction implements Publisher: it always returns ErrNoPublisher.
func (NoPublisher) PublishAction(context.Context, Action) error { return ErrNoPublisher }

// Backoff of transient publish failures: RetryMin after the first failed attempt, doubling per
// attempt up to RetryMax, each delay then jittered (see Dispatcher.Jitter). RetryMax bounds both
// the delay of a root-login mail once the cause is gone and the cost of an action that keeps
// failing (one attempt per five minutes).
const (
	RetryMin = time.Second
	RetryMax = 5 * time.Minute
)

// RetryDelay is the backoff before the next attempt of an action that has failed attempts times
// (at least 1), before jitter.
func RetryDelay(attempts int) time.Duration {
	d := RetryMin
	for i := 1; i < attempts && d < RetryMax; i++ {
		d *= 2
	}
	return min(d, RetryMax)
}

// Dispatcher drains the action outbox into a Publisher: every pending action is published and
// marked done (which writes its Action history item). After a crash between publishing and
// marking, the action is published again: delivery is at least once, the history exactly once.
// A transient publish error keeps the action pending and schedules its next attempt in the
// store (RetryAction), so retries survive restarts. The queue never hands out an action while an
// older action of the same alarm to the same ARN is pending (ActionQueue.PendingActions), so one
// alarm's notifications to one topic are published in the order of its transitions even across
// retries: an ALARM mail that failed once is not overtaken by the alarm's newer OK mail, which
// would leave the subscriber's last mail saying ALARM while the alarm is OK. Other alarms and
// other topics are not held back by a retrying action. (Delivery from SNS standard topics to
// the subscribers is still ordered only best-effort.)
type Dispatcher struct {
	Queue     ActionQueue
	Publisher Publisher
	Now       func() time.Time
	// Poll is how often the outbox is checked without a Notify; zero means one second. It is
	// also the resolution of retry times.
	Poll time.Duration
	// Jitter turns a backoff delay d into the actual wait; nil picks uniformly in [d/2, d], so
	// that actions failing together (a locked database) do not all retry together.
	Jitter func(d time.Duration) time.Duration
	// OnError receives publish-loop errors: storage failures, and each transient publish
	// failure with its retry time; nil ignores them.
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
		if err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.report(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

func (d *Dispatcher) report(err error) {
	if d.OnError != nil {
		d.OnError(err)
	}
}

func (d *Dispatcher) jitter(delay time.Duration) time.Duration {
	if d.Jitter != nil {
		return d.Jitter(delay)
	}
	return delay/2 + rand.N(delay/2+1)
}

// Drain publishes every action due now. Actions whose publish fails transiently are rescheduled
// and left for a later Drain.
func (d *Dispatcher) Drain(ctx context.Context) error {
	for {
		acts, err := d.Queue.PendingActions(ctx, d.Now(), 100)
		if err != nil || len(acts) == 0 {
			return err
		}
		for _, a := range acts {
			err := d.Publisher.PublishAction(ctx, a)
			if err != nil && ctx.Err() != nil {
				return nil // shutting down: the attempt was cut short, not failed
			}
			at := d.Now()
			var perm *PermanentError
			switch {
			case err == nil:
				err = d.Queue.MarkActionDone(ctx, a.ID, ActionOutcome{At: at})
			case errors.As(err, &perm):
				reason := perm.Reason
				if reason == "" {
					reason = perm.Error()
				}
				if reason == "" {
					reason = "permanent failure" // an empty Err would record success
				}
				err = d.Queue.MarkActionDone(ctx, a.ID, ActionOutcome{At: at, Err: reason})
			default:
				r := ActionRetry{Attempts: a.Attempts + 1, Err: err.Error()}
				r.NextAttempt = at.Add(max(d.jitter(RetryDelay(r.Attempts)), time.Millisecond))
				d.report(fmt.Errorf("publish alarm action %d of alarm %q to %s (attempt %d, next at %s): %w",
					a.ID, a.AlarmName, a.ActionARN, r.Attempts, r.NextAttempt.UTC().Format(time.RFC3339), err))
				err = d.Queue.RetryAction(ctx, a.ID, r)
			}
			if err != nil {
				return err
			}
		}
	}
}
