package awsaccount

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwatch/trailwatch/internal/plan"
)

// Executor makes a plan's changes.
type Executor struct {
	// Wait pauses between CreateTrail retries; tests pass a no-op.
	Wait func(ctx context.Context, d time.Duration) error
	// TrailRetry is how long CreateTrail is retried while IAM has not yet propagated the new role
	// (default 60 s: terraform-provider-aws PR #1312, reference §5.1 step 4).
	TrailRetry time.Duration
}

// Run makes the changes in order and stops at the first error; OK and Blocked changes make no call.
// done is called after each change made.
func (x *Executor) Run(ctx context.Context, acct Account, region string, changes []plan.Change, done func(plan.Change)) error {
	c := acct.In(region)
	for _, ch := range changes {
		if ch.Op == nil {
			continue
		}
		if err := x.do(ctx, c, region, ch.Op); err != nil {
			return fmt.Errorf("%s %s: %w", ch.Action, ch.Resource, err)
		}
		done(ch)
	}
	return nil
}

func (x *Executor) do(ctx context.Context, c Clients, region string, op plan.Op) error {
	switch o := op.(type) {
	case plan.CreateBucket:
		in := &s3.CreateBucketInput{Bucket: aws.String(o.Bucket)}
		if o.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(o.Region)}
		}
		_, err := c.S3.CreateBucket(ctx, in)
		if code := errCode(err); code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return err
	case plan.PutPublicAccessBlock:
		t := aws.Bool(true)
		_, err := c.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(o.Bucket), PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: t, BlockPublicPolicy: t, IgnorePublicAcls: t, RestrictPublicBuckets: t}})
		return err
	case plan.PutBucketPolicy:
		_, err := c.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(o.Bucket), Policy: aws.String(o.Policy)})
		return err
	case plan.CreateLogGroup:
		if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(o.Name)}); err != nil {
			var exists *cwltypes.ResourceAlreadyExistsException
			if !errors.As(err, &exists) {
				return err
			}
		}
		_, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(o.Name), RetentionInDays: aws.Int32(o.RetentionDays)})
		return err
	case plan.CreateRole:
		_, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(o.Name), AssumeRolePolicyDocument: aws.String(o.Trust), Description: aws.String("Lets CloudTrail deliver to CloudWatch Logs (trailwatch apply)")})
		if errCode(err) == "EntityAlreadyExists" {
			return nil
		}
		return err
	case plan.PutRolePolicy:
		_, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(o.Role), PolicyName: aws.String(o.Name), PolicyDocument: aws.String(o.Policy)})
		return err
	case plan.CreateTrail:
		return x.trail(ctx, c, o)
	case plan.StartLogging:
		_, err := c.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(o.Trail)})
		return err
	case plan.CreateTopic:
		_, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(o.Name)})
		return err
	case plan.SetTopicPolicy:
		_, err := c.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(o.TopicARN), AttributeName: aws.String("Policy"), AttributeValue: aws.String(o.Policy)})
		return err
	case plan.Subscribe:
		_, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(o.TopicARN), Protocol: aws.String("email"), Endpoint: aws.String(o.Email), ReturnSubscriptionArn: true})
		return err
	case plan.PutMetricFilter:
		_, err := c.Logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(o.LogGroup), FilterName: aws.String(o.Name), FilterPattern: aws.String(o.Pattern),
			MetricTransformations: []cwltypes.MetricTransformation{{MetricName: aws.String(o.MetricName), MetricNamespace: aws.String(o.Namespace), MetricValue: aws.String("1")}}})
		return err
	case plan.PutMetricAlarm:
		_, err := c.CloudWatch.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: aws.String(o.Name), AlarmDescription: aws.String("CIS monitoring alarm installed by trailwatch apply"),
			MetricName: aws.String(o.MetricName), Namespace: aws.String(o.Namespace), Statistic: cwtypes.StatisticSum,
			Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, TreatMissingData: aws.String("notBreaching"),
			ActionsEnabled: aws.Bool(true), AlarmActions: o.Actions, OKActions: o.OKActions,
		})
		return err
	case plan.CreateConnection:
		_, err := c.Events.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String(o.Name), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
			Description:    aws.String("trailwatch apply --deliver-to"),
			AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String(o.KeyHeader), ApiKeyValue: aws.String(o.Key)}}})
		return err
	case plan.PutAPIDestination:
		conn, err := c.Events.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String(o.Connection)})
		if err != nil {
			return err
		}
		if o.Update {
			_, err = c.Events.UpdateApiDestination(ctx, &eventbridge.UpdateApiDestinationInput{Name: aws.String(o.Name), ConnectionArn: conn.ConnectionArn, InvocationEndpoint: aws.String(o.Endpoint), HttpMethod: ebtypes.ApiDestinationHttpMethodPost})
		} else {
			_, err = c.Events.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String(o.Name), ConnectionArn: conn.ConnectionArn, InvocationEndpoint: aws.String(o.Endpoint), HttpMethod: ebtypes.ApiDestinationHttpMethodPost})
		}
		return err
	case plan.PutRule:
		_, err := c.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(o.Name), EventPattern: aws.String(o.Pattern), State: ebtypes.RuleStateEnabled,
			Description: aws.String("CloudTrail management events to trailwatch (trailwatch apply --deliver-to)")})
		return err
	case plan.PutTarget:
		dest, err := c.Events.DescribeApiDestination(ctx, &eventbridge.DescribeApiDestinationInput{Name: aws.String(o.Destination)})
		if err != nil {
			return err
		}
		out, err := c.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(o.Rule), Targets: []ebtypes.Target{{Id: aws.String(o.ID), Arn: dest.ApiDestinationArn, RoleArn: aws.String(o.RoleARN)}}})
		if err == nil && out.FailedEntryCount > 0 {
			err = fmt.Errorf("PutTargets: %s", aws.ToString(out.FailedEntries[0].ErrorMessage))
		}
		return err
	}
	return fmt.Errorf("unknown change %T", op)
}

