package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Notification is one message for an integration to send.
type Notification struct {
	Receiver *receiver.Receiver
	Alert    alert.Alert
	// Thread is what the receiver remembers of the alarm (zero for a first message or a plain
	// one): the Slack message to update, when the alarm started firing.
	Thread receiver.Thread
	// ID identifies the message; it is the same on every retry (the webhook's idempotency key).
	ID string
	// Now is the time of the attempt.
	Now time.Time
}

// Result is a provider's acceptance of a notification.
type Result struct {
	// Status is the provider's HTTP status.
	Status int
	// Detail is the status and the provider's answer, for the delivery log.
	Detail string
	// Thread is the receiver's new memory of the alarm (an integration that keeps nothing
	// returns the Thread it was given).
	Thread receiver.Thread
}

// Integration turns a notification into its provider's request and sends it, in the manner of
// Alertmanager's notify/<integration> packages: each says, through *DeliveryError, whether a
// failure is worth a retry. Implementations: notify/slack, notify/pagerduty, notify/teams and
// notify/webhook.
type Integration interface {
	Notify(ctx context.Context, n Notification) (Result, error)
}

// ReceiverStore is what the receiver sender reads and writes of receivers.
type ReceiverStore interface {
	GetReceiver(ctx context.Context, accountID, name string) (*receiver.Receiver, error)
	GetThread(ctx context.Context, accountID, name, key string) (receiver.Thread, bool, error)
	PutThread(ctx context.Context, accountID, name, key string, t receiver.Thread) error
}

// ReceiverSender is the Sender of receiver messages (protocol receiver.Protocol): it loads the
// receiver as it is now, renders the notification with the shared renderer and hands it to the
// receiver type's Integration. A message older than one already delivered for the same receiver
// and alarm is dropped as superseded, so a retried ALARM never lands after the OK that followed
// it (and never opens a PagerDuty incident that nothing will resolve).
type ReceiverSender struct {
	Store ReceiverStore
	// AccountID is the account receivers are looked up in.
	AccountID string
	// PublicURL is the base of the console links in messages.
	PublicURL    string
	Integrations map[string]Integration
	Now          func() time.Time

	// locks serialises the messages of one receiver and alarm (the worker sends concurrently),
	// so that the superseded check and the thread update of one cannot interleave with another's.
	// An entry lives only while a message of its key is being sent: a map of every alarm ARN ever
	// seen would grow without bound (anyone who may publish to a subscribed topic names the ARN).
	locksMu sync.Mutex
	locks   map[string]*keyLock // receiver name + "\x00" + alarm ARN
}

// keyLock is one entry of ReceiverSender.locks: the lock and how many senders hold or wait for it.
type keyLock struct {
	sync.Mutex
	users int
}

// lock takes the lock of key and returns the function that releases it.
func (s *ReceiverSender) lock(key string) func() {
	s.locksMu.Lock()
	if s.locks == nil {
		s.locks = map[string]*keyLock{}
	}
	l := s.locks[key]
	if l == nil {
		l = &keyLock{}
		s.locks[key] = l
	}
	l.users++
	s.locksMu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.locksMu.Lock()
		if l.users--; l.users == 0 {
			delete(s.locks, key)
		}
		s.locksMu.Unlock()
	}
}

func (s *ReceiverSender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Send implements Sender.
func (s *ReceiverSender) Send(ctx context.Context, d sns.Delivery) (string, error) {
	var m receiver.Message
	if err := json.Unmarshal([]byte(d.Body), &m); err != nil {
		return "", &DeliveryError{Detail: "undecodable receiver message: " + err.Error(), Permanent: true}
	}
	r, err := s.Store.GetReceiver(ctx, s.AccountID, m.Receiver)
	if errors.Is(err, receiver.ErrNotFound) {
		return "", &DeliveryError{Detail: "receiver " + m.Receiver + " was deleted", Permanent: true}
	}
	if err != nil {
		return "", fmt.Errorf("get receiver: %w", err)
	}
	a := alert.Parse(m.MessageID, m.TopicARN, m.Subject, m.Message, s.PublicURL)
	key := receiver.ThreadKey(a)
	var th receiver.Thread
	if key != "" {
		defer s.lock(r.Name + "\x00" + key)()
		if th, _, err = s.Store.GetThread(ctx, s.AccountID, r.Name, key); err != nil {
			return "", fmt.Errorf("get receiver thread: %w", err)
		}
		if !th.Last.IsZero() && a.StateChangeTime.Before(th.Last) {
			return "not sent: superseded by the " + th.Last.Format(time.RFC3339Nano) + " state change, already delivered", nil
		}
	}
	if a.Resolved() && !r.SendResolved {
		return "not sent: sendResolved is false", nil
	}
	integ := s.Integrations[r.Type]
	if integ == nil {
		return "", &DeliveryError{Detail: "no integration for receiver type " + r.Type, Permanent: true}
	}
	res, err := integ.Notify(ctx, Notification{Receiver: r, Alert: a, Thread: th, ID: d.MessageID, Now: s.now()})
	if err != nil {
		return "", err
	}
	if key != "" {
		nt := res.Thread
		if a.NewState == alert.StateAlarm && (nt.FiringSince.IsZero() || a.OldState != alert.StateAlarm) {
			nt.FiringSince = a.StateChangeTime
		}
		nt.Last = a.StateChangeTime
		if err := s.Store.PutThread(context.WithoutCancel(ctx), s.AccountID, r.Name, key, nt); err != nil {
			// Delivered: the attempt must be recorded as such; the thread is best effort.
			return res.Detail + " (receiver state not saved: " + err.Error() + ")", nil
		}
	}
	return res.Detail, nil
}

// Test implements receiver.Tester: the sample goes straight to the provider, outside the outbox,
// and the provider's answer comes back.
func (s *ReceiverSender) Test(ctx context.Context, r *receiver.Receiver, a alert.Alert) (receiver.TestResult, error) {
	integ := s.Integrations[r.Type]
	if integ == nil {
		return receiver.TestResult{}, fmt.Errorf("no integration for receiver type %s", r.Type)
	}
	res, err := integ.Notify(ctx, Notification{Receiver: r, Alert: a, ID: "test-" + a.StateChangeTime.Format("20060102T150405.000"), Now: s.now()})
	if err != nil {
		var de *DeliveryError
		if errors.As(err, &de) {
			return receiver.TestResult{StatusCode: de.Status, Detail: de.Detail}, nil
		}
		return receiver.TestResult{Detail: err.Error()}, nil
	}
	return receiver.TestResult{Delivered: true, StatusCode: res.Status, Detail: res.Detail}, nil
}

// LocalRouter is the http/https Sender when receivers are served: deliveries to trailwatch's own
// receiver endpoints (<public-url>/receivers/<name>) are handed to Local in process, as the
// endpoint would take them over HTTP, and everything else goes to Remote (SNS's HTTP sender,
// unchanged). So subscribing a topic to a receiver needs no route back to trailwatch's own
// public URL, and the SSRF guard still refuses every other private address.
type LocalRouter struct {
	// Prefix is <public-url>/receivers/.
	Prefix string
	Local  func(ctx context.Context, name string, d sns.Delivery) (string, error)
	Remote Sender
}

// Send implements Sender.
func (l *LocalRouter) Send(ctx context.Context, d sns.Delivery) (string, error) {
	if name, ok := strings.CutPrefix(d.Endpoint, l.Prefix); ok && name != "" && !strings.ContainsAny(name, "/?#") {
		return l.Local(ctx, name, d)
	}
	return l.Remote.Send(ctx, d)
}
