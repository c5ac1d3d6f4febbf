package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Protocol is the outbox protocol of receiver messages; the notify worker sends them with the
// receiver sender.
const Protocol = "receiver"

// MessageType is the Type of receiver messages in the outbox. It is not an SNS message type, so
// the AWS/SNS delivery metrics do not count receiver messages a second time.
const MessageType = "ReceiverMessage"

// RetryPolicy is the retry schedule of receiver messages: 30 retries, the first ten backing off
// exponentially from 1 s to 10 minutes, then every 10 minutes, about three and a half hours in
// all. Retries happen only for failures the provider says are worth one (429, 5xx, network
// errors); a Retry-After longer than the next delay postpones the retry.
var RetryPolicy = sns.RetryPolicy{NumRetries: 30, NumMaxDelayRetries: 20, MinDelayTarget: 1, MaxDelayTarget: 600, BackoffFunction: "exponential"}

// Origins of an inbound message.
const (
	OriginTrailwatch = "trailwatch"
	OriginAWS        = "aws"
)

// Inbound is an SNS message delivered to a receiver endpoint whose signature has been verified.
type Inbound struct {
	// Type is the SNS message type: SubscriptionConfirmation, Notification or
	// UnsubscribeConfirmation.
	Type            string
	MessageID       string
	TopicARN        string
	SubscriptionARN string
	Subject         string
	Message         string
	Timestamp       string
	Token           string
	SubscribeURL    string
	// Origin is OriginTrailwatch for messages signed by this server, OriginAWS for real SNS.
	Origin string
}

// Message is the body of a receiver message in the outbox: the notification as it arrived,
// without any secret, rendered for the provider when it is sent (so a receiver fixed after a
// failure is used by the retries).
type Message struct {
	Receiver  string `json:"receiver"`
	Origin    string `json:"origin"`
	MessageID string `json:"messageId"`
	TopicARN  string `json:"topicArn"`
	Subject   string `json:"subject,omitempty"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp,omitempty"`
}

// Outbox is the durable outbox receiver messages go to (sns.Store's Enqueue).
type Outbox interface {
	Enqueue(ctx context.Context, dedupKey, messageID string, ds []sns.Delivery) (string, error)
}

// Confirmer confirms a subscription to a receiver endpoint: for trailwatch's own messages by
// confirming the token with the SNS service, for real SNS by visiting the SubscribeURL.
type Confirmer interface {
	Confirm(ctx context.Context, in Inbound) error
}

// Tester sends a sample alert to a receiver at once, outside the outbox, and returns the
// provider's answer.
type Tester interface {
	Test(ctx context.Context, r *Receiver, a alert.Alert) (TestResult, error)
}

// TestResult is the provider's answer to a test message.
type TestResult struct {
	Delivered  bool   `json:"delivered"`
	StatusCode int    `json:"statusCode"`
	Detail     string `json:"detail"`
}

// Service manages receivers and accepts the messages delivered to their endpoints.
type Service struct {
	store     Store
	outbox    Outbox
	now       func() time.Time
	accountID string
	base      string
	// Confirmer confirms subscriptions; nil refuses them.
	Confirmer Confirmer
	// Tester sends TestReceiver's sample; nil refuses TestReceiver.
	Tester Tester
	// OnEnqueue, when set, is called after a receiver message was committed (wakes the worker).
	OnEnqueue func()
}

// NewService returns the receiver service of the server's account; publicURL is the base of
// receiver endpoints and console links.
func NewService(store Store, outbox Outbox, accountID, publicURL string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, outbox: outbox, now: now, accountID: accountID, base: strings.TrimRight(publicURL, "/")}
}

// AccountID is the account receiver endpoints resolve in.
func (s *Service) AccountID() string { return s.accountID }

// PublicURL is the base of endpoints and links.
func (s *Service) PublicURL() string { return s.base }

// EndpointPath is the path prefix of receiver endpoints.
const EndpointPath = "/receivers/"

// Endpoint is the SNS subscription endpoint of receiver name.
func (s *Service) Endpoint(name string) string { return s.base + EndpointPath + url.PathEscape(name) }

// Put validates r and stores it, replacing a receiver of the same name (whose creation time it
// keeps), and returns its endpoint.
func (s *Service) Put(ctx context.Context, accountID string, r Receiver) (string, error) {
	r.AccountID = accountID
	if err := r.Validate(); err != nil {
		return "", err
	}
	now := s.now().UTC()
	r.Created, r.Updated = now, now
	if old, err := s.store.GetReceiver(ctx, accountID, r.Name); err == nil {
		r.Created = old.Created
	} else if !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("get receiver: %w", err)
	}
	if err := s.store.PutReceiver(ctx, &r); err != nil {
		return "", fmt.Errorf("put receiver: %w", err)
	}
	return s.Endpoint(r.Name), nil
}

// Get returns a receiver with its secrets masked.
func (s *Service) Get(ctx context.Context, accountID, name string) (*Receiver, error) {
	r, err := s.get(ctx, accountID, name)
	if err != nil {
		return nil, err
	}
	return r.Masked(), nil
}

func (s *Service) get(ctx context.Context, accountID, name string) (*Receiver, error) {
	if name == "" {
		return nil, invalid("name", "is required.")
	}
	r, err := s.store.GetReceiver(ctx, accountID, name)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("get receiver: %w", err)
	}
	return r, nil
}

// List returns the account's receivers with their secrets masked.
func (s *Service) List(ctx context.Context, accountID string) ([]*Receiver, error) {
	rs, err := s.store.ListReceivers(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("list receivers: %w", err)
	}
	out := make([]*Receiver, len(rs))
	for i, r := range rs {
		out[i] = r.Masked()
	}
	return out, nil
}

