package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// LogSearcher is the part of the logs service the alert enrichment reads.
type LogSearcher interface {
	DescribeMetricFilters(ctx context.Context, sc logs.Scope, in logs.DescribeMetricFiltersInput) (logs.DescribeMetricFiltersOutput, error)
	FilterLogEvents(ctx context.Context, sc logs.Scope, in logs.FilterLogEventsInput) (logs.FilterLogEventsOutput, error)
}

// Enrichment limits: at most ShownEvents events are described, and at most ScannedEvents are
// read to count the rest, so one alarm never turns into an unbounded log scan.
const (
	ShownEvents   = 10
	ScannedEvents = 1000
)

// EvidenceKey is the extra member added to the alarm's JSON message (after CloudWatch's own
// members, so the AWS shape is unchanged for parsers that ignore unknown keys).
const EvidenceKey = alert.EvidenceKey

// MessageBudget is the most bytes an alarm message enriched with log evidence may have, as SNS
// measures a message: the UTF-8 bytes of the Message parameter, which for MessageStructure=json is
// the whole JSON document, escapes included ("at most 256 KB in size (262,144 bytes, not 262,144
// characters)", SNS API reference, Publish; /work/shared/reference/aws-alarms-sns-protocols.md,
// Publish). Evidence events that would take the message past it are left out. The 16 KiB kept
// in reserve covers a count that differs from ours; if SNS still refuses the message, the
// publisher falls back to CloudWatch's own message.
const MessageBudget = sns.MaxMessageBytes - 16<<10

// SNSPublisher is the part of the SNS service an AlarmPublisher uses (*sns.Service).
type SNSPublisher interface {
	Publish(ctx context.Context, sc sns.Scope, in sns.PublishInput) (string, error)
}

// AlarmPublisher is the alarm engine's Publisher: it publishes each alarm action to its SNS topic
// exactly as CloudWatch does (MessageStructure=json with the JSON message as "default" and the
// email text as "email"), deduplicated by the action id so that an action republished after a
// crash or a retry is delivered once. SNS's client errors are returned as
// *alarm.PermanentError; other errors are transient and the action is retried. When the alarm's
// metric comes from metric filters and the alarm went to ALARM, the log events of the evaluation
// window that the filters matched are added to both, within MessageBudget. trailwatch's additions
// never cost the notification: if SNS refuses the enriched message as an invalid parameter (too
// long, say), the message CloudWatch would have sent is published instead.
//
// The email's evidence section ends with a link to the alarm's page on trailwatch's console
// (alert.LinkText of alert.ConsoleLink) when PublicURL is set. The link goes only into the text
// trailwatch adds to the email: CloudWatch's own members of the JSON message keep AWS's shape,
// and the receivers make the same link from their own public URL.
type AlarmPublisher struct {
	SNS SNSPublisher
	// Logs, when set, enables the enrichment.
	Logs LogSearcher
	// PublicURL is trailwatch's public URL, the base of the console link in emails; "" leaves
	// the link out.
	PublicURL string
}

// PublishAction implements alarm.Publisher.
func (p *AlarmPublisher) PublishAction(ctx context.Context, a alarm.Action) error {
	msg := a.Message
	if p.Logs != nil && a.NewState == alarm.StateAlarm {
		if enriched, err := p.enrich(ctx, a); err == nil && enriched != "" {
			msg = enriched
		}
	}
	err := p.publish(ctx, a, msg)
	if err != nil && msg != a.Message && refused(err) {
		// SNS validates before it stores anything (no dedup key is taken), so the plain
		// message is published under the same key.
		err = p.publish(ctx, a, a.Message)
	}
	return classify(err)
}

func (p *AlarmPublisher) publish(ctx context.Context, a alarm.Action, msg string) error {
	subject := asciiSubject(a.Subject)
	_, err := p.SNS.Publish(ctx, sns.Scope{AccountID: a.Scope.AccountID, Region: a.Scope.Region}, sns.PublishInput{
		TopicARN: a.ActionARN, Message: msg, Subject: &subject, MessageStructure: "json",
		DedupKey: "alarm-action/" + strconv.FormatInt(a.ID, 10),
	})
	return err
}

// refused reports whether SNS refused a message as an invalid parameter ("Invalid parameter:
// Message too long" and the like), which the enrichment may have caused.
func refused(err error) bool {
	var se *sns.Error
	return errors.As(err, &se) && (se.ErrorCode() == "InvalidParameter" || se.ErrorCode() == "InvalidParameterValue")
}

// classify tells the alarm Dispatcher which publish errors are permanent. SNS's client errors
// (*sns.Error: the topic does not exist, the ARN is not a topic's, the message is refused) answer
// the same on every attempt, so the action fails at once with the error's message, as
// CloudWatch records it. Anything else (storage errors such as a locked database) is transient:
// the action stays pending and is retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sns.Error
	if errors.As(err, &se) && se.HTTPStatusCode() < 500 {
		return &alarm.PermanentError{Reason: se.ErrorMessage(), Err: err}
	}
	return fmt.Errorf("publish to SNS: %w", err)
}

