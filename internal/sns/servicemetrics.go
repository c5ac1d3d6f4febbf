package sns

import (
	"context"
	"strings"
	"time"
)

// SNS's own CloudWatch metrics, which AWS publishes per topic into the AWS/SNS namespace with the
// TopicName dimension (Amazon SNS developer guide, "Monitoring Amazon SNS topics using CloudWatch",
// as mirrored by Pulumi's awsx docs classic.sns.metrics and aws-cdk-lib's SNSMetrics):
//   - NumberOfMessagesPublished, "the number of messages published to your Amazon SNS topics",
//     unit Count;
//   - PublishSize, "the size of messages published", unit Bytes (statistics Minimum, Maximum,
//     Average and Count);
//   - NumberOfNotificationsDelivered, "the number of messages successfully delivered from your
//     Amazon SNS topics to subscribing endpoints", unit Count;
//   - NumberOfNotificationsFailed, "the number of messages that Amazon SNS failed to deliver. For
//     Amazon SQS, email, SMS, or mobile push endpoints, the metric increments by 1 when Amazon SNS
//     stops attempting message deliveries. For HTTP or HTTPS endpoints, the metric includes every
//     failed delivery attempt, including retries that follow the initial attempt", unit Count.
//
// Publish reports the first two; the delivery worker (package notify) the last two.
const (
	MetricsNamespace             = "AWS/SNS"
	MetricMessagesPublished      = "NumberOfMessagesPublished"
	MetricPublishSize            = "PublishSize"
	MetricNotificationsDelivered = "NumberOfNotificationsDelivered"
	MetricNotificationsFailed    = "NumberOfNotificationsFailed"
	// DimensionTopicName is the dimension of every AWS/SNS metric trailwatch publishes.
	DimensionTopicName = "TopicName"
)

// MetricDatum is one value of an AWS/SNS metric of one topic.
type MetricDatum struct {
	Scope      Scope
	TopicName  string
	MetricName string
	// Unit is a CloudWatch StandardUnit name: Count or Bytes.
	Unit  string
	Value float64
	Time  time.Time
}

// MetricSink receives the AWS/SNS metrics of Publish. It must not block for long; failures are
// its own to report, since a message published is not undone by a metric that could not be
// stored.
type MetricSink interface {
	PublishMetrics(ctx context.Context, data []MetricDatum)
}

// TopicNameOf returns the topic name of a topic ARN (its last element), the TopicName dimension.
func TopicNameOf(topicARN string) string {
	return topicARN[strings.LastIndexByte(topicARN, ':')+1:]
}

// publishMetrics reports one message published to t: NumberOfMessagesPublished 1 and
// PublishSize size (the message plus its attributes, as SNS's 256 KiB limit counts them).
func (s *Service) publishMetrics(ctx context.Context, t *Topic, size int, at time.Time) {
	if s.Metrics == nil {
		return
	}
	name := TopicNameOf(t.ARN)
	s.Metrics.PublishMetrics(ctx, []MetricDatum{
		{Scope: t.Scope, TopicName: name, MetricName: MetricMessagesPublished, Unit: "Count", Value: 1, Time: at},
		{Scope: t.Scope, TopicName: name, MetricName: MetricPublishSize, Unit: "Bytes", Value: float64(size), Time: at},
	})
}
