package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// MessageAttribute is one Publish message attribute.
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

func (a MessageAttribute) binaryBase64() string {
	return base64.StdEncoding.EncodeToString(a.BinaryValue)
}

// PublishInput is the input of Publish.
type PublishInput struct {
	TopicARN string
	// TargetARN and PhoneNumber are accepted by the API but trailwatch publishes to topics only.
	TargetARN         string
	PhoneNumber       string
	Message           string
	Subject           *string
	MessageStructure  string
	MessageAttributes map[string]MessageAttribute
	// DedupKey, when set, makes the publish idempotent: a second publish with the same key
	// delivers nothing and returns the first message id. Alarm actions use it, so an action
	// republished after a crash is not delivered twice.
	DedupKey string
}

// e164 is the form of a phone number SNS publishes to.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// MaxMessageBytes is SNS's message size limit (256 KiB, attributes included).
const MaxMessageBytes = 262144

// checkSubject applies SNS's Subject rules: ASCII, no line breaks or control characters, fewer
// than 100 characters, not empty [§3.1]. These rules are also what keeps a Subject from
// injecting mail headers.
func checkSubject(s string) error {
	if s == "" || len(s) >= 100 {
		return invalid("Subject")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return invalid("Subject")
		}
	}
	return nil
}

// checkAttributeName applies SNS's rules for a message attribute name, with its messages
// (test_empty_or_wrong_message_attributes, recorded 2024-11).
func checkAttributeName(name string) error {
	bad := func(msg string) error { return &Error{Code: "ParameterValueInvalid", Message: msg} }
	switch {
	case len(name) >= 256:
		return bad("Length of message attribute name must be less than 256 bytes.")
	case name == "":
		return bad("The message attribute name '' is invalid.")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return bad(fmt.Sprintf("Invalid non-alphanumeric character '#x%X' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.", r))
		}
	}
	switch {
	case strings.HasPrefix(name, "."):
		return bad("Invalid message attribute name starting with character '.' was found.")
	case strings.HasSuffix(name, "."):
		return bad("Invalid message attribute name ending with character '.' was found.")
	case strings.Contains(name, ".."):
		return bad("Message attribute name can not have successive '.' character.")
	case strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon."):
		return bad("The message attribute name '" + name + "' is invalid.")
	}
	return nil
}

// checkAttributes validates message attributes and returns their size. field names where a
// missing DataType is reported ("messageAttributes" for Publish,
// "publishBatchRequestEntries.N.member.messageAttributes" for PublishBatch).
func checkAttributes(field string, attrs map[string]MessageAttribute) (int, error) {
	size := 0
	if len(attrs) > 10 {
		return 0, &Error{Code: "InvalidParameterValue", Message: "Number of message attributes [" + fmt.Sprint(len(attrs)) + "] exceeds the allowed maximum [10]."}
	}
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		size += len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
		if err := checkAttributeName(name); err != nil {
			return 0, err
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case a.DataType == "":
			return 0, &Error{Code: "ValidationError", Message: "1 validation error detected: Value null at '" + field + "." + name + ".member.dataType' failed to satisfy constraint: Member must not be null"}
		case base == "String" || base == "Number":
			if a.StringValue == "" && len(a.BinaryValue) > 0 {
				return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' with type '" + base + "' must use field 'String'."}
			}
			if a.StringValue == "" {
				return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' must contain non-empty message attribute value for message attribute type '" + a.DataType + "'."}
			}
			if strings.HasPrefix(a.DataType, "String.Array") {
				var arr []any
				if json.Unmarshal([]byte(a.StringValue), &arr) != nil {
					return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' with type 'String.Array' has an invalid value."}
				}
			}
		case base == "Binary":
			if len(a.BinaryValue) == 0 && a.StringValue != "" {
				return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' with type 'Binary' must use field 'Binary'."}
			}
			if len(a.BinaryValue) == 0 {
				return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' must contain non-empty message attribute value for message attribute type '" + a.DataType + "'."}
			}
		default:
			return 0, &Error{Code: "ParameterValueInvalid", Message: "The message attribute '" + name + "' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."}
		}
	}
	return size, nil
}