// asciiSubject makes an alarm subject acceptable as an SNS Subject (printable ASCII, fewer than
// 100 characters): other characters become '?'. Alarm names may hold any Unicode; AWS's
// behaviour for them is unknown.
func asciiSubject(s string) string {
	b := []byte{}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
		if len(b) == 99 {
			break
		}
	}
	if len(b) == 0 {
		return "ALARM"
	}
	return string(b)
}

// alarmMessage is what the enrichment reads from CloudWatch's JSON message.
type alarmMessage struct {
	StateChangeTime string
	Trigger         struct {
		MetricName        string
		Namespace         string
		Period            int
		EvaluationPeriods int
	}
}

// Evidence is one log event behind an alarm; the type lives with the shared renderer (package
// alert), so that email and the chat receivers describe events the same way.
type Evidence = alert.Evidence

// CloudTrailSummary is the who / what / where of a CloudTrail record (alert.CloudTrailSummary).
type CloudTrailSummary = alert.CloudTrailSummary

// evidenceDoc is the EvidenceKey member.
type evidenceDoc struct {
	LogEvents []Evidence `json:"LogEvents"`
	// Omitted counts matching events not listed; OmittedIsLowerBound is true when the scan
	// stopped at ScannedEvents.
	Omitted             int  `json:"Omitted"`
	OmittedIsLowerBound bool `json:"OmittedIsLowerBound"`
	// OmittedForSize counts the events among Omitted that were read but left out to keep the
	// message within MessageBudget.
	OmittedForSize int `json:"OmittedForSize,omitempty"`
}

// Window returns the time range searched for an alarm's evidence: the alarm's evaluation
// periods up to the transition, aligned to the period, plus one minute after it for events
// stamped slightly ahead.
func Window(stateChange time.Time, period, evaluationPeriods int) (start, end time.Time) {
	p := time.Duration(max(period, 60)) * time.Second
	start = stateChange.Truncate(p).Add(-time.Duration(max(evaluationPeriods, 1)) * p)
	return start, stateChange.Add(time.Minute)
}

func (p *AlarmPublisher) enrich(ctx context.Context, a alarm.Action) (string, error) {
	var published map[string]string
	if err := json.Unmarshal([]byte(a.Message), &published); err != nil {
		return "", err
	}
	var m alarmMessage
	if err := json.Unmarshal([]byte(published["default"]), &m); err != nil {
		return "", err
	}
	if m.Trigger.MetricName == "" {
		return "", nil
	}
	sc := logs.Scope{AccountID: a.Scope.AccountID, Region: a.Scope.Region}
	filters, err := p.Logs.DescribeMetricFilters(ctx, sc, logs.DescribeMetricFiltersInput{MetricName: m.Trigger.MetricName, MetricNamespace: m.Trigger.Namespace})
	if err != nil || len(filters.MetricFilters) == 0 {
		return "", err
	}
	start, end := Window(a.StateUpdated, m.Trigger.Period, m.Trigger.EvaluationPeriods)
	doc := evidenceDoc{LogEvents: []Evidence{}}
	scanned := 0
	for _, f := range filters.MetricFilters {
		token := ""
		for pages := 0; pages < 10 && scanned < ScannedEvents; pages++ {
			limit := min(ScannedEvents-scanned, 1000)
			out, err := p.Logs.FilterLogEvents(ctx, sc, logs.FilterLogEventsInput{LogGroupName: f.LogGroupName, FilterPattern: f.FilterPattern,
				StartTime: start.UnixMilli(), EndTime: end.UnixMilli(), NextToken: token, Limit: &limit})
			if err != nil {
				break
			}
			for _, e := range out.Events {
				scanned++
				if len(doc.LogEvents) < ShownEvents {
					doc.LogEvents = append(doc.LogEvents, describe(f, e))
				} else {
					doc.Omitted++
				}
			}
			if out.NextToken == "" {
				break
			}
			token = out.NextToken
		}
	}
	if scanned >= ScannedEvents {
		doc.OmittedIsLowerBound = true
	}
	if len(doc.LogEvents) == 0 || !strings.HasSuffix(published["default"], "}") {
		return "", nil
	}
	link := ""
	if p.PublicURL != "" {
		link = alert.ConsoleLink(p.PublicURL, a.Scope.AccountID, a.Scope.Region, a.AlarmName)
	}
	// Escaping makes the encoded size hard to foresee (a '<' in an event costs 13 bytes), so
	// the message is measured whole: events are left out, last first, until it fits.
	shown := doc.LogEvents
	for n := len(shown); n >= 0; n-- {
		d := doc
		d.LogEvents = shown[:n]
		d.Omitted += len(shown) - n
		d.OmittedForSize = len(shown) - n
		out, err := enrichedMessage(published, d, link)
		if err != nil {
			return "", err
		}
		if len(out) <= MessageBudget {
			return out, nil
		}
	}
	return "", nil // CloudWatch's message alone is near the limit: it is published unchanged
}

