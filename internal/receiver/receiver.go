// Package receiver is trailwatch's receiver resource: a named destination of type slack,
// pagerduty, teams or webhook with that type's settings, kept in the store. A topic reaches a
// receiver through an ordinary SNS https (or http) subscription to
// <public-url>/receivers/<name>; the Service accepts the SNS messages delivered there (from
// trailwatch itself or, once their signature verified, from real AWS SNS), confirms
// subscriptions, and puts one receiver message per notification in the durable outbox, which
// the notify package delivers to the provider.
//
// Decisions on questions the issue and the reference leave open:
//
//   - Receivers belong to an account (the server's); the endpoint carries only the name, so
//     /receivers/<name> resolves in the server's account, whatever region the topic is in.
//   - Secrets (url of slack, teams and webhook receivers, routingKey, botToken, signingSecret)
//     are kept in the store as given (the data directory is private to trailwatch's user; at-rest
//     encryption is not done) and every read meant for display masks them (Masked).
//   - One alarm transition makes one receiver message: the outbox entry is deduplicated by
//     receiver, alarm ARN, new state and state change time, so the same transition arriving
//     through two topics, or the same SNS message delivered twice, is sent once.
//   - An OK notification is not sent when sendResolved is false (it defaults to true).
//   - Receiver messages use their own retry policy (RetryPolicy), not the subscription's SNS
//     policy: the SNS delivery to the receiver endpoint succeeds when the message is in the
//     outbox, as an https endpoint answering 200 would.
package receiver

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Types of receivers.
const (
	TypeSlack     = "slack"
	TypePagerDuty = "pagerduty"
	TypeTeams     = "teams"
	TypeWebhook   = "webhook"
)

// PagerDuty severities accepted by the Events API v2.
var severities = map[string]bool{"critical": true, "error": true, "warning": true, "info": true}

// DefaultPagerDutyURL is PagerDuty's Events API v2 enqueue endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultSlackAPIURL is the base of Slack's Web API (chat.postMessage, chat.update).
const DefaultSlackAPIURL = "https://slack.com/api/"

