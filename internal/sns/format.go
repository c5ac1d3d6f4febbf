package sns

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// object writes a JSON object with keys in insertion order: SNS bodies have a fixed key order
// and byte-for-byte tests depend on it.
type object struct{ b bytes.Buffer }

func (o *object) add(k, v string) *object {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	o.b.Write(jsonString(k))
	o.b.WriteByte(':')
	o.b.Write(jsonString(v))
	return o
}

func (o *object) raw(k string, v []byte) *object {
	if o.b.Len() == 0 {
		o.b.WriteByte('{')
	} else {
		o.b.WriteByte(',')
	}
	o.b.Write(jsonString(k))
	o.b.WriteByte(':')
	o.b.Write(v)
	return o
}

func (o *object) String() string {
	if o.b.Len() == 0 {
		return "{}"
	}
	return o.b.String() + "}"
}

// jsonString encodes s without HTML escaping, as SNS's Java serializer does.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// snsTime is SNS's Timestamp format: ISO 8601 UTC with milliseconds and Z.
func snsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// links builds the URLs trailwatch puts in messages, under the public base URL.
type links struct{ base string }

// subscribeURL is a message's SubscribeURL in AWS's exact form: no Version, the ARN and the
// token as they are (recorded: "<subscribe-domain>/?Action=ConfirmSubscription&TopicArn=
// arn:aws:sns:…&Token=…", localstack test_sns.snapshot.json). An ARN's characters and a token's
// hex digits need no escaping in a query.
func (l links) subscribeURL(topicARN, token string) string {
	return l.base + "/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=" + token
}

// unsubscribeURL is a notification's UnsubscribeURL in AWS's form
// ("<unsubscribe-domain>/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:…").
func (l links) unsubscribeURL(subARN string) string {
	return l.base + "/?Action=Unsubscribe&SubscriptionArn=" + subARN
}

// confirmationPage is the link of a confirmation email [§3.2].
func (l links) confirmationPage(topicARN, token, endpoint string) string {
	return l.base + "/confirmation.html?TopicArn=" + url.QueryEscape(topicARN) + "&Token=" + url.QueryEscape(token) + "&Endpoint=" + url.QueryEscape(endpoint)
}

// unsubscribePage is the link of every notification email's footer [§2.2].
func (l links) unsubscribePage(subARN, endpoint string) string {
	return l.base + "/unsubscribe.html?SubscriptionArn=" + url.QueryEscape(subARN) + "&Endpoint=" + url.QueryEscape(endpoint)
}

// messageAttributesJSON renders MessageAttributes as in an HTTP body: {"name":{"Type":…,"Value":…}}.
func messageAttributesJSON(attrs map[string]MessageAttribute) []byte {
	o := &object{}
	for _, k := range sortedKeys(attrs) {
		a := attrs[k]
		v := a.StringValue
		if strings.HasPrefix(a.DataType, "Binary") {
			v = a.binaryBase64()
		}
		inner := (&object{}).add("Type", a.DataType).add("Value", v)
		o.raw(k, []byte(inner.String()))
	}
	return []byte(o.String())
}

// envelope is an HTTP/email-json body: the signed fields in SNS's key order.
type envelope struct {
	Type, MessageID, Token, TopicARN, Subject, Message, SubscribeURL, Timestamp string
	UnsubscribeURL                                                              string
	SignatureVersion                                                            string
	Attributes                                                                  map[string]MessageAttribute
	HasSubject                                                                  bool
}

// render signs e and returns its JSON body [§3.3 key orders]. sigs, when non-nil, memoizes
// signatures by string to sign: the signed fields of one published message are the same for every
// subscription (UnsubscribeURL is not signed), so a fan-out signs once.
func (e envelope) render(s *Signer, sigs map[string]string) (string, error) {
	fields := map[string]string{"Type": e.Type, "MessageId": e.MessageID, "TopicArn": e.TopicARN, "Message": e.Message, "Timestamp": e.Timestamp}
	if e.Type == TypeNotification {
		if e.HasSubject {
			fields["Subject"] = e.Subject
		}
	} else {
		fields["Token"] = e.Token
		fields["SubscribeURL"] = e.SubscribeURL
	}
	data := StringToSign(fields)
	key := e.SignatureVersion + "\x00" + string(data)
	sig, ok := sigs[key]
	if !ok {
		var err error
		if sig, err = s.Sign(e.SignatureVersion, data); err != nil {
			return "", err
		}
		if sigs != nil {
			sigs[key] = sig
		}
	}
	o := &object{}
	o.add("Type", e.Type).add("MessageId", e.MessageID)
	if e.Type == TypeNotification {
		o.add("TopicArn", e.TopicARN)
		if e.HasSubject {
			o.add("Subject", e.Subject)
		}
		o.add("Message", e.Message).add("Timestamp", e.Timestamp).add("SignatureVersion", e.SignatureVersion).
			add("Signature", sig).add("SigningCertURL", s.CertURL).add("UnsubscribeURL", e.UnsubscribeURL)
		if len(e.Attributes) > 0 {
			o.raw("MessageAttributes", messageAttributesJSON(e.Attributes))
		}
		return o.String(), nil
	}
	o.add("Token", e.Token).add("TopicArn", e.TopicARN).add("Message", e.Message).add("SubscribeURL", e.SubscribeURL).
		add("Timestamp", e.Timestamp).add("SignatureVersion", e.SignatureVersion).add("Signature", sig).add("SigningCertURL", s.CertURL)
	return o.String(), nil
}

// Email texts [§3.2, §2.2].
const (
	confirmationSubject = "AWS Notification - Subscription Confirmation"
	// defaultEmailSubject is the subject of a notification published without one (weakly
	// evidenced [FINDSTR 56908323170]; decision on §6.12).
	defaultEmailSubject = "AWS Notification Message"
	defaultFromName     = "AWS Notifications"
)

func confirmationEmail(topicARN, link string) string {
	return "You have chosen to subscribe to the topic:\n" + topicARN + "\n\n" +
		"To confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n" +
		link + "\n\n" +
		"Please do not reply directly to this email. If you wish to remove yourself from receiving all future SNS subscription confirmation requests please ignore this message.\n"
}

// emailFooter is the unsubscribe footer SNS appends to every notification email [§2.2].
// Decision: the AWS support line is left out, since a trailwatch message is not from AWS.
func emailFooter(link string) string {
	return "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
		link + "\n\nPlease do not reply directly to this email.\n"
}
