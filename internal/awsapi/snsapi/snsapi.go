// Package snsapi is the SNS adapter of the wire layer: the awsQuery shapes of the SNS operations
// (API version 2010-03-31; both aws CLIs and aws-sdk-go-v2's sns module speak awsQuery) mapped to
// internal/sns, plus the unsigned pages subscribers reach from emails (confirmation.html,
// unsubscribe.html) and the signing certificate.
//
// SNS is served over awsQuery only: AWS offers no JSON or CBOR protocol for SNS (reference §4.1),
// so a JSON or CBOR request for SNS gets the framework's unknown-operation error.
package snsapi

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// NewService returns the SNS awsapi.Service. ConfirmSubscription and Unsubscribe may be called
// unsigned, as SNS's SubscribeURL and UnsubscribeURL are visited by subscribers.
func NewService(svc *sns.Service) *awsapi.Service {
	h := handlers{svc: svc}
	return &awsapi.Service{
		SigningName:         "sns",
		QueryVersion:        "2010-03-31",
		XMLNamespace:        "http://sns.amazonaws.com/doc/2010-03-31/",
		QueryValidationCode: "InvalidParameter",
		UnsignedOperations:  []string{"ConfirmSubscription", "Unsubscribe"},
		// The unsigned calls are exactly SNS's links: SubscribeURL
		// (?Action=ConfirmSubscription&TopicArn=…&Token=…) and UnsubscribeURL
		// (?Action=Unsubscribe&SubscriptionArn=…), as AWS sends them, without a Version
		// (localstack test_sns.snapshot.json, test_subscribe_external_http_endpoint, recorded
		// against AWS). Anything more, AuthenticateOnUnsubscribe included, needs a signature.
		UnsignedParameters: map[string][]string{"ConfirmSubscription": {"TopicArn", "Token"}, "Unsubscribe": {"SubscriptionArn"}},
		Operations: map[string]awsapi.Operation{
			"CreateTopic":               awsapi.Op(h.createTopic),
			"DeleteTopic":               awsapi.Op(h.deleteTopic),
			"ListTopics":                awsapi.Op(h.listTopics),
			"GetTopicAttributes":        awsapi.Op(h.getTopicAttributes),
			"SetTopicAttributes":        awsapi.Op(h.setTopicAttributes),
			"Subscribe":                 awsapi.Op(h.subscribe),
			"ConfirmSubscription":       awsapi.Op(h.confirmSubscription),
			"Unsubscribe":               awsapi.Op(h.unsubscribe),
			"ListSubscriptions":         awsapi.Op(h.listSubscriptions),
			"ListSubscriptionsByTopic":  awsapi.Op(h.listSubscriptionsByTopic),
			"GetSubscriptionAttributes": awsapi.Op(h.getSubscriptionAttributes),
			"SetSubscriptionAttributes": awsapi.Op(h.setSubscriptionAttributes),
			"Publish":                   awsapi.Op(h.publish),
			"PublishBatch":              awsapi.Op(h.publishBatch),
			"TagResource":               awsapi.Op(h.tagResource),
			"UntagResource":             awsapi.Op(h.untagResource),
			"ListTagsForResource":       awsapi.Op(h.listTagsForResource),
		},
	}
}

type handlers struct{ svc *sns.Service }

// scope is the caller's scope; the zero Scope for an unsigned call.
func scope(ctx context.Context) sns.Scope {
	id := awsapi.Caller(ctx)
	return sns.Scope{AccountID: id.AccountID, Region: id.Region}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string { return &s }

// missing is AWS's error for an absent required parameter.
func missing(name string) error {
	return &sns.Error{Code: "InvalidParameter", Message: "Invalid parameter: " + name}
}

// Tag is the model's Tag.
type Tag struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

// tagMap turns the model's tag list into a map; a key given twice is refused with AWS's answer
// (test_tags "duplicate-key-error", recorded 2023-08).
func tagMap(ts []Tag) (map[string]string, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		if _, dup := m[deref(t.Key)]; dup {
			return nil, &sns.Error{Code: "InvalidParameter", Message: "Invalid parameter: Duplicated keys are not allowed."}
		}
		m[deref(t.Key)] = deref(t.Value)
	}
	return m, nil
}

