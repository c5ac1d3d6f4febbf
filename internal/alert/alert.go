// Package alert is the one renderer of an alarm notification and the log evidence behind it. The
// email text (notify), Slack, PagerDuty, Microsoft Teams and the signed webhook all take their
// titles, facts and evidence lines from here, so the formats cannot drift apart: what an on-call
// person reads in an email is what they read in chat.
//
// An Alert is parsed from the Message of an SNS notification. A CloudWatch alarm notification (a
// JSON object with AlarmName and NewStateValue, from trailwatch or from real AWS) becomes an alarm
// alert carrying its state, reason, account, region and, when trailwatch added it, the log
// evidence under EvidenceKey; any other message is a plain-text alert.
package alert

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EvidenceKey is the member trailwatch adds to CloudWatch's JSON alarm message with the log
// events behind an ALARM (after CloudWatch's own members, so AWS's shape is unchanged for parsers
// that ignore unknown keys).
const EvidenceKey = "TrailwatchLogEvidence"

// Alarm states as CloudWatch writes them in NewStateValue.
const (
	StateAlarm            = "ALARM"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Alert is one notification to render.
type Alert struct {
	// MessageID and TopicARN identify the SNS message the alert came in.
	MessageID string
	TopicARN  string
	// Subject is the SNS Subject, "" when the message had none.
	Subject string
	// Text is the message itself for a plain-text alert ("" for an alarm).
	Text string

	// IsAlarm is true for a CloudWatch alarm notification; the fields below are set only then.
	IsAlarm          bool
	AlarmName        string
	AlarmDescription string
	AlarmARN         string
	AccountID        string
	// Region is the region code (from the alarm ARN); RegionName CloudWatch's long name.
	Region          string
	RegionName      string
	NewState        string
	OldState        string
	Reason          string
	StateChangeTime time.Time
	// Evidence are the log events trailwatch found behind an ALARM; Omitted counts the matching
	// events not listed (a lower bound when OmittedIsLowerBound).
	Evidence            []Evidence
	Omitted             int
	OmittedIsLowerBound bool
	// Link is the alarm's page on trailwatch's console ("" without a public URL).
	Link string
}

// Evidence is one log event behind an alarm.
type Evidence struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
	FilterName    string `json:"filterName"`
	Timestamp     int64  `json:"timestamp"`
	// CloudTrail is set when the event is a CloudTrail record.
	CloudTrail *CloudTrailSummary `json:"cloudTrail,omitempty"`
	// Message is the raw event, cut to 1,000 bytes, for events that are not CloudTrail records.
	Message string `json:"message,omitempty"`
}

// CloudTrailSummary is the who / what / where of a CloudTrail record.
type CloudTrailSummary struct {
	EventTime          string `json:"eventTime"`
	UserIdentityType   string `json:"userIdentityType"`
	UserIdentityARN    string `json:"userIdentityArn"`
	EventSource        string `json:"eventSource"`
	EventName          string `json:"eventName"`
	Outcome            string `json:"outcome"`
	ErrorCode          string `json:"errorCode,omitempty"`
	SourceIPAddress    string `json:"sourceIPAddress"`
	UserAgent          string `json:"userAgent"`
	AWSRegion          string `json:"awsRegion"`
	RecipientAccountID string `json:"recipientAccountId"`
	MFAUsed            string `json:"mfaUsed"`
}

// EvidenceDoc is the EvidenceKey member of an alarm message.
type EvidenceDoc struct {
	LogEvents []Evidence `json:"LogEvents"`
	// Omitted counts matching events not listed; OmittedIsLowerBound is true when the scan
	// stopped at its bound.
	Omitted             int  `json:"Omitted"`
	OmittedIsLowerBound bool `json:"OmittedIsLowerBound"`
	// OmittedForSize counts the events among Omitted that were read but left out to keep the
	// message within SNS's size limit.
	OmittedForSize int `json:"OmittedForSize,omitempty"`
}

// cloudWatchTime is the timestamp form of CloudWatch's alarm messages.
const cloudWatchTime = "2006-01-02T15:04:05.000-0700"

