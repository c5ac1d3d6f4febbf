package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// Outbox is the durable delivery queue the worker drains (store/sqlite.DB implements it).
type Outbox interface {
	// DueDeliveries returns up to limit pending deliveries due at now, oldest due first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]sns.Delivery, error)
	// NextDeliveryDue returns when the earliest pending delivery is due (ok false: none).
	NextDeliveryDue(ctx context.Context) (time.Time, bool, error)
	// RecordAttempt stores an attempt and the delivery's new status and next attempt time in
	// one transaction.
	RecordAttempt(ctx context.Context, a sns.Attempt, status string, next time.Time) error
}

// Sender delivers one message over one protocol. A nil error means delivered; any error is a
// failed attempt, retried under the delivery's policy. detail is recorded with the attempt
// (an HTTP status, an SMTP reply).
type Sender interface {
	Send(ctx context.Context, d sns.Delivery) (detail string, err error)
}

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
)

// Worker drains the outbox: it sends every due delivery with the Sender of its protocol, records
// each attempt, and schedules retries under the delivery's RetryPolicy until the message is
// delivered or the policy runs out. A delivery is marked delivered only after its send returned,
// so a crash in between sends it again (at least once, with the same MessageId); a delivery
// marked delivered is never sent again.
type Worker struct {
	Outbox  Outbox
	Senders map[string]Sender // by protocol: "email", "email-json", "http", "https"
	Now     func() time.Time
	// Concurrency bounds parallel sends; zero means 16.
	Concurrency int
	// Poll is the longest wait between outbox checks without a Notify; zero means 5 s.
	Poll time.Duration
	// OnAttempt, when set, observes every recorded attempt (logging, tests).
	OnAttempt func(d sns.Delivery, a sns.Attempt)
	// OnError receives storage errors; nil ignores them.
	OnError func(error)
	// Metrics, when set, receives the AWS/SNS delivery metrics of every recorded attempt at a
	// notification (deliveryMetrics).
	Metrics MetricSink

	wakeOnce sync.Once
	wake     chan struct{}
	mu       sync.Mutex
	inflight map[int64]bool
	// gen numbers the outbox queries; finished maps a delivery whose attempt was recorded to the
	// gen current at that moment. A query of gen g may still return a delivery finished at gen
	// >= g (its read began before the attempt was recorded), so such a delivery is skipped.
	gen      uint64
	finished map[int64]uint64
}

func (w *Worker) init() {
	w.wakeOnce.Do(func() {
		w.wake = make(chan struct{}, 1)
		w.inflight = map[int64]bool{}
		w.finished = map[int64]uint64{}
		if w.Now == nil {
			w.Now = time.Now
		}
	})
}

// Notify wakes the worker: new deliveries were committed.
func (w *Worker) Notify() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) fail(err error) {
	if w.OnError != nil && err != nil {
		w.OnError(err)
	}
}

// Run delivers until ctx is cancelled, then waits for sends in flight (which see ctx cancelled;
// an interrupted send is not recorded and is sent again after restart).
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	n := w.Concurrency
	if n <= 0 {
		n = 16
	}
	poll := w.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	jobs := make(chan sns.Delivery)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for d := range jobs {
				w.deliver(ctx, d)
				w.mu.Lock()
				delete(w.inflight, d.ID)
				w.finished[d.ID] = w.gen
				w.mu.Unlock()
				w.Notify()
			}
		})
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()
	for {
		wait := poll
		w.mu.Lock()
		w.gen++
		g := w.gen
		for id, fg := range w.finished {
			if fg < g {
				delete(w.finished, id)
			}
		}
		w.mu.Unlock()
		due, err := w.Outbox.DueDeliveries(ctx, w.Now(), 4*n)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.fail(fmt.Errorf("list due deliveries: %w", err))
		}
	dispatch:
		for _, d := range due {
			w.mu.Lock()
			fg, done := w.finished[d.ID]
			busy := w.inflight[d.ID] || (done && fg >= g)
			if !busy {
				w.inflight[d.ID] = true
			}
			w.mu.Unlock()
			if busy {
				continue
			}
			select {
			case jobs <- d:
			case <-ctx.Done():
				break dispatch
			}
		}
		if len(due) == 0 {
			if next, ok, err := w.Outbox.NextDeliveryDue(ctx); err == nil && ok {
				wait = min(poll, max(next.Sub(w.Now()), time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// deliver makes one attempt at d and records it.
func (w *Worker) deliver(ctx context.Context, d sns.Delivery) {
	start := w.Now()
	a := sns.Attempt{DeliveryID: d.ID, N: d.Attempts + 1, At: start}
	s := w.Senders[d.Protocol]
	var detail string
	var err error
	if s == nil {
		err = errors.New("no sender configured for protocol " + d.Protocol)
	} else {
		detail, err = s.Send(ctx, d)
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down: not an attempt; sent again after restart
	}
	a.Duration = w.Now().Sub(start)
	status, next := sns.DeliveryDelivered, start
	// A receiver's provider may say a failure is not worth a retry, or when to retry
	// (*DeliveryError); SNS's own senders never do.
	after, permanent := retryAfterOf(err)
	switch delay, retry := d.Policy.Delay(a.N); {
	case err == nil:
		a.Outcome, a.Detail = OutcomeDelivered, detail
	case retry && !permanent:
		a.Outcome, a.Detail = OutcomeRetry, err.Error()
		status, next = sns.DeliveryPending, w.Now().Add(max(delay, after))
	default:
		a.Outcome, a.Detail = OutcomeFailed, err.Error()
		status = sns.DeliveryFailed
	}
	// Record even if ctx ended meanwhile: the send happened.
	if rerr := w.Outbox.RecordAttempt(context.WithoutCancel(ctx), a, status, next); rerr != nil {
		w.fail(fmt.Errorf("record attempt: %w", rerr))
		return
	}
	if w.OnAttempt != nil {
		w.OnAttempt(d, a)
	}
	if w.Metrics != nil {
		if data := deliveryMetrics(d, a); data != nil {
			w.Metrics.PublishMetrics(ctx, data)
		}
	}
}

// MetricSink receives the AWS/SNS metrics of deliveries (sns.MetricSink's method, declared here
// where it is used). It must not block for long and reports its own failures.
type MetricSink interface {
	PublishMetrics(ctx context.Context, data []sns.MetricDatum)
}

// deliveryMetrics returns the AWS/SNS metrics of one recorded attempt, stamped with its start:
// NumberOfNotificationsDelivered 1 for a notification delivered; NumberOfNotificationsFailed 1
// for a notification whose attempt failed, counted as SNS does (sns.MetricNotificationsFailed):
// every failed attempt for http and https, once when the retry policy gives up for email and
// email-json. Subscription and unsubscribe confirmations are not notifications and count in
// neither.
func deliveryMetrics(d sns.Delivery, a sns.Attempt) []sns.MetricDatum {
	if d.Type != sns.TypeNotification {
		return nil
	}
	name := ""
	switch {
	case a.Outcome == OutcomeDelivered:
		name = sns.MetricNotificationsDelivered
	case a.Outcome == OutcomeFailed, a.Outcome == OutcomeRetry && (d.Protocol == "http" || d.Protocol == "https"):
		name = sns.MetricNotificationsFailed
	default:
		return nil
	}
	return []sns.MetricDatum{{Scope: d.Scope, TopicName: sns.TopicNameOf(d.TopicARN), MetricName: name, Unit: "Count", Value: 1, Time: a.At}}
}
