package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/sns/snstest"
)

// The answers these tests expect were recorded against AWS in localstack's
// tests/aws/services/sns/test_sns.snapshot.json (cited per case by its snapshot key).

func errText(err error) string {
	var e *sns.Error
	if errors.As(err, &e) {
		return e.Code + ": " + e.Message
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

type env struct {
	ctx   context.Context
	st    *snstest.Memory
	svc   *sns.Service
	topic string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{ctx: context.Background(), st: snstest.NewMemory()}
	e.svc = snstest.NewService(e.st, func() time.Time { return time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC) })
	var err error
	if e.topic, err = e.svc.CreateTopic(e.ctx, snstest.Scope, "alerts", nil, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// subscribe makes a confirmed https subscription and returns its ARN.
func (e *env) subscribe(t *testing.T, endpoint string, attrs map[string]string) string {
	t.Helper()
	arn, err := e.svc.Subscribe(e.ctx, snstest.Scope, sns.SubscribeInput{TopicARN: e.topic, Protocol: "https", Endpoint: endpoint, Attributes: attrs, ReturnSubscriptionARN: true})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := e.st.Deliveries(e.ctx, 0, 1000)
	var body struct{ Token string }
	if err := json.Unmarshal([]byte(ds[len(ds)-1].Body), &body); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmSubscription(e.ctx, snstest.Scope, e.topic, body.Token, ""); err != nil {
		t.Fatal(err)
	}
	return arn
}

// TestSetSubscriptionAttributesErrors: SetSubscriptionAttributes words its errors after
// "Invalid parameter: ", Subscribe after "Invalid parameter: Attributes Reason: "
// (test_validate_set_sub_attributes, test_create_subscriptions_with_attributes,
// test_set_subscription_filter_policy_scope, test_sub_filter_policy_nested_property).
func TestSetSubscriptionAttributesErrors(t *testing.T) {
	e := newEnv(t)
	sub := e.subscribe(t, "https://a.example/", nil)
	for _, c := range []struct{ name, value, want string }{
		{"FakeAttribute", "test-value", "InvalidParameter: Invalid parameter: AttributeName"},
		{"RawMessageDelivery", "test-ValUe", "InvalidParameter: Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false."},
		{"RawMessageDelivery", "", "InvalidParameter: Invalid parameter: RawMessageDelivery: Invalid value []. Must be true or false."},
		{"RedrivePolicy", `{"deadLetterTargetArn": "fake-arn"}`, "InvalidParameter: Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"},
		{"RedrivePolicy", "{invalidjson}", "InvalidParameter: Invalid parameter: RedrivePolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]"},
		{"FilterPolicy", "{invalidjson}", "InvalidParameter: Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]"},
		{"FilterPolicyScope", "RandomValue", "InvalidParameter: Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes"},
		{"FilterPolicy", `{"object":{"key":[{"prefix":"auto-"}]}}`, "InvalidParameter: Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"},
		{"FilterPolicy", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, "InvalidParameter: Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys"},
	} {
		if got := errText(e.svc.SetSubscriptionAttributes(e.ctx, snstest.Scope, sub, c.name, c.value)); got != c.want {
			t.Errorf("Set %s=%q:\n got %s\nwant %s", c.name, c.value, got, c.want)
		}
	}
	// Subscribe's prefix (test_create_subscriptions_with_attributes, test_policy_complexity).
	for attrs, want := range map[string]string{
		"RawMessageDelivery=wrongvalue":    "InvalidParameter: Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.",
		`FilterPolicy={"key":[["value"]]}`: "InvalidParameter: Invalid parameter: Attributes Reason: FilterPolicy: Match value must be String, number, true, false, or null\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 10]",
		"RedrivePolicy=[]":                 "InvalidParameter: Invalid parameter: Attributes Reason: RedrivePolicy: Value must be a JSON object",
	} {
		k, v, _ := strings.Cut(attrs, "=")
		_, err := e.svc.Subscribe(e.ctx, snstest.Scope, sns.SubscribeInput{TopicARN: e.topic, Protocol: "https", Endpoint: "https://b.example/", Attributes: map[string]string{k: v}})
		if got := errText(err); got != want {
			t.Errorf("Subscribe %s:\n got %s\nwant %s", attrs, got, want)
		}
	}
	// A scope without a policy is stored but not shown (test_set_subscription_filter_policy_scope).
	if err := e.svc.SetSubscriptionAttributes(e.ctx, snstest.Scope, sub, "FilterPolicyScope", "MessageBody"); err != nil {
		t.Fatal(err)
	}
	if attrs, _ := e.svc.GetSubscriptionAttributes(e.ctx, snstest.Scope, sub); attrs["FilterPolicyScope"] != "" {
		t.Errorf("FilterPolicyScope shown without a FilterPolicy: %v", attrs)
	}
	// Valid values are stored: a nested policy once the scope is MessageBody, and a DLQ.
	for _, kv := range [][2]string{{"FilterPolicyScope", "MessageBody"}, {"FilterPolicy", `{"object":{"key":[{"prefix":"auto-"}]}}`},
		{"RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:111122223333:dlq"}`}, {"RawMessageDelivery", "TRUE"}} {
		if err := e.svc.SetSubscriptionAttributes(e.ctx, snstest.Scope, sub, kv[0], kv[1]); err != nil {
			t.Fatalf("Set %s: %v", kv[0], err)
		}
	}
	// Narrowing the scope back would make the stored policy invalid.
	if got := errText(e.svc.SetSubscriptionAttributes(e.ctx, snstest.Scope, sub, "FilterPolicyScope", "MessageAttributes")); got != "InvalidParameter: Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy" {
		t.Errorf("scope narrowed under a nested policy: %s", got)
	}
	attrs, _ := e.svc.GetSubscriptionAttributes(e.ctx, snstest.Scope, sub)
	if attrs["RawMessageDelivery"] != "true" || attrs["FilterPolicyScope"] != "MessageBody" {
		t.Errorf("attributes %v", attrs)
	}
}

// TestSubscriptionDeliveryPolicy: DeliveryPolicy and EffectiveDeliveryPolicy in the shape AWS
// shows them (test_subscribe_external_http_endpoint_content_type[True] and [False]).
func TestSubscriptionDeliveryPolicy(t *testing.T) {
	e := newEnv(t)
	sub := e.subscribe(t, "https://a.example/", map[string]string{"DeliveryPolicy": `{"requestPolicy":{"headerContentType":"text/csv"}}`})
	attrs, err := e.svc.GetSubscriptionAttributes(e.ctx, snstest.Scope, sub)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"healthyRetryPolicy":null,"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/csv"},"guaranteed":false}`; attrs["DeliveryPolicy"] != want {
		t.Errorf("DeliveryPolicy\n got %s\nwant %s", attrs["DeliveryPolicy"], want)
	}
	if want := `{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/csv"},"guaranteed":false}`; attrs["EffectiveDeliveryPolicy"] != want {
		t.Errorf("EffectiveDeliveryPolicy\n got %s\nwant %s", attrs["EffectiveDeliveryPolicy"], want)
	}
	// [False]: the topic's request policy, the subscription's retry and throttle policies.
	if err := e.svc.SetTopicAttributes(e.ctx, snstest.Scope, e.topic, "DeliveryPolicy", `{"http":{"defaultRequestPolicy":{"headerContentType":"application/json"}}}`); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetSubscriptionAttributes(e.ctx, snstest.Scope, sub, "DeliveryPolicy", `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0},"throttlePolicy":{"maxReceivesPerSecond":1000}}`); err != nil {
		t.Fatal(err)
	}
	attrs, _ = e.svc.GetSubscriptionAttributes(e.ctx, snstest.Scope, sub)
	if want := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1000},"requestPolicy":null,"guaranteed":false}`; attrs["DeliveryPolicy"] != want {
		t.Errorf("DeliveryPolicy\n got %s\nwant %s", attrs["DeliveryPolicy"], want)
	}
	if want := `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":0,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":1000},"requestPolicy":{"headerContentType":"application/json"},"guaranteed":false}`; attrs["EffectiveDeliveryPolicy"] != want {
		t.Errorf("EffectiveDeliveryPolicy\n got %s\nwant %s", attrs["EffectiveDeliveryPolicy"], want)
	}
	tattrs, _ := e.svc.GetTopicAttributes(e.ctx, snstest.Scope, e.topic)
	if want := `{"http":{"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"application/json"}}}`; tattrs["DeliveryPolicy"] != want {
		t.Errorf("topic DeliveryPolicy\n got %s\nwant %s", tattrs["DeliveryPolicy"], want)
	}
}

// TestTopicDeliveryPolicy follows test_topic_delivery_policy_crud (recorded 2024-10).
func TestTopicDeliveryPolicy(t *testing.T) {
	e := newEnv(t)
	if err := e.svc.SetTopicAttributes(e.ctx, snstest.Scope, e.topic, "DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1}}}`); err != nil {
		t.Fatal(err)
	}
	attrs, _ := e.svc.GetTopicAttributes(e.ctx, snstest.Scope, e.topic)
	for k, want := range map[string]string{
		"DeliveryPolicy":          `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1},"disableSubscriptionOverrides":false}}`,
		"EffectiveDeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`,
	} {
		if attrs[k] != want {
			t.Errorf("%s\n got %s\nwant %s", k, attrs[k], want)
		}
	}
	if err := e.svc.SetTopicAttributes(e.ctx, snstest.Scope, e.topic, "DeliveryPolicy", ""); err != nil {
		t.Fatal(err)
	}
	attrs, _ = e.svc.GetTopicAttributes(e.ctx, snstest.Scope, e.topic)
	if _, ok := attrs["DeliveryPolicy"]; ok || attrs["EffectiveDeliveryPolicy"] != `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}` {
		t.Errorf("after removal: %v", attrs)
	}
}

// TestCreateTopicEquivalentAttributes: FifoTopic=false on a standard topic is its default, so
// creating it again with it answers the ARN, and it is not shown (test_topic_get_attributes_with_fifo_false).
func TestCreateTopicEquivalentAttributes(t *testing.T) {
	e := newEnv(t)
	for _, attrs := range []map[string]string{{"FifoTopic": "false"}, {"FifoTopic": "False", "DisplayName": ""}, nil} {
		arn, err := e.svc.CreateTopic(e.ctx, snstest.Scope, "alerts", attrs, nil)
		if err != nil || arn != e.topic {
			t.Errorf("CreateTopic %v = %q, %v", attrs, arn, err)
		}
	}
	arn, err := e.svc.CreateTopic(e.ctx, snstest.Scope, "standard", map[string]string{"FifoTopic": "false"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := e.svc.GetTopicAttributes(e.ctx, snstest.Scope, arn)
	if _, ok := attrs["FifoTopic"]; ok {
		t.Errorf("FifoTopic shown on a standard topic: %v", attrs)
	}
	if got := errText(e.svc.SetTopicAttributes(e.ctx, snstest.Scope, arn, "FifoTopic", "false")); got != "InvalidParameter: Invalid parameter: AttributeName" {
		t.Errorf("SetTopicAttributes FifoTopic: %s", got)
	}
	if _, err := e.svc.CreateTopic(e.ctx, snstest.Scope, "alerts", map[string]string{"DisplayName": "x"}, nil); errText(err) != "InvalidParameter: Invalid parameter: Attributes Reason: Topic already exists with different attributes" {
		t.Errorf("different attributes: %s", errText(err))
	}
}

// TestPublishErrors: Publish and Unsubscribe answer with AWS's wording
// (test_publish_wrong_arn_format, test_publish_non_existent_target, test_publish_wrong_phone_format,
// test_empty_or_wrong_message_attributes, test_unsubscribe_wrong_arn_format).
func TestPublishErrors(t *testing.T) {
	e := newEnv(t)
	attr := func(name, typ, s string, b []byte) map[string]sns.MessageAttribute {
		return map[string]sns.MessageAttribute{name: {DataType: typ, StringValue: s, BinaryValue: b}}
	}
	for _, c := range []struct {
		name string
		in   sns.PublishInput
		want string
	}{
		{"target", sns.PublishInput{TargetARN: "arn:aws:sns:eu-west-1:111122223333:endpoint/APNS/app/id:x", Message: "m"}, "InvalidParameter: Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified"},
		{"phone", sns.PublishInput{PhoneNumber: "+1a234", Message: "m"}, "InvalidParameter: Invalid parameter: PhoneNumber Reason: +1a234 is not valid to publish to"},
		{"no target", sns.PublishInput{Message: "m"}, "InvalidParameter: Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"},
		{"short ARN", sns.PublishInput{TopicARN: "arn:aws", Message: "m"}, "InvalidParameter: Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 2"},
		{"other region", sns.PublishInput{TopicARN: "arn:aws:sns:us-east-1:111122223333:alerts", Message: "m"}, "InvalidParameter: Invalid parameter: TopicArn"},
		{"empty", sns.PublishInput{TopicARN: e.topic}, "InvalidParameter: Invalid parameter: Empty message"},
		{"string from binary", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("attr1", "String", "", []byte{1})}, "ParameterValueInvalid: The message attribute 'attr1' with type 'String' must use field 'String'."},
		{"number from binary", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("attr1", "Number", "", []byte{1})}, "ParameterValueInvalid: The message attribute 'attr1' with type 'Number' must use field 'String'."},
		{"binary from string", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("attr1", "Binary", "x", nil)}, "ParameterValueInvalid: The message attribute 'attr1' with type 'Binary' must use field 'Binary'."},
		{"empty binary", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("attr1", "Binary", "", nil)}, "ParameterValueInvalid: The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'Binary'."},
		{"no type", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("attr1", "", "x", nil)}, "ValidationError: 1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"},
		{"long name", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr(strings.Repeat("a", 257), "String", "x", nil)}, "ParameterValueInvalid: Length of message attribute name must be less than 256 bytes."},
		{"bad char", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("a^b", "String", "x", nil)}, "ParameterValueInvalid: Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."},
		{"leading dot", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr(".a", "String", "x", nil)}, "ParameterValueInvalid: Invalid message attribute name starting with character '.' was found."},
		{"trailing dot", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("a.", "String", "x", nil)}, "ParameterValueInvalid: Invalid message attribute name ending with character '.' was found."},
		{"two dots", sns.PublishInput{TopicARN: e.topic, Message: "m", MessageAttributes: attr("a..b", "String", "x", nil)}, "ParameterValueInvalid: Message attribute name can not have successive '.' character."},
	} {
		_, err := e.svc.Publish(e.ctx, snstest.Scope, c.in)
		if got := errText(err); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	for arn, want := range map[string]string{
		"":                             "InvalidParameter: Invalid parameter: SubscriptionArn Reason: no value for required parameter",
		"randomstring":                 "InvalidParameter: Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1",
		"arn:aws:sns:eu-west-1:random": "InvalidParameter: Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5",
		"arn:aws:sns:eu-west-1:111122223333:random": "InvalidParameter: Invalid parameter: SubscriptionId",
	} {
		if got := errText(e.svc.Unsubscribe(e.ctx, snstest.Scope, arn)); got != want {
			t.Errorf("Unsubscribe(%q):\n got %s\nwant %s", arn, got, want)
		}
	}
}