// trail creates the trail, or updates it (with both CloudWatch Logs fields, which UpdateTrail
// requires together: hashicorp/terraform#6217). It retries while the new role has not propagated:
// CloudTrail answers InvalidCloudWatchLogsRoleArnException or …LogGroupArnException "Access denied."
func (x *Executor) trail(ctx context.Context, c Clients, o plan.CreateTrail) error {
	retry := x.TrailRetry
	if retry <= 0 {
		retry = 60 * time.Second
	}
	for waited := time.Duration(0); ; waited += 5 * time.Second {
		var err error
		if o.Update {
			_, err = c.CloudTrail.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(o.Name), IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(true),
				CloudWatchLogsLogGroupArn: aws.String(o.LogGroupARN), CloudWatchLogsRoleArn: aws.String(o.RoleARN)})
		} else {
			_, err = c.CloudTrail.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(o.Name), S3BucketName: aws.String(o.Bucket), IsMultiRegionTrail: aws.Bool(true),
				IncludeGlobalServiceEvents: aws.Bool(true), EnableLogFileValidation: aws.Bool(true),
				CloudWatchLogsLogGroupArn: aws.String(o.LogGroupARN), CloudWatchLogsRoleArn: aws.String(o.RoleARN)})
		}
		var roleErr *cttypes.InvalidCloudWatchLogsRoleArnException
		var groupErr *cttypes.InvalidCloudWatchLogsLogGroupArnException
		if err == nil || (!errors.As(err, &roleErr) && !errors.As(err, &groupErr)) || waited >= retry {
			return err
		}
		if err := x.Wait(ctx, 5*time.Second); err != nil {
			return err
		}
	}
}

// Test sets each alarm to ALARM and back to OK, as the seed's last step does, so that the person
// sees the email arrive. The next evaluation would reset it anyway.
func Test(ctx context.Context, acct Account, region string, alarms []string) error {
	c := acct.In(region)
	for _, a := range alarms {
		for _, st := range []cwtypes.StateValue{cwtypes.StateValueAlarm, cwtypes.StateValueOk} {
			if _, err := c.CloudWatch.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(a), StateValue: st, StateReason: aws.String("trailwatch apply --test: checking that the alert reaches you")}); err != nil {
				return fmt.Errorf("set alarm %s to %s: %w", a, st, err)
			}
		}
	}
	return nil
}
