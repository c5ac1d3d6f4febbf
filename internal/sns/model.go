package sns

import (
	"context"
	"errors"
	"time"
)

// Scope is the (account, region) pair every topic and subscription belongs to.
type Scope struct {
	AccountID string
	Region    string
}

// Topic is a stored SNS topic.
type Topic struct {
	Scope Scope
	Name  string
	ARN   string
	// Attributes are the settable attributes (DisplayName, Policy, DeliveryPolicy,
	// SignatureVersion, ...) as given; computed ones are added by GetTopicAttributes.
	Attributes map[string]string
	Tags       map[string]string
	Created    time.Time
	// SubscriptionsDeleted counts subscriptions removed from the topic; the store maintains it.
	SubscriptionsDeleted int
}

// Subscription is a stored subscription.
type Subscription struct {
	Scope    Scope
	ARN      string
	TopicARN string
	Owner    string
	Protocol string
	Endpoint string
	// Confirmed is false while the subscription waits for its confirmation.
	Confirmed bool
	// Token is the confirmation token (also used to re-subscribe from an
	// UnsubscribeConfirmation); TokenExpires is when it stops being accepted.
	Token        string
	TokenExpires time.Time
	// Authenticated is ConfirmationWasAuthenticated: the confirmation was signed and asked
	// for AuthenticateOnUnsubscribe, so only a signed Unsubscribe can remove it.
	Authenticated bool
	Attributes    map[string]string
	Created       time.Time
}

// Delivery types: the x-amz-sns-message-type of an HTTP delivery and the Type of a JSON body.
const (
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeNotification             = "Notification"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Delivery statuses in the outbox.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	// DeliveryFailed means the retry policy ran out (SNS discards such a message when no
	// dead-letter queue is set; trailwatch keeps the record for inspection).
	DeliveryFailed = "failed"
)

// Delivery is one message to one endpoint in the durable outbox. Everything needed to send it
// is rendered when it is enqueued, so a retry sends exactly the same bytes (the same MessageId and
// signature), as SNS does.
type Delivery struct {
	ID              int64
	MessageID       string
	Type            string
	Scope           Scope
	TopicARN        string
	SubscriptionARN string
	Protocol        string
	Endpoint        string
	// Subject, FromName and UnsubscribeURL are used by email deliveries.
	Subject        string
	FromName       string
	UnsubscribeURL string
	// Body is the email text or the HTTP request body.
	Body string
	// Headers are the HTTP request headers (Content-Type and the x-amz-sns-* set).
	Headers map[string]string
	Policy  RetryPolicy
	Created time.Time
	// NextAttempt is when the next attempt is due.
	NextAttempt time.Time
	Attempts    int
	Status      string
	LastError   string
}

// Attempt is one recorded delivery attempt.
type Attempt struct {
	DeliveryID int64
	// N is the attempt number, from 1.
	N        int
	At       time.Time
	Duration time.Duration
	// Outcome is "delivered", "retry" or "failed" (the last attempt the policy allowed).
	Outcome string
	// Detail is the HTTP status or the error text.
	Detail string
}

// ErrNotFound is returned (wrapped) by a Store for a missing topic or subscription.
var ErrNotFound = errors.New("not found")

// Store is the persistence the SNS service needs. Implementations live in internal/store/...;
// internal/sns/snstest is the conformance suite.
type Store interface {
	// GetTopic returns the topic with the given ARN or an error wrapping ErrNotFound.
	GetTopic(ctx context.Context, arn string) (*Topic, error)
	// PutTopic inserts or replaces t (keeping its SubscriptionsDeleted counter).
	PutTopic(ctx context.Context, t *Topic) error
	// DeleteTopic removes the topic and its subscriptions; a missing topic is not an error.
	// Pending deliveries of the topic are kept: a message accepted before stays deliverable.
	DeleteTopic(ctx context.Context, arn string) error
	// ListTopics returns up to limit topics of sc with ARN > after, ordered by ARN.
	ListTopics(ctx context.Context, sc Scope, after string, limit int) ([]*Topic, error)

	GetSubscription(ctx context.Context, arn string) (*Subscription, error)
	// SubscriptionByToken finds the subscription with the given confirmation token.
	SubscriptionByToken(ctx context.Context, token string) (*Subscription, error)
	// PutSubscription inserts or replaces s and enqueues ds in the same transaction.
	PutSubscription(ctx context.Context, s *Subscription, ds []Delivery) error
	// DeleteSubscription removes the subscription, counts it on its topic and enqueues ds,
	// in one transaction; a missing subscription is not an error.
	DeleteSubscription(ctx context.Context, arn string, ds []Delivery) error
	// ListSubscriptions returns up to limit subscriptions of sc (of topicARN only, unless it is
	// "") with ARN > after, ordered by ARN.
	ListSubscriptions(ctx context.Context, sc Scope, topicARN, after string, limit int) ([]*Subscription, error)

	// Enqueue durably stores the deliveries of one published message. With a non-empty dedupKey,
	// a key enqueued before stores nothing and returns the earlier message id (so an alarm action
	// published twice after a crash is delivered once); otherwise it returns messageID.
	Enqueue(ctx context.Context, dedupKey, messageID string, ds []Delivery) (string, error)
}