// TestPublishBatch: AWS's batch rules (test_publish_batch_exceptions,
// test_publish_batch_too_long_message, test_empty_or_wrong_message_attributes "batch-…",
// test_topic_publish_another_region "error-batch", test_publish_batch_messages_without_topic) and
// per-entry results.
func TestPublishBatch(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, "https://a.example/", map[string]string{"FilterPolicy": `{"n":[{"numeric":[">",1]}]}`})
	entries := func(n int) []sns.BatchEntry {
		var es []sns.BatchEntry
		for i := range n {
			es = append(es, sns.BatchEntry{ID: string(rune('a' + i)), Message: "m"})
		}
		return es
	}
	big := strings.Repeat("x", 200_000)
	for _, c := range []struct {
		name    string
		topic   string
		entries []sns.BatchEntry
		want    string
	}{
		{"empty", e.topic, nil, "EmptyBatchRequest: The batch request doesn't contain any entries."},
		{"too many", e.topic, entries(11), "TooManyEntriesInBatchRequest: The batch request contains more entries than permissible."},
		{"same id", e.topic, []sns.BatchEntry{{ID: "1", Message: "a"}, {ID: "1", Message: "b"}}, "BatchEntryIdsNotDistinct: Two or more batch entries in the request have the same Id."},
		{"bad id", e.topic, []sns.BatchEntry{{ID: "a b", Message: "a"}}, "InvalidBatchEntryId: The Id of a batch entry in a batch request doesn't abide by the specification."},
		{"too long", e.topic, []sns.BatchEntry{{ID: "1", Message: big}, {ID: "2", Message: big}}, "BatchRequestTooLong: The length of all the messages put together is more than the limit."},
		{"no topic", "arn:aws:sns:eu-west-1:111122223333:nope", entries(1), "NotFound: Topic does not exist"},
		{"other region", "arn:aws:sns:us-east-1:111122223333:alerts", entries(1), "InvalidParameter: Invalid parameter: TopicArn"},
		{"attribute", e.topic, []sns.BatchEntry{{ID: "1", Message: "a"}, {ID: "2", Message: "b", MessageAttributes: map[string]sns.MessageAttribute{"attr1": {StringValue: "x"}}}},
			"ValidationError: 1 validation error detected: Value null at 'publishBatchRequestEntries.2.member.messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not be null"},
		{"structure", e.topic, []sns.BatchEntry{{ID: "1", Message: `{"x":"y"}`, MessageStructure: "json"}}, "InvalidParameter: Invalid parameter: Message Structure - No default entry in JSON message body"},
	} {
		_, err := e.svc.PublishBatch(e.ctx, snstest.Scope, c.topic, c.entries)
		if got := errText(err); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	before, _ := e.st.Deliveries(e.ctx, 0, 100)
	res, err := e.svc.PublishBatch(e.ctx, snstest.Scope, e.topic, []sns.BatchEntry{
		{ID: "one", Message: "first", MessageAttributes: map[string]sns.MessageAttribute{"n": {DataType: "Number", StringValue: "5"}}},
		{ID: "two", Message: ""},
		{ID: "three", Message: "third", MessageAttributes: map[string]sns.MessageAttribute{"n": {DataType: "Number", StringValue: "0"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Successful) != 2 || res.Successful[0].ID != "one" || res.Successful[1].ID != "three" || res.Successful[0].MessageID == res.Successful[1].MessageID {
		t.Errorf("successful %+v", res.Successful)
	}
	if len(res.Failed) != 1 || res.Failed[0] != (sns.BatchFailure{ID: "two", Code: "InvalidParameter", Message: "Invalid parameter: Empty message", SenderFault: true}) {
		t.Errorf("failed %+v", res.Failed)
	}
	// The filter policy applies per message: only "first" is delivered.
	after, _ := e.st.Deliveries(e.ctx, 0, 100)
	if n := len(after) - len(before); n != 1 || !strings.Contains(after[len(after)-1].Body, `"Message":"first"`) {
		t.Errorf("%d deliveries: %+v", n, after[len(before):])
	}
}

// TestStoredDeliveryPolicyNormalisedOnRead: a subscription stored before policies were
// normalised shows, and compares, as a new one does.
func TestStoredDeliveryPolicyNormalisedOnRead(t *testing.T) {
	e := newEnv(t)
	const raw = `{"requestPolicy":{"headerContentType":"text/csv"}}`
	arn := e.subscribe(t, "https://a.example/", nil)
	sub, err := e.st.GetSubscription(e.ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	sub.Attributes["DeliveryPolicy"] = raw // as an older trailwatch stored it
	if err := e.st.PutSubscription(e.ctx, sub, nil); err != nil {
		t.Fatal(err)
	}
	attrs, _ := e.svc.GetSubscriptionAttributes(e.ctx, snstest.Scope, arn)
	if want := `{"healthyRetryPolicy":null,"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/csv"},"guaranteed":false}`; attrs["DeliveryPolicy"] != want {
		t.Errorf("DeliveryPolicy %s", attrs["DeliveryPolicy"])
	}
	again, err := e.svc.Subscribe(e.ctx, snstest.Scope, sns.SubscribeInput{TopicARN: e.topic, Protocol: "https", Endpoint: "https://a.example/",
		Attributes: map[string]string{"DeliveryPolicy": raw}})
	if err != nil || again != arn {
		t.Errorf("Subscribe again = %q, %v", again, err)
	}
}
