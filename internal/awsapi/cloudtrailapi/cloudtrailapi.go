// Package cloudtrailapi serves the CloudTrail trail operations (awsJson 1.1) on the awsapi
// framework: CreateTrail, GetTrail, DescribeTrails, GetTrailStatus, UpdateTrail, DeleteTrail,
// StartLogging, StopLogging, PutEventSelectors and GetEventSelectors. Both X-Amz-Target spellings are routed: aws-sdk-go-v2 sends
// CloudTrail_20131101.<Op>, botocore (aws CLI) com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>.
//
// The trailwatch extension, the SQS queue notified of new log files, is the member SqsQueueUrl or,
// for clients bound to the AWS model such as the aws CLI, the tag trailwatch:sqs-queue-url in
// CreateTrail's TagsList.
package cloudtrailapi

import (
	"context"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// QueueURLTag is the CreateTrail tag naming the SQS queue of S3 notifications.
const QueueURLTag = "trailwatch:sqs-queue-url"

// NewService describes the CloudTrail service for awsapi.NewHandler.
func NewService(t *trail.Service) *awsapi.Service {
	a := &adapter{t: t}
	return &awsapi.Service{
		SigningName:    "cloudtrail",
		TargetPrefixes: []string{"CloudTrail_20131101", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"},
		JSONVersion:    "1.1",
		Operations: map[string]awsapi.Operation{
			"CreateTrail":       awsapi.Op(a.createTrail),
			"GetTrail":          awsapi.Op(a.getTrail),
			"DescribeTrails":    awsapi.Op(a.describeTrails),
			"GetTrailStatus":    awsapi.Op(a.getTrailStatus),
			"UpdateTrail":       awsapi.Op(a.updateTrail),
			"DeleteTrail":       awsapi.Op(a.deleteTrail),
			"StartLogging":      awsapi.Op(a.startLogging),
			"StopLogging":       awsapi.Op(a.stopLogging),
			"PutEventSelectors": awsapi.Op(a.putEventSelectors),
			"GetEventSelectors": awsapi.Op(a.getEventSelectors),
		},
	}
}

type adapter struct{ t *trail.Service }

type empty struct{}

func scope(ctx context.Context) trail.Scope {
	id := awsapi.Caller(ctx)
	return trail.Scope{AccountID: id.AccountID, Region: id.Region}
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptr[T any](v T) *T { return &v }

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// trailInput is CreateTrail's and UpdateTrail's input.
type trailInput struct {
	Name                       string  `json:"Name"`
	S3BucketName               *string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                *string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               *string `json:"SnsTopicName,omitempty"`
	IncludeGlobalServiceEvents *bool   `json:"IncludeGlobalServiceEvents,omitempty"`
	IsMultiRegionTrail         *bool   `json:"IsMultiRegionTrail,omitempty"`
	EnableLogFileValidation    *bool   `json:"EnableLogFileValidation,omitempty"`
	CloudWatchLogsLogGroupArn  *string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   *string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        *bool   `json:"IsOrganizationTrail,omitempty"`
	TagsList                   []tag   `json:"TagsList,omitempty"`
	SqsQueueURL                *string `json:"SqsQueueUrl,omitempty"`
}

// apply copies the members present in the input onto t.
func (in *trailInput) apply(t *trail.Trail) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setb := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&t.S3BucketName, in.S3BucketName)
	set(&t.S3KeyPrefix, in.S3KeyPrefix)
	set(&t.SnsTopicName, in.SnsTopicName)
	setb(&t.IncludeGlobalServiceEvents, in.IncludeGlobalServiceEvents)
	setb(&t.IsMultiRegionTrail, in.IsMultiRegionTrail)
	setb(&t.LogFileValidationEnabled, in.EnableLogFileValidation)
	set(&t.CloudWatchLogsLogGroupArn, in.CloudWatchLogsLogGroupArn)
	set(&t.CloudWatchLogsRoleArn, in.CloudWatchLogsRoleArn)
	set(&t.KmsKeyID, in.KmsKeyID)
	setb(&t.IsOrganizationTrail, in.IsOrganizationTrail)
	set(&t.SqsQueueURL, in.SqsQueueURL)
	for _, tg := range in.TagsList {
		if tg.Key == QueueURLTag {
			t.SqsQueueURL = tg.Value
		}
	}
}

// trailOutput is CreateTrail's and UpdateTrail's output, and the Trail shape of GetTrail and
// DescribeTrails (which add HomeRegion and the selector flags).
type trailOutput struct {
	Name                       string  `json:"Name"`
	S3BucketName               string  `json:"S3BucketName"`
	S3KeyPrefix                *string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               *string `json:"SnsTopicName,omitempty"`
	SnsTopicARN                *string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents bool    `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool    `json:"IsMultiRegionTrail"`
	HomeRegion                 *string `json:"HomeRegion,omitempty"`
	TrailARN                   string  `json:"TrailARN"`
	LogFileValidationEnabled   bool    `json:"LogFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  *string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   *string `json:"KmsKeyId,omitempty"`
	HasCustomEventSelectors    *bool   `json:"HasCustomEventSelectors,omitempty"`
	HasInsightSelectors        *bool   `json:"HasInsightSelectors,omitempty"`
	IsOrganizationTrail        bool    `json:"IsOrganizationTrail"`
	SqsQueueURL                *string `json:"SqsQueueUrl,omitempty"`
}

func toOutput(sc trail.Scope, t trail.Trail, full bool) *trailOutput {
	o := &trailOutput{
		Name: t.Name, S3BucketName: t.S3BucketName, S3KeyPrefix: strp(t.S3KeyPrefix), SnsTopicName: strp(t.SnsTopicName),
		IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents, IsMultiRegionTrail: t.IsMultiRegionTrail,
		TrailARN: trail.ARN(sc, t.Name), LogFileValidationEnabled: t.LogFileValidationEnabled,
		CloudWatchLogsLogGroupArn: strp(t.CloudWatchLogsLogGroupArn), CloudWatchLogsRoleArn: strp(t.CloudWatchLogsRoleArn),
		KmsKeyID: strp(t.KmsKeyID), IsOrganizationTrail: t.IsOrganizationTrail, SqsQueueURL: strp(t.SqsQueueURL),
	}
	if t.SnsTopicName != "" {
		o.SnsTopicARN = ptr("arn:aws:sns:" + sc.Region + ":" + sc.AccountID + ":" + t.SnsTopicName)
	}
	if full {
		o.HomeRegion = ptr(sc.Region)
		o.HasCustomEventSelectors = ptr(t.Selectors != nil)
		o.HasInsightSelectors = ptr(false)
	}
	return o
}

func (a *adapter) createTrail(ctx context.Context, in *trailInput) (*trailOutput, error) {
	sc := scope(ctx)
	t := trail.Trail{Name: in.Name, IncludeGlobalServiceEvents: true}
	in.apply(&t)
	t, err := a.t.Create(ctx, sc, t)
	if err != nil {
		return nil, err
	}
	return toOutput(sc, t, false), nil
}

func (a *adapter) updateTrail(ctx context.Context, in *trailInput) (*trailOutput, error) {
	sc := scope(ctx)
	t, err := a.t.Update(ctx, sc, in.Name, func(t *trail.Trail) { in.apply(t) })
	if err != nil {
		return nil, err
	}
	return toOutput(sc, t, false), nil
}

type nameInput struct {
	Name string `json:"Name"`
}

type getTrailOutput struct {
	Trail *trailOutput `json:"Trail,omitempty"`
}

func (a *adapter) getTrail(ctx context.Context, in *nameInput) (*getTrailOutput, error) {
	sc := scope(ctx)
	t, err := a.t.Get(ctx, sc, in.Name)
	if err != nil {
		return nil, err
	}
	return &getTrailOutput{Trail: toOutput(sc, t, true)}, nil
}

type describeTrailsInput struct {
	TrailNameList       []string `json:"trailNameList,omitempty"`
	IncludeShadowTrails *bool    `json:"includeShadowTrails,omitempty"`
}

type describeTrailsOutput struct {
	TrailList []*trailOutput `json:"trailList"`
}

func (a *adapter) describeTrails(ctx context.Context, in *describeTrailsInput) (*describeTrailsOutput, error) {
	sc := scope(ctx)
	ts, err := a.t.Describe(ctx, sc, in.TrailNameList)
	if err != nil {
		return nil, err
	}
	out := &describeTrailsOutput{TrailList: []*trailOutput{}}
	for _, t := range ts {
		out.TrailList = append(out.TrailList, toOutput(sc, t, true))
	}
	return out, nil
}

type trailStatusOutput struct {
	IsLogging                          bool         `json:"IsLogging"`
	LatestDeliveryError                *string      `json:"LatestDeliveryError,omitempty"`
	LatestDeliveryTime                 *awsapi.Time `json:"LatestDeliveryTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  *string      `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *awsapi.Time `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	StartLoggingTime                   *awsapi.Time `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *awsapi.Time `json:"StopLoggingTime,omitempty"`
	LatestDeliveryAttemptTime          string       `json:"LatestDeliveryAttemptTime"`
	LatestDeliveryAttemptSucceeded     string       `json:"LatestDeliveryAttemptSucceeded"`
	LatestNotificationAttemptTime      string       `json:"LatestNotificationAttemptTime"`
	LatestNotificationAttemptSucceeded string       `json:"LatestNotificationAttemptSucceeded"`
	TimeLoggingStarted                 string       `json:"TimeLoggingStarted"`
	TimeLoggingStopped                 string       `json:"TimeLoggingStopped"`
}

func timep(t time.Time) *awsapi.Time {
	if t.IsZero() {
		return nil
	}
	return &awsapi.Time{Time: t}
}

// isoTime is the string form GetTrailStatus uses for its *Attempt* and TimeLogging* members
// ("2026-11-25T20:10:04Z"), "" when zero.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func (a *adapter) getTrailStatus(ctx context.Context, in *nameInput) (*trailStatusOutput, error) {
	st, err := a.t.GetStatus(ctx, scope(ctx), in.Name)
	if err != nil {
		return nil, err
	}
	out := &trailStatusOutput{
		IsLogging:                         st.IsLogging,
		LatestDeliveryError:               strp(st.LatestDeliveryError),
		LatestDeliveryTime:                timep(st.LatestDeliveryTime),
		LatestCloudWatchLogsDeliveryError: strp(st.LatestDeliveryError),
		LatestCloudWatchLogsDeliveryTime:  timep(st.LatestDeliveryTime),
		StartLoggingTime:                  timep(st.StartLoggingTime),
		StopLoggingTime:                   timep(st.StopLoggingTime),
		LatestDeliveryAttemptTime:         isoTime(st.LatestDeliveryTime),
		TimeLoggingStarted:                isoTime(st.StartLoggingTime),
		TimeLoggingStopped:                isoTime(st.StopLoggingTime),
	}
	if !st.LatestDeliveryTime.IsZero() {
		out.LatestDeliveryAttemptSucceeded = isoTime(st.LatestDeliveryTime)
	}
	return out, nil
}

func (a *adapter) deleteTrail(ctx context.Context, in *nameInput) (*empty, error) {
	return nil, a.t.Delete(ctx, scope(ctx), in.Name)
}

func (a *adapter) startLogging(ctx context.Context, in *nameInput) (*empty, error) {
	return nil, a.t.SetLogging(ctx, scope(ctx), in.Name, true)
}

func (a *adapter) stopLogging(ctx context.Context, in *nameInput) (*empty, error) {
	return nil, a.t.SetLogging(ctx, scope(ctx), in.Name, false)
}