// Parse turns the Message (and Subject) of an SNS notification into an Alert. consoleBase, when
// set, is trailwatch's public URL, under which Link points at the alarm's console page
// (<consoleBase>/console/alarms/<accountId>/<region>/<alarmName path-escaped>).
func Parse(messageID, topicARN, subject, message, consoleBase string) Alert {
	a := Alert{MessageID: messageID, TopicARN: topicARN, Subject: subject}
	var m struct {
		AlarmName        string
		AlarmDescription *string
		AWSAccountId     string
		NewStateValue    string
		OldStateValue    string
		NewStateReason   string
		StateChangeTime  string
		Region           string
		AlarmArn         string
		Evidence         *EvidenceDoc `json:"TrailwatchLogEvidence"`
	}
	if !strings.HasPrefix(strings.TrimSpace(message), "{") || json.Unmarshal([]byte(message), &m) != nil || m.AlarmName == "" || m.NewStateValue == "" {
		a.Text = message
		return a
	}
	a.IsAlarm = true
	a.AlarmName, a.AccountID, a.NewState, a.OldState = m.AlarmName, m.AWSAccountId, m.NewStateValue, m.OldStateValue
	a.Reason, a.RegionName, a.AlarmARN = m.NewStateReason, m.Region, m.AlarmArn
	if m.AlarmDescription != nil {
		a.AlarmDescription = *m.AlarmDescription
	}
	if t, err := time.Parse(cloudWatchTime, m.StateChangeTime); err == nil {
		a.StateChangeTime = t.UTC()
	}
	// arn:aws:cloudwatch:<region>:<account>:alarm:<name>
	if parts := strings.SplitN(m.AlarmArn, ":", 7); len(parts) == 7 {
		a.Region = parts[3]
		if a.AccountID == "" {
			a.AccountID = parts[4]
		}
	}
	if a.RegionName == "" {
		a.RegionName = a.Region
	}
	if m.Evidence != nil {
		a.Evidence, a.Omitted, a.OmittedIsLowerBound = m.Evidence.LogEvents, m.Evidence.Omitted, m.Evidence.OmittedIsLowerBound
	}
	if consoleBase != "" && a.AccountID != "" && a.Region != "" {
		a.Link = ConsoleLink(consoleBase, a.AccountID, a.Region, a.AlarmName)
	}
	return a
}

// ConsoleLink is the URL of an alarm's page on trailwatch's web console, the contract with the
// console: <base>/console/alarms/<accountId>/<region>/<alarmName path-escaped>.
func ConsoleLink(base, accountID, region, alarmName string) string {
	return strings.TrimRight(base, "/") + "/console/alarms/" + url.PathEscape(accountID) + "/" + url.PathEscape(region) + "/" + url.PathEscape(alarmName)
}

// LinkLabel is the label of the link to an alarm's console page, the same in every format.
const LinkLabel = "Open in trailwatch"

// LinkText is the plain-text line with the link to an alarm's console page
// ("Open in trailwatch: <link>"), with which alarm emails end their evidence section; "" when
// there is no link. The link stands alone after the label and a space, so that mail clients
// turn it into a link (ConsoleLink path-escapes spaces and other characters a URL cannot hold).
func LinkText(link string) string {
	if link == "" {
		return ""
	}
	return LinkLabel + ": " + link + "\n"
}

// Title is the one-line headline of an alert: CloudWatch's subject form for alarms
// (`ALARM: "RootAccountUsage" in US East (N. Virginia)`), else the SNS Subject, else the first
// line of the message.
func (a Alert) Title() string {
	if a.IsAlarm {
		return a.NewState + `: "` + a.AlarmName + `" in ` + a.RegionName
	}
	if a.Subject != "" {
		return a.Subject
	}
	line, _, _ := strings.Cut(strings.TrimSpace(a.Text), "\n")
	if line == "" {
		return "Notification"
	}
	return line
}

// Resolved reports whether the alert says the alarm went back to OK.
func (a Alert) Resolved() bool { return a.IsAlarm && a.NewState == StateOK }

// Fact is one labelled value shown with an alert (Slack fields, Teams facts, PagerDuty details).
type Fact struct{ Name, Value string }

// Facts are the alarm's headline facts in display order: account, region, state change and time.
func (a Alert) Facts() []Fact {
	if !a.IsAlarm {
		return nil
	}
	fs := []Fact{{"Account", a.AccountID}, {"Region", a.Region}, {"State", a.OldState + " → " + a.NewState}}
	if !a.StateChangeTime.IsZero() {
		fs = append(fs, Fact{"Changed", a.StateChangeTime.Format(time.RFC3339)})
	}
	return fs
}

// EvidenceFacts are the lines describing one evidence event, labelled Who, What, Where, MFA and
// When for a CloudTrail record, Event for anything else. EvidenceText and every chat format use
// them.
func EvidenceFacts(e Evidence) []Fact {
	if c := e.CloudTrail; c != nil {
		what := c.EventSource + " " + c.EventName + ", outcome " + c.Outcome
		if c.ErrorCode != "" {
			what += ", error " + c.ErrorCode
		}
		return []Fact{
			{"Who", c.UserIdentityType + " " + c.UserIdentityARN},
			{"What", what},
			{"Where", "source IP " + c.SourceIPAddress + ", user agent " + c.UserAgent + ", region " + c.AWSRegion + ", account " + c.RecipientAccountID},
			{"MFA", c.MFAUsed},
			{"When", c.EventTime},
		}
	}
	return []Fact{{"Event", e.Message}}
}