// Delete removes a receiver. Messages already in the outbox for it fail at their next attempt;
// subscriptions to its endpoint stay (their deliveries are answered 404, which SNS counts as
// delivered) until they are unsubscribed or a receiver of that name is put again.
func (s *Service) Delete(ctx context.Context, accountID, name string) error {
	if name == "" {
		return invalid("name", "is required.")
	}
	err := s.store.DeleteReceiver(ctx, accountID, name)
	if errors.Is(err, ErrNotFound) {
		return notFound(name)
	}
	if err != nil {
		return fmt.Errorf("delete receiver: %w", err)
	}
	return nil
}

// Test sends a sample root-login alarm to the receiver at once and returns the provider's answer.
func (s *Service) Test(ctx context.Context, accountID, region, name string) (TestResult, error) {
	r, err := s.get(ctx, accountID, name)
	if err != nil {
		return TestResult{}, err
	}
	if s.Tester == nil {
		return TestResult{}, errors.New("no receiver sender configured")
	}
	return s.Tester.Test(ctx, r, alert.Sample(s.now(), accountID, region, s.base))
}

// ErrNoReceiver is returned (wrapped in *Error) by Accept for an endpoint without a receiver.
var ErrNoReceiver = errors.New("no such receiver")

// Accept takes an SNS message delivered to the endpoint of receiver name: it confirms a
// subscription, ignores an UnsubscribeConfirmation, and puts a notification in the outbox as one
// receiver message (deduplicated per alarm transition). It returns a short description of what
// it did, for the delivery log. A receiver that does not exist is an *Error with status 404.
func (s *Service) Accept(ctx context.Context, name string, in Inbound) (string, error) {
	r, err := s.store.GetReceiver(ctx, s.accountID, name)
	if errors.Is(err, ErrNotFound) {
		return "", &Error{Code: "ResourceNotFoundException", Message: "Receiver " + name + " does not exist.", Status: 404}
	}
	if err != nil {
		return "", fmt.Errorf("get receiver: %w", err)
	}
	switch in.Type {
	case sns.TypeSubscriptionConfirmation:
		if s.Confirmer == nil {
			return "", errors.New("subscription confirmation is not configured")
		}
		if err := s.Confirmer.Confirm(ctx, in); err != nil {
			return "", fmt.Errorf("confirm subscription: %w", err)
		}
		return "receiver " + name + ": subscription confirmed", nil
	case sns.TypeUnsubscribeConfirmation:
		return "receiver " + name + ": unsubscribed", nil
	case sns.TypeNotification:
	default:
		return "", &Error{Code: "InvalidParameterException", Message: "Unknown SNS message type " + in.Type + "."}
	}
	a := alert.Parse(in.MessageID, in.TopicARN, in.Subject, in.Message, "")
	if a.Resolved() && !r.SendResolved {
		return "receiver " + name + ": OK not sent (sendResolved is false)", nil
	}
	body, err := json.Marshal(Message{Receiver: name, Origin: in.Origin, MessageID: in.MessageID, TopicARN: in.TopicARN,
		Subject: in.Subject, Message: in.Message, Timestamp: in.Timestamp})
	if err != nil {
		return "", fmt.Errorf("encode receiver message: %w", err)
	}
	now := s.now()
	id := uuid.NewString()
	d := sns.Delivery{
		MessageID: id, Type: MessageType, Scope: scopeOf(in.TopicARN, s.accountID), TopicARN: in.TopicARN,
		SubscriptionARN: in.SubscriptionARN, Protocol: Protocol, Endpoint: s.Endpoint(name), Body: string(body),
		Policy: RetryPolicy, Created: now, NextAttempt: now, Status: sns.DeliveryPending,
	}
	got, err := s.outbox.Enqueue(ctx, DedupKey(s.accountID, name, a, in.MessageID), id, []sns.Delivery{d})
	if err != nil {
		return "", fmt.Errorf("enqueue receiver message: %w", err)
	}
	if got != id {
		return "receiver " + name + ": duplicate of message " + got + ", not sent again", nil
	}
	if s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return "receiver " + name + ": queued as " + id, nil
}

// DedupKey is the outbox key that makes one message per receiver: per alarm transition (alarm
// ARN, new state, state change time) for alarms, per SNS message id otherwise.
func DedupKey(accountID, name string, a alert.Alert, messageID string) string {
	var k string
	if a.IsAlarm && a.AlarmARN != "" && !a.StateChangeTime.IsZero() {
		k = "alarm\x00" + a.AlarmARN + "\x00" + a.NewState + "\x00" + a.StateChangeTime.Format(time.RFC3339Nano)
	} else {
		k = "message\x00" + messageID
	}
	h := sha256.Sum256([]byte(accountID + "\x00" + name + "\x00" + k))
	return "receiver/" + hex.EncodeToString(h[:])
}

// scopeOf is the (account, region) of a topic ARN, else the server account.
func scopeOf(topicARN, accountID string) sns.Scope {
	p := strings.SplitN(topicARN, ":", 6)
	if len(p) == 6 {
		return sns.Scope{AccountID: p[4], Region: p[3]}
	}
	return sns.Scope{AccountID: accountID}
}

// ThreadKey is the key of an alert's thread: the alarm ARN, "" for plain messages (which have
// none).
func ThreadKey(a alert.Alert) string {
	if a.IsAlarm {
		return a.AlarmARN
	}
	return ""
}