// enrichedMessage is CloudWatch's published document with doc added to the JSON message and its
// text, ending with the console link when there is one, to the email.
func enrichedMessage(published map[string]string, doc evidenceDoc, link string) (string, error) {
	ev, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	def := published["default"]
	enrichedDefault := def[:len(def)-1] + `,"` + EvidenceKey + `":` + string(ev) + "}"
	email := published["email"]
	if email == "" {
		email = def
	}
	text := EvidenceText(doc.LogEvents, doc.Omitted, doc.OmittedIsLowerBound)
	if doc.OmittedForSize > 0 {
		text += fmt.Sprintf("%d more events not shown: with them the message would exceed SNS's 256 KiB limit.\n", doc.OmittedForSize)
	}
	if link != "" {
		text += "\n" + alert.LinkText(link)
	}
	// CloudWatch's text ends with the blank lines before SNS's footer; the evidence goes
	// between them and the footer.
	email = strings.TrimRight(email, "\n") + "\n\n" + text + "\n"
	out, err := json.Marshal(map[string]string{"default": enrichedDefault, "email": email})
	return string(out), err
}

// clean makes an event field safe to print on one line of text: control characters become
// spaces and long values are cut.
func clean(s string, n int) string {
	s = headerSafe(s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func describe(f logs.MetricFilter, e logs.Event) Evidence {
	ev := Evidence{LogGroupName: f.LogGroupName, LogStreamName: e.LogStreamName, FilterName: f.FilterName, Timestamp: e.Timestamp}
	if ct, ok := cloudTrail(e.Message); ok {
		ev.CloudTrail = ct
	} else {
		ev.Message = clean(e.Message, 1000)
	}
	return ev
}

// cloudTrail summarises a CloudTrail record; ok is false for anything else.
func cloudTrail(msg string) (*CloudTrailSummary, bool) {
	var r struct {
		EventVersion string `json:"eventVersion"`
		EventTime    string `json:"eventTime"`
		EventSource  string `json:"eventSource"`
		EventName    string `json:"eventName"`
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
		SourceIP     string `json:"sourceIPAddress"`
		UserAgent    string `json:"userAgent"`
		AWSRegion    string `json:"awsRegion"`
		Recipient    string `json:"recipientAccountId"`
		UserIdentity struct {
			Type           string `json:"type"`
			ARN            string `json:"arn"`
			SessionContext struct {
				Attributes struct {
					MFAAuthenticated any `json:"mfaAuthenticated"`
				} `json:"attributes"`
			} `json:"sessionContext"`
		} `json:"userIdentity"`
		ResponseElements    map[string]any `json:"responseElements"`
		AdditionalEventData map[string]any `json:"additionalEventData"`
	}
	if err := json.Unmarshal([]byte(msg), &r); err != nil || r.EventSource == "" || r.EventName == "" {
		return nil, false
	}
	const n = 256
	s := &CloudTrailSummary{
		EventTime: clean(r.EventTime, n), UserIdentityType: clean(r.UserIdentity.Type, n), UserIdentityARN: clean(r.UserIdentity.ARN, n),
		EventSource: clean(r.EventSource, n), EventName: clean(r.EventName, n), ErrorCode: clean(r.ErrorCode, n),
		SourceIPAddress: clean(r.SourceIP, n), UserAgent: clean(r.UserAgent, n), AWSRegion: clean(r.AWSRegion, n),
		RecipientAccountID: clean(r.Recipient, n), MFAUsed: "unknown",
	}
	switch {
	case r.ResponseElements["ConsoleLogin"] != nil:
		s.Outcome = clean(fmt.Sprint(r.ResponseElements["ConsoleLogin"]), n)
	case r.ErrorCode != "":
		s.Outcome = "Failure"
	default:
		s.Outcome = "Success"
	}
	if v, ok := r.AdditionalEventData["MFAUsed"]; ok {
		s.MFAUsed = clean(fmt.Sprint(v), n)
	} else if v := r.UserIdentity.SessionContext.Attributes.MFAAuthenticated; v != nil {
		s.MFAUsed = clean(fmt.Sprint(v), n)
	}
	return s, true
}

// EvidenceText is the email section listing the log events behind an alarm, rendered by the
// renderer the chat receivers share (alert.EvidenceText).
func EvidenceText(events []Evidence, omitted int, lowerBound bool) string {
	return alert.EvidenceText(events, omitted, lowerBound)
}