// EvidenceHeading is the line introducing evidence event i (from 0).
func EvidenceHeading(i int, e Evidence) string {
	ts := time.UnixMilli(e.Timestamp).UTC().Format(time.RFC3339)
	return "[" + itoa(i+1) + "] " + ts + "  log group " + Clean(e.LogGroupName, 512) + ", stream " + Clean(e.LogStreamName, 512) + ", metric filter " + Clean(e.FilterName, 512)
}

// MoreText is the closing line of an evidence list: how many matching events there were or how
// many more were not listed.
func MoreText(shown, omitted int, lowerBound bool) string {
	if omitted > 0 {
		more := itoa(omitted)
		if lowerBound {
			more = "at least " + more
		}
		return "... and " + more + " more matching events (" + itoa(shown) + " shown)."
	}
	return itoa(shown) + " matching event(s)."
}

// EvidenceText is the plain-text section listing the log events behind an alarm, as added to
// emails.
func EvidenceText(events []Evidence, omitted int, lowerBound bool) string {
	var b strings.Builder
	b.WriteString("Log events that crossed the threshold (trailwatch):\n")
	for i, e := range events {
		b.WriteString("\n" + EvidenceHeading(i, e) + "\n")
		for _, f := range EvidenceFacts(e) {
			fmt.Fprintf(&b, "- %-8s%s\n", f.Name+":", f.Value)
		}
	}
	b.WriteString("\n" + MoreText(len(events), omitted, lowerBound) + "\n")
	return b.String()
}

// Summary is a one-line description of an alert for notification previews and PagerDuty's
// summary: the title, and for an alarm with CloudTrail evidence who did what from where.
func (a Alert) Summary() string {
	s := a.Title()
	if len(a.Evidence) > 0 && a.Evidence[0].CloudTrail != nil {
		c := a.Evidence[0].CloudTrail
		s += ": " + c.EventName + " by " + c.UserIdentityARN + " from " + c.SourceIPAddress
		if n := len(a.Evidence) + a.Omitted; n > 1 {
			s += " (+" + itoa(n-1) + " more)"
		}
	}
	return s
}

// Clean makes a value safe to print on one line: invalid UTF-8 becomes '?', control characters
// become spaces and values longer than n bytes are cut (on a character boundary) with "…".
func Clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func itoa(n int) string { return strconv.Itoa(n) }

// Sample is the alert TestReceiver sends: a root console sign-in without MFA that put a CIS
// RootAccountUsage alarm in ALARM, marked as a test in its description. The alarm is named
// RootAccountUsage-trailwatch-test, so that its PagerDuty dedup_key (and Slack thread) can never
// be a real alarm's: a test neither joins nor resolves a real incident.
func Sample(now time.Time, accountID, region, consoleBase string) Alert {
	now = now.UTC().Truncate(time.Millisecond)
	name := "RootAccountUsage-trailwatch-test"
	a := Alert{
		MessageID: "test", Subject: "ALARM: \"" + name + "\" in " + region, IsAlarm: true, AlarmName: name,
		AlarmDescription: "Test notification sent by trailwatch (TestReceiver); no alarm changed state.",
		AlarmARN:         "arn:aws:cloudwatch:" + region + ":" + accountID + ":alarm:" + name, AccountID: accountID,
		Region: region, RegionName: region, NewState: StateAlarm, OldState: StateOK,
		Reason:          "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (" + now.Format("02/01/06 15:04:05") + ")] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).",
		StateChangeTime: now,
		Evidence: []Evidence{{LogGroupName: "CloudTrail/DefaultLogGroup", LogStreamName: accountID + "_CloudTrail_" + region, FilterName: "RootAccountUsage",
			Timestamp: now.UnixMilli(), CloudTrail: &CloudTrailSummary{
				EventTime: now.Format(time.RFC3339), UserIdentityType: "Root", UserIdentityARN: "arn:aws:iam::" + accountID + ":root",
				EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", Outcome: "Success", SourceIPAddress: "203.0.113.7",
				UserAgent: "Mozilla/5.0 (trailwatch test)", AWSRegion: region, RecipientAccountID: accountID, MFAUsed: "No",
			}}},
	}
	if consoleBase != "" {
		a.Link = ConsoleLink(consoleBase, accountID, region, name)
	}
	return a
}