// Receiver is a stored receiver.
type Receiver struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	// URL is the incoming-webhook URL (slack without a bot token, teams, webhook), the Events API
	// URL (pagerduty; DefaultPagerDutyURL when empty) or the Web API base (slack with a bot token;
	// DefaultSlackAPIURL when empty).
	URL string `json:"url,omitempty"`
	// RoutingKey is PagerDuty's integration key.
	RoutingKey string `json:"routingKey,omitempty"`
	// BotToken and Channel make a slack receiver post with chat.postMessage.
	BotToken string `json:"botToken,omitempty"`
	Channel  string `json:"channel,omitempty"`
	// SigningSecret, when set, signs webhook requests (HMAC-SHA256).
	SigningSecret string `json:"signingSecret,omitempty"`
	// Severity is PagerDuty's payload.severity ("critical" when empty).
	Severity string `json:"severity,omitempty"`
	// SendResolved sends OK notifications (resolve, update).
	SendResolved bool      `json:"sendResolved"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// SlackBot reports whether a slack receiver posts through the Web API with a bot token.
func (r *Receiver) SlackBot() bool { return r.Type == TypeSlack && r.BotToken != "" }

// TargetURL is the URL requests go to for this receiver.
func (r *Receiver) TargetURL() string {
	switch {
	case r.Type == TypePagerDuty && r.URL == "":
		return DefaultPagerDutyURL
	case r.SlackBot() && r.URL == "":
		return DefaultSlackAPIURL
	}
	return r.URL
}

// Masked returns a copy of r whose secrets are masked, for every read meant for display (the API,
// the CLI, the console, logs). A URL keeps its scheme and host ("https://hooks.slack.com/****"),
// except for a pagerduty or slack-bot receiver, whose URL is not a secret; keys, tokens and
// signing secrets become "****" followed by their last four characters when they are at least 16
// long, else "****".
func (r *Receiver) Masked() *Receiver {
	m := *r
	if r.URL != "" && !(r.Type == TypePagerDuty || r.SlackBot()) {
		m.URL = MaskURL(r.URL)
	}
	m.RoutingKey, m.BotToken, m.SigningSecret = maskSecret(r.RoutingKey), maskSecret(r.BotToken), maskSecret(r.SigningSecret)
	return &m
}

// MaskURL hides everything of a URL but its scheme and host.
func MaskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "****"
	}
	return u.Scheme + "://" + u.Hostname() + "/****"
}

func maskSecret(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) >= 16:
		return "****" + s[len(s)-4:]
	}
	return "****"
}

// Error is a receiver error as API clients see it.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the AWS-style error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the message shown to the client.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatusCode returns the HTTP status of the error.
func (e *Error) HTTPStatusCode() int {
	if e.Status == 0 {
		return 400
	}
	return e.Status
}

func invalid(field, msg string) *Error {
	return &Error{Code: "InvalidParameterException", Message: "Invalid parameter " + field + ": " + msg}
}

func notFound(name string) *Error {
	return &Error{Code: "ResourceNotFoundException", Message: "Receiver " + name + " does not exist.", Status: 400}
}

// ErrNotFound is returned (wrapped) by a Store for a receiver that does not exist.
var ErrNotFound = errors.New("receiver not found")

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// legacyTeamsHosts are Office 365 connector hosts, retired on 2026-03-31 (reference §A4).
var legacyTeamsHosts = []string{"webhook.office.com", "outlook.office.com", "outlook.office365.com"}

// Validate checks a receiver's name, type and the settings its type needs, and names the field
// at fault. It fills defaults (severity).
func (r *Receiver) Validate() error {
	if !nameRe.MatchString(r.Name) {
		return invalid("name", "must be 1 to 128 letters, digits, '_', '-' or '.'.")
	}
	checkURL := func(required bool) error {
		if r.URL == "" {
			if required {
				return invalid("url", "is required for a "+r.Type+" receiver.")
			}
			return nil
		}
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(r.URL, " \r\n\t") || len(r.URL) > 2048 {
			return invalid("url", "must be an http or https URL.")
		}
		return nil
	}
	unused := func(field, v string) error {
		if v != "" {
			return invalid(field, "is not used by a "+r.Type+" receiver.")
		}
		return nil
	}
	var err error
	switch r.Type {
	case TypeSlack:
		if r.BotToken != "" || r.Channel != "" {
			if r.BotToken == "" {
				return invalid("botToken", "is required with channel.")
			}
			if r.Channel == "" {
				return invalid("channel", "is required with botToken.")
			}
			err = checkURL(false)
		} else {
			err = checkURL(true)
		}
		err = errors.Join(err, unused("routingKey", r.RoutingKey), unused("signingSecret", r.SigningSecret), unused("severity", r.Severity))
	case TypePagerDuty:
		if r.RoutingKey == "" {
			return invalid("routingKey", "is required for a pagerduty receiver.")
		}
		if len(r.RoutingKey) > 64 || strings.ContainsAny(r.RoutingKey, " \r\n\t\"") {
			return invalid("routingKey", "is not an integration key.")
		}
		if r.Severity == "" {
			r.Severity = "critical"
		}
		if !severities[r.Severity] {
			return invalid("severity", "must be critical, error, warning or info.")
		}
		err = errors.Join(checkURL(false), unused("botToken", r.BotToken), unused("channel", r.Channel), unused("signingSecret", r.SigningSecret))
	case TypeTeams:
		err = checkURL(true)
		if err == nil {
			host := strings.ToLower(mustHost(r.URL))
			for _, h := range legacyTeamsHosts {
				if host == h || strings.HasSuffix(host, "."+h) {
					return invalid("url", "is an Office 365 connector URL; those were retired on 2026-03-31. Create a Workflows webhook (\"Send webhook alerts to a channel\") and use its URL.")
				}
			}
		}
		err = errors.Join(err, unused("routingKey", r.RoutingKey), unused("botToken", r.BotToken), unused("channel", r.Channel), unused("signingSecret", r.SigningSecret), unused("severity", r.Severity))
	case TypeWebhook:
		err = errors.Join(checkURL(true), unused("routingKey", r.RoutingKey), unused("botToken", r.BotToken), unused("channel", r.Channel), unused("severity", r.Severity))
	case "":
		return invalid("type", "is required: slack, pagerduty, teams or webhook.")
	default:
		return invalid("type", "must be slack, pagerduty, teams or webhook.")
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func mustHost(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Thread is what a receiver remembers of an alarm between its messages: the Slack message to
// update (Channel, TS), when the alarm last went to ALARM (FiringSince, the webhook's startsAt),
// and the state change time of the last message delivered (Last), so that an older message
// still being retried is dropped instead of landing after a newer one.
type Thread struct {
	Channel     string    `json:"channel,omitempty"`
	TS          string    `json:"ts,omitempty"`
	FiringSince time.Time `json:"firingSince,omitzero"`
	Last        time.Time `json:"last,omitzero"`
}

// Store is the persistence of receivers. Implementations live in internal/store/...;
// internal/receiver/receivertest is the conformance suite.
type Store interface {
	// PutReceiver inserts or replaces the receiver (account, name).
	PutReceiver(ctx context.Context, r *Receiver) error
	// GetReceiver returns the receiver or an error wrapping ErrNotFound. Secrets are returned
	// as stored: callers that display a receiver mask it.
	GetReceiver(ctx context.Context, accountID, name string) (*Receiver, error)
	// ListReceivers returns the account's receivers ordered by name.
	ListReceivers(ctx context.Context, accountID string) ([]*Receiver, error)
	// DeleteReceiver removes the receiver and its threads; it returns an error wrapping
	// ErrNotFound when there is none.
	DeleteReceiver(ctx context.Context, accountID, name string) error
	// GetThread returns the thread of (account, receiver, key); ok is false when there is none.
	GetThread(ctx context.Context, accountID, receiver, key string) (t Thread, ok bool, err error)
	// PutThread stores the thread of (account, receiver, key).
	PutThread(ctx context.Context, accountID, receiver, key string, t Thread) error
}