// CreateTopicInput is the model's CreateTopicInput.
type CreateTopicInput struct {
	Name                 *string           `json:"Name,omitempty"`
	Attributes           map[string]string `json:"Attributes,omitempty"`
	Tags                 []Tag             `json:"Tags,omitempty"`
	DataProtectionPolicy *string           `json:"DataProtectionPolicy,omitempty"`
}

// CreateTopicOutput is the model's CreateTopicResponse.
type CreateTopicOutput struct {
	TopicArn *string `json:"TopicArn,omitempty"`
}

func (h handlers) createTopic(ctx context.Context, in *CreateTopicInput) (*CreateTopicOutput, error) {
	if in.Name == nil {
		return nil, missing("Topic Name")
	}
	attrs := in.Attributes
	if in.DataProtectionPolicy != nil {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs["DataProtectionPolicy"] = *in.DataProtectionPolicy
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	arn, err := h.svc.CreateTopic(ctx, scope(ctx), *in.Name, attrs, tags)
	if err != nil {
		return nil, err
	}
	return &CreateTopicOutput{TopicArn: &arn}, nil
}

// TopicArnInput is the input of operations taking only a TopicArn.
type TopicArnInput struct {
	TopicArn *string `json:"TopicArn,omitempty"`
}

func (h handlers) deleteTopic(ctx context.Context, in *TopicArnInput) (*struct{}, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	return nil, h.svc.DeleteTopic(ctx, scope(ctx), *in.TopicArn)
}

// ListTopicsInput is the model's ListTopicsInput.
type ListTopicsInput struct {
	NextToken *string `json:"NextToken,omitempty"`
}

// TopicEntry is the model's Topic.
type TopicEntry struct {
	TopicArn *string `json:"TopicArn,omitempty"`
}

// ListTopicsOutput is the model's ListTopicsResponse.
type ListTopicsOutput struct {
	Topics    []TopicEntry `json:"Topics"`
	NextToken *string      `json:"NextToken,omitempty"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h handlers) listTopics(ctx context.Context, in *ListTopicsInput) (*ListTopicsOutput, error) {
	arns, next, err := h.svc.ListTopics(ctx, scope(ctx), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &ListTopicsOutput{Topics: make([]TopicEntry, len(arns)), NextToken: optional(next)}
	for i, a := range arns {
		out.Topics[i] = TopicEntry{TopicArn: ptr(a)}
	}
	return out, nil
}

// AttributesOutput is the output of Get*Attributes.
type AttributesOutput struct {
	Attributes map[string]string `json:"Attributes"`
}

func (h handlers) getTopicAttributes(ctx context.Context, in *TopicArnInput) (*AttributesOutput, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	attrs, err := h.svc.GetTopicAttributes(ctx, scope(ctx), *in.TopicArn)
	if err != nil {
		return nil, err
	}
	return &AttributesOutput{Attributes: attrs}, nil
}

// SetTopicAttributesInput is the model's SetTopicAttributesInput.
type SetTopicAttributesInput struct {
	TopicArn       *string `json:"TopicArn,omitempty"`
	AttributeName  *string `json:"AttributeName,omitempty"`
	AttributeValue *string `json:"AttributeValue,omitempty"`
}

func (h handlers) setTopicAttributes(ctx context.Context, in *SetTopicAttributesInput) (*struct{}, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	if in.AttributeName == nil {
		return nil, missing("AttributeName")
	}
	return nil, h.svc.SetTopicAttributes(ctx, scope(ctx), *in.TopicArn, *in.AttributeName, deref(in.AttributeValue))
}

// SubscribeInput is the model's SubscribeInput.
type SubscribeInput struct {
	TopicArn              *string           `json:"TopicArn,omitempty"`
	Protocol              *string           `json:"Protocol,omitempty"`
	Endpoint              *string           `json:"Endpoint,omitempty"`
	Attributes            map[string]string `json:"Attributes,omitempty"`
	ReturnSubscriptionArn *bool             `json:"ReturnSubscriptionArn,omitempty"`
}

// SubscriptionArnOutput is the output of Subscribe and ConfirmSubscription.
type SubscriptionArnOutput struct {
	SubscriptionArn *string `json:"SubscriptionArn,omitempty"`
}

func (h handlers) subscribe(ctx context.Context, in *SubscribeInput) (*SubscriptionArnOutput, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	if in.Protocol == nil {
		return nil, missing("Protocol")
	}
	arn, err := h.svc.Subscribe(ctx, scope(ctx), sns.SubscribeInput{
		TopicARN: *in.TopicArn, Protocol: *in.Protocol, Endpoint: deref(in.Endpoint), Attributes: in.Attributes,
		ReturnSubscriptionARN: in.ReturnSubscriptionArn != nil && *in.ReturnSubscriptionArn,
	})
	if err != nil {
		return nil, err
	}
	return &SubscriptionArnOutput{SubscriptionArn: &arn}, nil
}

// ConfirmSubscriptionInput is the model's ConfirmSubscriptionInput.
type ConfirmSubscriptionInput struct {
	TopicArn                  *string `json:"TopicArn,omitempty"`
	Token                     *string `json:"Token,omitempty"`
	AuthenticateOnUnsubscribe *string `json:"AuthenticateOnUnsubscribe,omitempty"`
}

func (h handlers) confirmSubscription(ctx context.Context, in *ConfirmSubscriptionInput) (*SubscriptionArnOutput, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	if in.Token == nil {
		return nil, missing("Token")
	}
	arn, err := h.svc.ConfirmSubscription(ctx, scope(ctx), *in.TopicArn, *in.Token, deref(in.AuthenticateOnUnsubscribe))
	if err != nil {
		return nil, err
	}
	return &SubscriptionArnOutput{SubscriptionArn: &arn}, nil
}

// SubscriptionArnInput is the input of operations taking only a SubscriptionArn.
type SubscriptionArnInput struct {
	SubscriptionArn *string `json:"SubscriptionArn,omitempty"`
}

func (h handlers) unsubscribe(ctx context.Context, in *SubscriptionArnInput) (*struct{}, error) {
	if in.SubscriptionArn == nil {
		return nil, missing("SubscriptionArn")
	}
	return nil, h.svc.Unsubscribe(ctx, scope(ctx), *in.SubscriptionArn)
}

// SubscriptionEntry is the model's Subscription.
type SubscriptionEntry struct {
	SubscriptionArn *string `json:"SubscriptionArn,omitempty"`
	Owner           *string `json:"Owner,omitempty"`
	Protocol        *string `json:"Protocol,omitempty"`
	Endpoint        *string `json:"Endpoint,omitempty"`
	TopicArn        *string `json:"TopicArn,omitempty"`
}

// ListSubscriptionsInput is the model's ListSubscriptionsInput.
type ListSubscriptionsInput struct {
	NextToken *string `json:"NextToken,omitempty"`
}

// ListSubscriptionsByTopicInput is the model's ListSubscriptionsByTopicInput.
type ListSubscriptionsByTopicInput struct {
	TopicArn  *string `json:"TopicArn,omitempty"`
	NextToken *string `json:"NextToken,omitempty"`
}

// ListSubscriptionsOutput is the output of ListSubscriptions[ByTopic].
type ListSubscriptionsOutput struct {
	Subscriptions []SubscriptionEntry `json:"Subscriptions"`
	NextToken     *string             `json:"NextToken,omitempty"`
}

func (h handlers) list(ctx context.Context, topic, token string) (*ListSubscriptionsOutput, error) {
	subs, next, err := h.svc.ListSubscriptions(ctx, scope(ctx), topic, token)
	if err != nil {
		return nil, err
	}
	out := &ListSubscriptionsOutput{Subscriptions: make([]SubscriptionEntry, len(subs)), NextToken: optional(next)}
	for i, s := range subs {
		out.Subscriptions[i] = SubscriptionEntry{SubscriptionArn: ptr(s.SubscriptionARN), Owner: ptr(s.Owner), Protocol: ptr(s.Protocol),
			Endpoint: ptr(s.Endpoint), TopicArn: ptr(s.TopicARN)}
	}
	return out, nil
}

func (h handlers) listSubscriptions(ctx context.Context, in *ListSubscriptionsInput) (*ListSubscriptionsOutput, error) {
	return h.list(ctx, "", deref(in.NextToken))
}

func (h handlers) listSubscriptionsByTopic(ctx context.Context, in *ListSubscriptionsByTopicInput) (*ListSubscriptionsOutput, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	return h.list(ctx, *in.TopicArn, deref(in.NextToken))
}

func (h handlers) getSubscriptionAttributes(ctx context.Context, in *SubscriptionArnInput) (*AttributesOutput, error) {
	if in.SubscriptionArn == nil {
		return nil, missing("SubscriptionArn")
	}
	attrs, err := h.svc.GetSubscriptionAttributes(ctx, scope(ctx), *in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	return &AttributesOutput{Attributes: attrs}, nil
}

// SetSubscriptionAttributesInput is the model's SetSubscriptionAttributesInput.
type SetSubscriptionAttributesInput struct {
	SubscriptionArn *string `json:"SubscriptionArn,omitempty"`
	AttributeName   *string `json:"AttributeName,omitempty"`
	AttributeValue  *string `json:"AttributeValue,omitempty"`
}

func (h handlers) setSubscriptionAttributes(ctx context.Context, in *SetSubscriptionAttributesInput) (*struct{}, error) {
	if in.SubscriptionArn == nil {
		return nil, missing("SubscriptionArn")
	}
	if in.AttributeName == nil {
		return nil, missing("AttributeName")
	}
	return nil, h.svc.SetSubscriptionAttributes(ctx, scope(ctx), *in.SubscriptionArn, *in.AttributeName, deref(in.AttributeValue))
}

// MessageAttributeValue is the model's MessageAttributeValue.
type MessageAttributeValue struct {
	DataType    *string `json:"DataType,omitempty"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

// PublishInput is the model's PublishInput.
type PublishInput struct {
	TopicArn               *string                          `json:"TopicArn,omitempty"`
	TargetArn              *string                          `json:"TargetArn,omitempty"`
	PhoneNumber            *string                          `json:"PhoneNumber,omitempty"`
	Message                *string                          `json:"Message,omitempty"`
	Subject                *string                          `json:"Subject,omitempty"`
	MessageStructure       *string                          `json:"MessageStructure,omitempty"`
	MessageAttributes      map[string]MessageAttributeValue `json:"MessageAttributes,omitempty" aws:"key=Name,value=Value"`
	MessageDeduplicationId *string                          `json:"MessageDeduplicationId,omitempty"`
	MessageGroupId         *string                          `json:"MessageGroupId,omitempty"`
}

// PublishOutput is the model's PublishResponse.
type PublishOutput struct {
	MessageId *string `json:"MessageId,omitempty"`
}

func messageAttributes(in map[string]MessageAttributeValue) map[string]sns.MessageAttribute {
	if len(in) == 0 {
		return nil
	}
	attrs := make(map[string]sns.MessageAttribute, len(in))
	for k, v := range in {
		attrs[k] = sns.MessageAttribute{DataType: deref(v.DataType), StringValue: deref(v.StringValue), BinaryValue: v.BinaryValue}
	}
	return attrs
}

func (h handlers) publish(ctx context.Context, in *PublishInput) (*PublishOutput, error) {
	if in.Message == nil {
		return nil, missing("Message")
	}
	if in.TopicArn != nil && *in.TopicArn == "" {
		// An empty TopicArn is parsed as an ARN (test_publish_wrong_arn_format "empty-topic").
		return nil, &sns.Error{Code: "InvalidParameter", Message: "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"}
	}
	attrs := messageAttributes(in.MessageAttributes)
	id, err := h.svc.Publish(ctx, scope(ctx), sns.PublishInput{
		TopicARN: deref(in.TopicArn), TargetARN: deref(in.TargetArn), PhoneNumber: deref(in.PhoneNumber), Message: *in.Message,
		Subject: in.Subject, MessageStructure: deref(in.MessageStructure), MessageAttributes: attrs,
	})
	if err != nil {
		return nil, err
	}
	return &PublishOutput{MessageId: &id}, nil
}

// TagResourceInput is the model's TagResourceRequest.
type TagResourceInput struct {
	ResourceArn *string `json:"ResourceArn,omitempty"`
	Tags        []Tag   `json:"Tags,omitempty"`
}

// WrappedEmpty is the output of TagResource and UntagResource: their model output is an empty
// structure with a result wrapper, and botocore insists on finding <TagResourceResult/>. The
// never-set member makes awsapi write the (empty) wrapper element.
type WrappedEmpty struct {
	Unset *string `json:"TrailwatchUnset,omitempty"`
}

func (h handlers) tagResource(ctx context.Context, in *TagResourceInput) (*WrappedEmpty, error) {
	if in.ResourceArn == nil {
		return nil, missing("ResourceArn")
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	return &WrappedEmpty{}, h.svc.TagResource(ctx, scope(ctx), *in.ResourceArn, tags)
}

// UntagResourceInput is the model's UntagResourceRequest.
type UntagResourceInput struct {
	ResourceArn *string  `json:"ResourceArn,omitempty"`
	TagKeys     []string `json:"TagKeys,omitempty"`
}

func (h handlers) untagResource(ctx context.Context, in *UntagResourceInput) (*WrappedEmpty, error) {
	if in.ResourceArn == nil {
		return nil, missing("ResourceArn")
	}
	return &WrappedEmpty{}, h.svc.UntagResource(ctx, scope(ctx), *in.ResourceArn, in.TagKeys)
}

// ListTagsForResourceInput is the model's ListTagsForResourceRequest.
type ListTagsForResourceInput struct {
	ResourceArn *string `json:"ResourceArn,omitempty"`
}

// ListTagsForResourceOutput is the model's ListTagsForResourceResponse.
type ListTagsForResourceOutput struct {
	Tags []Tag `json:"Tags"`
}

func (h handlers) listTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	if in.ResourceArn == nil {
		return nil, missing("ResourceArn")
	}
	tags, err := h.svc.ListTagsForResource(ctx, scope(ctx), *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	out := &ListTagsForResourceOutput{Tags: []Tag{}}
	for _, k := range sortedKeys(tags) {
		out.Tags = append(out.Tags, Tag{Key: ptr(k), Value: ptr(tags[k])})
	}
	return out, nil
}

// PublishBatchRequestEntry is the model's PublishBatchRequestEntry.
type PublishBatchRequestEntry struct {
	Id                     *string                          `json:"Id,omitempty"`
	Message                *string                          `json:"Message,omitempty"`
	Subject                *string                          `json:"Subject,omitempty"`
	MessageStructure       *string                          `json:"MessageStructure,omitempty"`
	MessageAttributes      map[string]MessageAttributeValue `json:"MessageAttributes,omitempty" aws:"key=Name,value=Value"`
	MessageDeduplicationId *string                          `json:"MessageDeduplicationId,omitempty"`
	MessageGroupId         *string                          `json:"MessageGroupId,omitempty"`
}

// PublishBatchInput is the model's PublishBatchInput.
type PublishBatchInput struct {
	TopicArn                   *string                    `json:"TopicArn,omitempty"`
	PublishBatchRequestEntries []PublishBatchRequestEntry `json:"PublishBatchRequestEntries,omitempty"`
}

// PublishBatchResultEntry is the model's PublishBatchResultEntry.
type PublishBatchResultEntry struct {
	Id        *string `json:"Id,omitempty"`
	MessageId *string `json:"MessageId,omitempty"`
}

// BatchResultErrorEntry is the model's BatchResultErrorEntry.
type BatchResultErrorEntry struct {
	Id          *string `json:"Id,omitempty"`
	Code        *string `json:"Code,omitempty"`
	Message     *string `json:"Message,omitempty"`
	SenderFault *bool   `json:"SenderFault,omitempty"`
}

// PublishBatchOutput is the model's PublishBatchResponse; both lists are always present, as AWS
// sends them ("Failed": [] in every recorded answer).
type PublishBatchOutput struct {
	Successful []PublishBatchResultEntry `json:"Successful"`
	Failed     []BatchResultErrorEntry   `json:"Failed"`
}

func (h handlers) publishBatch(ctx context.Context, in *PublishBatchInput) (*PublishBatchOutput, error) {
	if in.TopicArn == nil {
		return nil, missing("TopicArn")
	}
	entries := make([]sns.BatchEntry, len(in.PublishBatchRequestEntries))
	for i, e := range in.PublishBatchRequestEntries {
		entries[i] = sns.BatchEntry{ID: deref(e.Id), Message: deref(e.Message), Subject: e.Subject,
			MessageStructure: deref(e.MessageStructure), MessageAttributes: messageAttributes(e.MessageAttributes)}
	}
	res, err := h.svc.PublishBatch(ctx, scope(ctx), *in.TopicArn, entries)
	if err != nil {
		return nil, err
	}
	out := &PublishBatchOutput{Successful: []PublishBatchResultEntry{}, Failed: []BatchResultErrorEntry{}}
	for _, s := range res.Successful {
		out.Successful = append(out.Successful, PublishBatchResultEntry{Id: ptr(s.ID), MessageId: ptr(s.MessageID)})
	}
	for _, f := range res.Failed {
		fault := f.SenderFault
		out.Failed = append(out.Failed, BatchResultErrorEntry{Id: ptr(f.ID), Code: ptr(f.Code), Message: ptr(f.Message), SenderFault: &fault})
	}
	return out, nil
}