// Publish validates a message, renders one delivery per confirmed subscription whose filter
// policy accepts it, and stores them all durably before returning the message id [§3.1]. A
// message published (not a repeated DedupKey) is then reported to Metrics.
func (s *Service) Publish(ctx context.Context, sc Scope, in PublishInput) (string, error) {
	if in.TopicARN == "" && in.TargetARN != "" {
		// A topic ARN given as TargetArn publishes to the topic; endpoint ARNs (mobile push)
		// and phone numbers are not supported.
		if _, _, sub, err := arnParts("TargetArn", in.TargetARN); err == nil && sub == "" {
			in.TopicARN = in.TargetARN
		} else {
			// AWS's answer for an endpoint it does not know (test_publish_non_existent_target):
			// trailwatch has no platform endpoints.
			return "", invalid("TargetArn Reason: No endpoint found for the target arn specified")
		}
	}
	if in.TopicARN == "" {
		if in.PhoneNumber != "" {
			if !e164.MatchString(in.PhoneNumber) {
				// test_publish_wrong_phone_format, recorded 2023-08.
				return "", invalid("PhoneNumber Reason: " + in.PhoneNumber + " is not valid to publish to")
			}
			return "", invalid("PhoneNumber Reason: trailwatch publishes to topics only")
		}
		return "", invalid("TopicArn or TargetArn Reason: no value for required parameter")
	}
	if in.Message == "" {
		return "", invalid("Empty message")
	}
	if !utf8.ValidString(in.Message) {
		return "", invalid("Message Reason: Message must be valid UTF-8")
	}
	asize, err := checkAttributes("messageAttributes", in.MessageAttributes)
	if err != nil {
		return "", err
	}
	if len(in.Message)+asize > MaxMessageBytes {
		return "", invalid("Message too long")
	}
	if in.Subject != nil {
		if err := checkSubject(*in.Subject); err != nil {
			return "", err
		}
	}
	var perProtocol map[string]any
	switch in.MessageStructure {
	case "":
	case "json":
		if err := json.Unmarshal([]byte(in.Message), &perProtocol); err != nil {
			return "", invalid("Message Structure - JSON message body failed to parse")
		}
		if _, ok := perProtocol["default"].(string); !ok {
			return "", invalid("Message Structure - No default entry in JSON message body")
		}
	default:
		return "", invalid("MessageStructure")
	}
	t, err := s.topic(ctx, sc, in.TopicARN)
	if err != nil {
		return "", err
	}
	subs, err := s.store.ListSubscriptions(ctx, t.Scope, t.ARN, "", 1<<30)
	if err != nil {
		return "", storeErr("list subscriptions", err)
	}
	id := newUUID()
	now := s.now()
	sigs := map[string]string{}
	var ds []Delivery
	for _, sub := range subs {
		if !sub.Confirmed {
			continue
		}
		msg := in.Message
		if perProtocol != nil {
			msg = perProtocol["default"].(string)
			if v, ok := perProtocol[sub.Protocol].(string); ok {
				msg = v
			}
		}
		if !accepts(sub, msg, in.MessageAttributes) {
			continue
		}
		d, err := s.notification(t, sub, id, msg, in, now, sigs)
		if err != nil {
			return "", err
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 && in.DedupKey == "" {
		// Nothing to store: no subscription accepts the message, which SNS still counts as
		// published.
		s.publishMetrics(ctx, t, len(in.Message)+asize, now)
		return id, nil
	}
	got, err := s.store.Enqueue(ctx, in.DedupKey, id, ds)
	if err != nil {
		return "", storeErr("enqueue message", err)
	}
	if len(ds) > 0 {
		s.wake()
	}
	if got == id { // a repeated DedupKey published nothing new
		s.publishMetrics(ctx, t, len(in.Message)+asize, now)
	}
	return got, nil
}

// accepts applies the subscription's filter policy. A stored policy that no longer compiles
// (it was validated when set) accepts nothing.
func accepts(sub *Subscription, msg string, attrs map[string]MessageAttribute) bool {
	src := sub.Attributes["FilterPolicy"]
	if src == "" {
		return true
	}
	scope := sub.Attributes["FilterPolicyScope"]
	p, err := ParseFilterPolicy(src, scope)
	if err != nil {
		return false
	}
	if scope == ScopeMessageBody {
		return p.MatchBody(msg)
	}
	return p.MatchAttributes(attrs)
}

// notification renders the delivery of message id to sub.
func (s *Service) notification(t *Topic, sub *Subscription, id, msg string, in PublishInput, now time.Time, sigs map[string]string) (Delivery, error) {
	d := Delivery{
		MessageID: id, Type: TypeNotification, Scope: t.Scope, TopicARN: t.ARN, SubscriptionARN: sub.ARN,
		Protocol: sub.Protocol, Endpoint: sub.Endpoint, Created: now, NextAttempt: now, Status: DeliveryPending,
	}
	env := envelope{Type: TypeNotification, MessageID: id, TopicARN: t.ARN, Message: msg, Timestamp: snsTime(now),
		SignatureVersion: signatureVersion(t), UnsubscribeURL: s.links.unsubscribeURL(sub.ARN), Attributes: in.MessageAttributes}
	if in.Subject != nil {
		env.Subject, env.HasSubject = *in.Subject, true
	}
	subject := defaultEmailSubject
	if in.Subject != nil {
		subject = *in.Subject
	}
	switch sub.Protocol {
	case "email":
		d.Subject, d.FromName, d.Policy = subject, fromName(t), EmailPolicy
		d.UnsubscribeURL = s.links.unsubscribePage(sub.ARN, sub.Endpoint)
		d.Body = msg + emailFooter(d.UnsubscribeURL)
	case "email-json":
		body, err := env.render(s.signer, sigs)
		if err != nil {
			return d, err
		}
		d.Subject, d.FromName, d.Policy, d.Body = subject, fromName(t), EmailPolicy, body
		d.UnsubscribeURL = s.links.unsubscribePage(sub.ARN, sub.Endpoint)
	default:
		p, ct := httpPolicy(t.Attributes["DeliveryPolicy"], sub.Attributes["DeliveryPolicy"])
		d.Policy = p
		d.Headers = map[string]string{"Content-Type": ct, "x-amz-sns-message-type": TypeNotification, "x-amz-sns-message-id": id,
			"x-amz-sns-topic-arn": t.ARN, "x-amz-sns-subscription-arn": sub.ARN}
		if sub.Attributes["RawMessageDelivery"] == "true" {
			d.Body = msg
			d.Headers["x-amz-sns-rawdelivery"] = "true"
		} else {
			body, err := env.render(s.signer, sigs)
			if err != nil {
				return d, err
			}
			d.Body = body
		}
	}
	return d, nil
}

// BatchEntry is one message of PublishBatch.
type BatchEntry struct {
	ID                string
	Message           string
	Subject           *string
	MessageStructure  string
	MessageAttributes map[string]MessageAttribute
}

// BatchResult is PublishBatch's answer: per entry, a message id or an error.
type BatchResult struct {
	Successful []BatchSuccess
	Failed     []BatchFailure
}

// BatchSuccess is a published entry.
type BatchSuccess struct{ ID, MessageID string }

// BatchFailure is an entry SNS did not publish, with the error Publish would have answered.
type BatchFailure struct {
	ID, Code, Message string
	SenderFault       bool
}

// MaxBatchEntries is PublishBatch's limit on entries ("up to 10 messages" [SNS API PublishBatch]).
const MaxBatchEntries = 10

var batchIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// PublishBatch publishes up to ten messages to a topic. The batch as a whole is refused, with
// AWS's batch errors, when it is empty, too large, has repeated or malformed Ids, or names a
// topic that does not exist, and when an entry's message attributes or message structure are
// invalid (recorded from AWS in localstack's test_sns.snapshot.json: test_publish_batch_exceptions,
// test_empty_or_wrong_message_attributes "batch-…", test_publish_batch_too_long_message,
// test_topic_publish_another_region "error-batch"). Decision: the other per-message errors
// Publish answers (an empty message, an invalid Subject) and a failure to store one message fail
// that entry only, listed under Failed with the error Publish would have answered; every other
// entry is published on its own, as a separate Publish.
func (s *Service) PublishBatch(ctx context.Context, sc Scope, topicARN string, entries []BatchEntry) (*BatchResult, error) {
	batchErr := func(code, msg string) error { return &Error{Code: code, Message: msg} }
	if _, err := parseTopicARN(sc, topicARN); err != nil {
		return nil, err
	}
	switch {
	case len(entries) == 0:
		return nil, batchErr("EmptyBatchRequest", "The batch request doesn't contain any entries.")
	case len(entries) > MaxBatchEntries:
		return nil, batchErr("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !batchIDRe.MatchString(e.ID) {
			return nil, batchErr("InvalidBatchEntryId", "The Id of a batch entry in a batch request doesn't abide by the specification.")
		}
		if seen[e.ID] {
			return nil, batchErr("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
		}
		seen[e.ID] = true
	}
	if _, err := s.topic(ctx, sc, topicARN); err != nil {
		return nil, err
	}
	total := 0
	for i, e := range entries {
		size, err := checkAttributes(fmt.Sprintf("publishBatchRequestEntries.%d.member.messageAttributes", i+1), e.MessageAttributes)
		if err != nil {
			return nil, err
		}
		total += len(e.Message) + size
		if err := checkStructure(e.Message, e.MessageStructure); err != nil {
			return nil, err
		}
	}
	if total > MaxMessageBytes {
		return nil, batchErr("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
	}
	res := &BatchResult{Successful: []BatchSuccess{}, Failed: []BatchFailure{}}
	for _, e := range entries {
		id, err := s.Publish(ctx, sc, PublishInput{TopicARN: topicARN, Message: e.Message, Subject: e.Subject,
			MessageStructure: e.MessageStructure, MessageAttributes: e.MessageAttributes})
		var se *Error
		switch {
		case err == nil:
			res.Successful = append(res.Successful, BatchSuccess{ID: e.ID, MessageID: id})
		case errors.As(err, &se):
			res.Failed = append(res.Failed, BatchFailure{ID: e.ID, Code: se.Code, Message: se.Message, SenderFault: se.HTTPStatusCode() < 500})
		default:
			res.Failed = append(res.Failed, BatchFailure{ID: e.ID, Code: "InternalError", Message: "Internal Error", SenderFault: false})
		}
	}
	return res, nil
}

// checkStructure validates a MessageStructure=json message [§3.1].
func checkStructure(msg, structure string) error {
	switch structure {
	case "":
		return nil
	case "json":
		var perProtocol map[string]any
		if err := json.Unmarshal([]byte(msg), &perProtocol); err != nil {
			return invalid("Message Structure - JSON message body failed to parse")
		}
		if _, ok := perProtocol["default"].(string); !ok {
			return invalid("Message Structure - No default entry in JSON message body")
		}
		return nil
	default:
		return invalid("MessageStructure")
	}
}
