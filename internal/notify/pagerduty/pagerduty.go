// Package pagerduty sends receiver notifications to PagerDuty's Events API v2 (reference §A3):
// "trigger" on ALARM and "resolve" on OK, both with dedup_key = the alarm ARN (its SHA-256 in
// hex when longer than PagerDuty's 255 characters) and the same routing key, so OK resolves the
// incident ALARM opened. payload.summary is at most 1,024 characters; custom_details carries the
// alarm and its evidence, replaced by a note if the event would exceed PagerDuty's 512 KB.
//
// Decisions: INSUFFICIENT_DATA is not sent, since it can neither trigger nor resolve (PagerDuty's
// own CloudWatch integration does not resolve on it either); a message that is not an alarm
// notification triggers an incident keyed by its SNS message id. payload.source is
// "aws:<account>:<region>". 202 is success; 429 (honouring Retry-After) and 5xx are retried;
// other statuses, 400 among them, are not.
package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Limits of the Events API v2 (PDD 01, 02).
const (
	MaxDedupKey = 255
	MaxSummary  = 1024
	MaxEvent    = 512000
)

// Integration is the PagerDuty integration.
type Integration struct {
	Client *http.Client
}

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload is an event's payload.
type Payload struct {
	Summary       string `json:"summary"`
	Source        string `json:"source"`
	Severity      string `json:"severity"`
	Timestamp     string `json:"timestamp,omitempty"`
	Component     string `json:"component,omitempty"`
	Group         string `json:"group,omitempty"`
	Class         string `json:"class,omitempty"`
	CustomDetails any    `json:"custom_details,omitempty"`
}

// Link is a link shown with the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// DedupKey is the incident key of an alarm: its ARN, or the ARN's SHA-256 in hex when the ARN is
// longer than PagerDuty allows.
func DedupKey(arn string) string {
	if len(arn) <= MaxDedupKey {
		return arn
	}
	h := sha256.Sum256([]byte(arn))
	return hex.EncodeToString(h[:])
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// details is custom_details: the alarm and the evidence.
type details struct {
	Alarm       string           `json:"alarm,omitempty"`
	Description string           `json:"description,omitempty"`
	Account     string           `json:"account,omitempty"`
	Region      string           `json:"region,omitempty"`
	State       string           `json:"state,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Changed     string           `json:"stateChangeTime,omitempty"`
	Evidence    []alert.Evidence `json:"evidence,omitempty"`
	Omitted     int              `json:"omittedEvents,omitempty"`
	Message     string           `json:"message,omitempty"`
	Link        string           `json:"link,omitempty"`
}

// Render builds the event of an alert; ok is false when the alert is not sent (INSUFFICIENT_DATA).
func Render(a alert.Alert, routingKey, severity string) (ev Event, ok bool) {
	if severity == "" {
		severity = "critical"
	}
	ev = Event{RoutingKey: routingKey, Client: "trailwatch", ClientURL: a.Link}
	if !a.IsAlarm {
		ev.EventAction, ev.DedupKey = "trigger", DedupKey("sns-message:"+a.MessageID)
		ev.Payload = &Payload{Summary: cut(a.Title(), MaxSummary), Source: "sns:" + a.TopicARN, Severity: severity,
			CustomDetails: details{Message: a.Text}}
		return ev, true
	}
	ev.DedupKey = DedupKey(a.AlarmARN)
	switch a.NewState {
	case alert.StateOK:
		ev.EventAction = "resolve"
		return ev, true
	case alert.StateAlarm:
		ev.EventAction = "trigger"
	default:
		return ev, false
	}
	d := details{Alarm: a.AlarmName, Description: a.AlarmDescription, Account: a.AccountID, Region: a.Region,
		State: a.OldState + " -> " + a.NewState, Reason: a.Reason, Evidence: a.Evidence, Omitted: a.Omitted, Link: a.Link}
	if !a.StateChangeTime.IsZero() {
		d.Changed = a.StateChangeTime.Format(time.RFC3339Nano)
	}
	ev.Payload = &Payload{Summary: cut(a.Summary(), MaxSummary), Source: "aws:" + a.AccountID + ":" + a.Region, Severity: severity,
		Component: a.AlarmName, Group: a.AccountID, Class: "CloudWatch alarm", CustomDetails: d}
	if !a.StateChangeTime.IsZero() {
		ev.Payload.Timestamp = a.StateChangeTime.Format(time.RFC3339Nano)
	}
	if a.Link != "" {
		ev.Links = []Link{{Href: a.Link, Text: "Open in trailwatch"}}
	}
	return ev, true
}

// Notify implements notify.Integration.
func (p *Integration) Notify(ctx context.Context, n notify.Notification) (notify.Result, error) {
	ev, ok := Render(n.Alert, n.Receiver.RoutingKey, n.Receiver.Severity)
	if !ok {
		return notify.Result{Detail: "not sent: " + n.Alert.NewState + " neither triggers nor resolves a PagerDuty incident", Thread: n.Thread}, nil
	}
	body, err := notify.MarshalJSON(ev)
	if err == nil && len(body) > MaxEvent && ev.Payload != nil {
		// As Alertmanager does: keep the event, drop the details that made it too large.
		ev.Payload.CustomDetails = map[string]string{"error": "custom details left out: the event would exceed PagerDuty's 512 KB"}
		body, err = notify.MarshalJSON(ev)
	}
	if err != nil {
		return notify.Result{}, &notify.DeliveryError{Detail: "encode event: " + err.Error(), Permanent: true}
	}
	r, err := notify.Post(ctx, p.Client, n.Receiver.TargetURL(), nil, body)
	if err != nil {
		return notify.Result{}, err
	}
	text := notify.ErrorText(r.Body)
	if r.Status == http.StatusAccepted {
		return notify.Result{Status: r.Status, Detail: notify.StatusText(r.Status, ev.EventAction+" "+text), Thread: n.Thread}, nil
	}
	return notify.Result{}, notify.Failure(r, text, n.Now)
}
