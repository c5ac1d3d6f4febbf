// Package webhook sends receiver notifications as a JSON body compatible with Alertmanager's
// webhook payload version 4 (reference §A5), so existing Alertmanager receivers work, plus a
// "trailwatch" member with the alarm and its evidence.
//
// With a signing secret each request is signed as Grafana signs its webhooks:
// X-Trailwatch-Timestamp is the Unix time of the attempt in seconds, and X-Trailwatch-Signature
// is "sha256=" + hex(HMAC-SHA256(secret, timestamp + ":" + body)). Idempotency-Key carries the
// receiver message's id, the same on every retry of one message, so receivers can drop repeats.
//
// Decisions: ALARM is "firing", OK "resolved"; INSUFFICIENT_DATA is "firing" with label
// severity="warning" (Alertmanager has no third status), other states have severity="critical";
// labels (alertname, alarm_arn, account_id, region, severity) identify the alarm, and the
// CloudWatch state is the annotation "state". startsAt
// is when the alarm last went to ALARM (remembered between messages; the state change time when
// unknown), endsAt is "0001-01-01T00:00:00Z" while firing and the OK time once resolved, and the
// fingerprint is the first 16 hex digits of the alarm ARN's SHA-256. Success is any 2xx; 429
// (honouring Retry-After) and 5xx are retried; other statuses are not.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
)

// Header names of signed requests.
const (
	TimestampHeader   = "X-Trailwatch-Timestamp"
	SignatureHeader   = "X-Trailwatch-Signature"
	IdempotencyHeader = "Idempotency-Key"
)

// Integration is the webhook integration.
type Integration struct {
	Client *http.Client
	// PublicURL is the payload's externalURL.
	PublicURL string
}

// Payload is the request body.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
	Trailwatch        Details           `json:"trailwatch"`
}

// Alert is one alert of the payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Details is the trailwatch member: the alarm, its evidence and the SNS message it came in.
type Details struct {
	MessageID       string           `json:"messageId"`
	TopicARN        string           `json:"topicArn"`
	Subject         string           `json:"subject,omitempty"`
	AlarmName       string           `json:"alarmName,omitempty"`
	AlarmARN        string           `json:"alarmArn,omitempty"`
	AccountID       string           `json:"accountId,omitempty"`
	Region          string           `json:"region,omitempty"`
	State           string           `json:"state,omitempty"`
	PreviousState   string           `json:"previousState,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	StateChangeTime string           `json:"stateChangeTime,omitempty"`
	Evidence        []alert.Evidence `json:"evidence"`
	Omitted         int              `json:"omittedEvents"`
	Message         string           `json:"message,omitempty"`
	Link            string           `json:"link,omitempty"`
}

const zeroTime = "0001-01-01T00:00:00Z"

// Render builds the payload of an alert for receiver name; firingSince is when the alarm last
// went to ALARM (zero when unknown).
func Render(a alert.Alert, name, publicURL string, firingSince time.Time) Payload {
	status := "firing"
	if a.Resolved() {
		status = "resolved"
	}
	labels := map[string]string{"alertname": a.AlarmName}
	ann := map[string]string{"summary": a.Title()}
	key := a.AlarmARN
	if !a.IsAlarm {
		labels = map[string]string{"alertname": "SNSNotification", "topic_arn": a.TopicARN}
		ann["description"] = a.Text
		key = "sns-message:" + a.MessageID
	} else {
		// Labels identify the alert and stay the same from firing to resolved; the state is an
		// annotation.
		labels["alarm_arn"], labels["account_id"], labels["region"] = a.AlarmARN, a.AccountID, a.Region
		ann["state"] = a.NewState
		labels["severity"] = "critical"
		if a.NewState == alert.StateInsufficientData {
			labels["severity"] = "warning"
		}
		ann["description"] = a.Reason
		if a.AlarmDescription != "" {
			ann["alarm_description"] = a.AlarmDescription
		}
	}
	h := sha256.Sum256([]byte(key))
	starts, ends := a.StateChangeTime, zeroTime
	if !firingSince.IsZero() {
		starts = firingSince
	}
	if status == "resolved" {
		ends = a.StateChangeTime.Format(time.RFC3339Nano)
	}
	startsAt := zeroTime
	if !starts.IsZero() {
		startsAt = starts.Format(time.RFC3339Nano)
	}
	d := Details{MessageID: a.MessageID, TopicARN: a.TopicARN, Subject: a.Subject, AlarmName: a.AlarmName, AlarmARN: a.AlarmARN,
		AccountID: a.AccountID, Region: a.Region, State: a.NewState, PreviousState: a.OldState, Reason: a.Reason,
		Evidence: a.Evidence, Omitted: a.Omitted, Message: a.Text, Link: a.Link}
	if d.Evidence == nil {
		d.Evidence = []alert.Evidence{}
	}
	if !a.StateChangeTime.IsZero() {
		d.StateChangeTime = a.StateChangeTime.Format(time.RFC3339Nano)
	}
	return Payload{
		Version: "4", GroupKey: key, Status: status, Receiver: name,
		GroupLabels: map[string]string{"alertname": labels["alertname"]}, CommonLabels: labels, CommonAnnotations: ann,
		ExternalURL: publicURL,
		Alerts: []Alert{{Status: status, Labels: labels, Annotations: ann, StartsAt: startsAt, EndsAt: ends,
			GeneratorURL: a.Link, Fingerprint: hex.EncodeToString(h[:8])}},
		Trailwatch: d,
	}
}

// Sign returns the X-Trailwatch-Signature value of body sent at timestamp ts (Unix seconds).
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte(":"))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Notify implements notify.Integration.
func (w *Integration) Notify(ctx context.Context, n notify.Notification) (notify.Result, error) {
	body, err := notify.MarshalJSON(Render(n.Alert, n.Receiver.Name, w.PublicURL, n.Thread.FiringSince))
	if err != nil {
		return notify.Result{}, &notify.DeliveryError{Detail: "encode payload: " + err.Error(), Permanent: true}
	}
	headers := map[string]string{IdempotencyHeader: n.ID}
	if n.Receiver.SigningSecret != "" {
		ts := strconv.FormatInt(n.Now.Unix(), 10)
		headers[TimestampHeader], headers[SignatureHeader] = ts, Sign(n.Receiver.SigningSecret, ts, body)
	}
	r, err := notify.Post(ctx, w.Client, n.Receiver.URL, headers, body)
	if err != nil {
		return notify.Result{}, err
	}
	if r.Status >= 200 && r.Status < 300 {
		return notify.Result{Status: r.Status, Detail: notify.StatusText(r.Status, ""), Thread: n.Thread}, nil
	}
	return notify.Result{}, notify.Failure(r, notify.ErrorText(r.Body), n.Now)
}
