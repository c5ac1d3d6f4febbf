package awsaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/trailwatch/trailwatch/internal/audit"
	"github.com/trailwatch/trailwatch/internal/plan"
)

// Gatherer reads facts.
type Gatherer struct {
	// Now is the clock (the facts' time).
	Now func() time.Time
	// Wait pauses between polls of GenerateCredentialReport; tests pass a no-op.
	Wait func(ctx context.Context, d time.Duration) error
}

// Sleep waits for d or until ctx ends: the real Gatherer.Wait.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type reader struct {
	g     *Gatherer
	acct  Account
	facts *audit.Facts
}

func (r *reader) problem(region, resource string, err error) {
	r.facts.Problems = append(r.facts.Problems, audit.Problem{Region: region, Resource: resource, Err: errText(err)})
}

// errText is an AWS error's code and message, or the error.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		// An answer that is not an AWS error: a stand-in that lacks the operation (moto 5.2.1
		// answers ListOrganizationsFeatures with HTTP 500), or a proxy.
		return fmt.Sprintf("HTTP %d without an AWS error", re.HTTPStatusCode())
	}
	return err.Error()
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Facts reads the audit facts of an account in regions.
func (g *Gatherer) Facts(ctx context.Context, acct Account, regions []string) (*audit.Facts, error) {
	f := &audit.Facts{AccountID: acct.ID, Now: g.Now(), Trails: map[string]*audit.Trail{}, LogGroups: map[string]*audit.LogGroup{}, Topics: map[string]*audit.Topic{}}
	r := &reader{g: g, acct: acct, facts: f}
	for _, region := range regions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.trails(ctx, region)
	}
	alarmRegions := map[string]bool{}
	for _, arn := range sortedKeys(f.Trails) {
		t := f.Trails[arn]
		region, account, name, ok := audit.LogGroupFromARN(t.LogGroupARN)
		if !ok || account != acct.ID {
			continue
		}
		if f.LogGroups[audit.LogGroupKey(region, name)] == nil {
			f.LogGroups[audit.LogGroupKey(region, name)] = r.logGroup(ctx, region, name)
		}
		alarmRegions[region] = true
	}
	for _, region := range sortedKeys(alarmRegions) {
		r.alarms(ctx, region)
	}
	r.topics(ctx)
	r.root(ctx, firstOr(regions, "us-east-1"))
	return f, nil
}

func (r *reader) trails(ctx context.Context, region string) {
	c := r.acct.In(region)
	out, err := c.CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	view := audit.RegionTrails{Region: region}
	if err != nil {
		r.problem(region, "cloudtrail:DescribeTrails", err)
		r.facts.Regions = append(r.facts.Regions, view)
		return
	}
	for _, t := range out.TrailList {
		arn := aws.ToString(t.TrailARN)
		view.TrailARNs = append(view.TrailARNs, arn)
		if r.facts.Trails[arn] != nil {
			continue
		}
		owner := ""
		if p := strings.Split(arn, ":"); len(p) > 4 {
			owner = p[4]
		}
		tr := &audit.Trail{
			ARN: arn, Name: aws.ToString(t.Name), HomeRegion: aws.ToString(t.HomeRegion), Owner: owner,
			MultiRegion: aws.ToBool(t.IsMultiRegionTrail), Organization: aws.ToBool(t.IsOrganizationTrail),
			S3Bucket: aws.ToString(t.S3BucketName), LogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn), RoleARN: aws.ToString(t.CloudWatchLogsRoleArn),
		}
		// The trail's ARN, not its name, reaches shadow and organization trails (CTUG
		// cloudtrail-additional-cli-commands.md).
		if st, err := c.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)}); err != nil {
			r.problem(region, arn, err)
		} else {
			tr.StatusKnown, tr.Logging = true, aws.ToBool(st.IsLogging)
		}
		if es, err := c.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)}); err != nil {
			r.problem(region, arn, err)
		} else {
			sel := &audit.Selectors{Custom: aws.ToBool(t.HasCustomEventSelectors)}
			for _, s := range es.EventSelectors {
				sel.Basic = append(sel.Basic, audit.BasicSelector{ReadWriteType: string(s.ReadWriteType), IncludeManagementEvents: aws.ToBool(s.IncludeManagementEvents), ExcludeManagementEventSources: s.ExcludeManagementEventSources})
			}
			for _, a := range es.AdvancedEventSelectors {
				var as audit.AdvancedSelector
				for _, fs := range a.FieldSelectors {
					as.Fields = append(as.Fields, audit.FieldSelector{Field: aws.ToString(fs.Field), Equals: fs.Equals, NotEquals: fs.NotEquals})
				}
				sel.Advanced = append(sel.Advanced, as)
			}
			tr.Selectors = sel
		}
		r.facts.Trails[arn] = tr
	}
	r.facts.Regions = append(r.facts.Regions, view)
}

func (r *reader) logGroup(ctx context.Context, region, name string) *audit.LogGroup {
	c := r.acct.In(region)
	g := &audit.LogGroup{Region: region, Name: name}
	out, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil {
		r.problem(region, "log-group:"+name, err)
		return g
	}
	for _, lg := range out.LogGroups {
		if aws.ToString(lg.LogGroupName) == name {
			g.Exists = true
		}
	}
	if !g.Exists {
		return g
	}
	var token *string
	for {
		mf, err := c.Logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(name), NextToken: token})
		if err != nil {
			r.problem(region, "log-group:"+name, err)
			break
		}
		for _, f := range mf.MetricFilters {
			m := audit.MetricFilter{Name: aws.ToString(f.FilterName), Pattern: aws.ToString(f.FilterPattern)}
			for _, t := range f.MetricTransformations {
				m.Transformations = append(m.Transformations, transformation(t))
			}
			g.Filters = append(g.Filters, m)
		}
		if token = mf.NextToken; token == nil {
			break
		}
	}
	ls, err := c.Logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(name), OrderBy: cwltypes.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)})
	if err != nil {
		r.problem(region, "log-group:"+name, err)
		return g
	}
	g.EventsKnown = true
	for _, s := range ls.LogStreams {
		if ms := aws.ToInt64(s.LastEventTimestamp); ms > 0 {
			g.LastEvent = time.UnixMilli(ms).UTC()
		}
	}
	return g
}

func transformation(t cwltypes.MetricTransformation) audit.MetricTransformation {
	return audit.MetricTransformation{MetricName: aws.ToString(t.MetricName), Namespace: aws.ToString(t.MetricNamespace), Value: aws.ToString(t.MetricValue), DefaultValue: t.DefaultValue, Dimensions: len(t.Dimensions)}
}

func (r *reader) alarms(ctx context.Context, region string) {
	c := r.acct.In(region)
	var token *string
	for {
		out, err := c.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{NextToken: token, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
		if err != nil {
			r.problem(region, "cloudwatch:DescribeAlarms", err)
			return
		}
		for _, a := range out.MetricAlarms {
			r.facts.Alarms = append(r.facts.Alarms, audit.Alarm{
				Region: region, Name: aws.ToString(a.AlarmName), ARN: aws.ToString(a.AlarmArn),
				MetricName: aws.ToString(a.MetricName), Namespace: aws.ToString(a.Namespace),
				Statistic: string(a.Statistic), ExtendedStatistic: aws.ToString(a.ExtendedStatistic), Dimensions: len(a.Dimensions),
				Period: aws.ToInt32(a.Period), EvaluationPeriods: aws.ToInt32(a.EvaluationPeriods), DatapointsToAlarm: aws.ToInt32(a.DatapointsToAlarm),
				Threshold: aws.ToFloat64(a.Threshold), ComparisonOperator: string(a.ComparisonOperator), TreatMissingData: aws.ToString(a.TreatMissingData),
				ActionsEnabled: aws.ToBool(a.ActionsEnabled), AlarmActions: a.AlarmActions, OKActions: a.OKActions, StateValue: string(a.StateValue),
			})
		}
		if token = out.NextToken; token == nil {
			return
		}
	}
}

// topics reads every SNS topic of this account that an alarm notifies.
func (r *reader) topics(ctx context.Context) {
	for _, a := range r.facts.Alarms {
		for _, arn := range slices.Concat(a.AlarmActions, a.OKActions) {
			region, account, ok := audit.TopicRegionAccount(arn)
			if !ok || account != r.acct.ID || r.facts.Topics[arn] != nil {
				continue
			}
			r.facts.Topics[arn] = r.topic(ctx, region, arn)
		}
	}
}

func (r *reader) topic(ctx context.Context, region, arn string) *audit.Topic {
	c := r.acct.In(region)
	t := &audit.Topic{ARN: arn}
	attrs, err := c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil {
		if errCode(err) == "NotFound" {
			return t
		}
		t.Exists = true
		t.ListErr = errText(err)
		return t
	}
	t.Exists = true
	t.KMSMasterKey = attrs.Attributes["KmsMasterKeyId"]
	t.Subscriptions, err = subscriptions(ctx, c.SNS, arn)
	if err != nil {
		t.ListErr = errText(err)
	}
	return t
}

func subscriptions(ctx context.Context, c SNSAPI, arn string) ([]audit.Subscription, error) {
	var subs []audit.Subscription
	var token *string
	for {
		out, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn), NextToken: token})
		if err != nil {
			return subs, err
		}
		for _, s := range out.Subscriptions {
			subs = append(subs, audit.Subscription{ARN: aws.ToString(s.SubscriptionArn), Protocol: aws.ToString(s.Protocol), Endpoint: aws.ToString(s.Endpoint)})
		}
		if token = out.NextToken; token == nil {
			return subs, nil
		}
	}
}

func (r *reader) root(ctx context.Context, region string) {
	c := r.acct.In(region)
	root := &r.facts.Root
	if out, err := c.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
		r.problem(audit.GlobalRegion, "iam:GetAccountSummary", err)
	} else {
		m := out.SummaryMap
		root.SummaryKnown = true
		root.MFAEnabled = m[string(iamtypes.SummaryKeyTypeAccountMFAEnabled)] == 1
		root.AccessKeysPresent = m[string(iamtypes.SummaryKeyTypeAccountAccessKeysPresent)] == 1
		if v, ok := m[string(iamtypes.SummaryKeyTypeAccountPasswordPresent)]; ok {
			root.PasswordPresent = aws.Bool(v == 1)
		}
	}
	root.Report, root.ReportErr = r.credentialReport(ctx, c.IAM)
	var marker *string
	root.VirtualMFAKnown = true
	for {
		out, err := c.IAM.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned, Marker: marker})
		if err != nil {
			r.problem(audit.GlobalRegion, "iam:ListVirtualMFADevices", err)
			root.VirtualMFAKnown = false
			break
		}
		for _, d := range out.VirtualMFADevices {
			if d.User != nil && aws.ToString(d.User.Arn) == "arn:aws:iam::"+r.acct.ID+":root" {
				root.RootVirtualMFA = true
			}
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if out, err := c.IAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{}); err != nil {
		root.Features.Err = errText(err)
	} else {
		root.Features.RootCredentialsManagement = slices.Contains(out.EnabledFeatures, iamtypes.FeatureTypeRootCredentialsManagement)
		root.Features.RootSessions = slices.Contains(out.EnabledFeatures, iamtypes.FeatureTypeRootSessions)
	}
}

// credentialReport generates the credential report (polling up to 10 times, a second apart) and
// returns its root row.
func (r *reader) credentialReport(ctx context.Context, c IAMAPI) (*audit.CredentialRow, string) {
	for i := 0; ; i++ {
		out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, "iam:GenerateCredentialReport: " + errText(err)
		}
		if out.State == iamtypes.ReportStateTypeComplete {
			break
		}
		if i == 10 {
			return nil, "the credential report was not ready after 10 seconds"
		}
		if err := r.g.Wait(ctx, time.Second); err != nil {
			return nil, err.Error()
		}
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, "iam:GetCredentialReport: " + errText(err)
	}
	row, err := audit.ParseCredentialReport(out.Content)
	if err != nil {
		return nil, err.Error()
	}
	return row, ""
}

// Extra reads what only apply needs, for names in region (and, with deliver, the --deliver-to
// resources).
func (g *Gatherer) Extra(ctx context.Context, acct Account, region string, n plan.Names, deliver bool) (plan.Extra, error) {
	c := acct.In(region)
	var x plan.Extra
	if deliver {
		d, err := delivery(ctx, c)
		if err != nil {
			return x, err
		}
		x.Delivery = d
	}
	if _, err := c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(n.Bucket)}); err == nil {
		x.BucketExists = true
		pol, err := c.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(n.Bucket)})
		switch {
		case err == nil:
			x.BucketPolicy = aws.ToString(pol.Policy)
		case errCode(err) != "NoSuchBucketPolicy":
			return x, fmt.Errorf("read bucket policy of %s: %w", n.Bucket, err)
		}
	}
	if role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(n.Role)}); err == nil {
		x.RoleExists = true
		x.RoleTrust = decodePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument))
		if rp, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(n.Role), PolicyName: aws.String(n.RolePolicy)}); err == nil {
			x.RolePolicy = decodePolicy(aws.ToString(rp.PolicyDocument))
		}
	} else if errCode(err) != "NoSuchEntity" {
		return x, fmt.Errorf("read role %s: %w", n.Role, err)
	}
	arn := fmt.Sprintf("arn:aws:sns:%s:%s:%s", region, acct.ID, n.Topic)
	if attrs, err := c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err == nil {
		x.TopicExists = true
		x.TopicPolicy = attrs.Attributes["Policy"]
		x.TopicKMSMasterKey = attrs.Attributes["KmsMasterKeyId"]
		if x.TopicSubscriptions, err = subscriptions(ctx, c.SNS, arn); err != nil {
			return x, fmt.Errorf("list subscriptions of %s: %w", arn, err)
		}
	} else if errCode(err) != "NotFound" {
		return x, fmt.Errorf("read topic %s: %w", arn, err)
	}
	if out, err := c.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(n.LogGroup)}); err == nil {
		for _, lg := range out.LogGroups {
			x.LogGroupExists = x.LogGroupExists || aws.ToString(lg.LogGroupName) == n.LogGroup
		}
	}
	return x, nil
}

// decodePolicy undoes IAM's URL encoding of policy documents (the SDK does not).
func decodePolicy(s string) string {
	if d, err := url.QueryUnescape(s); err == nil && json.Valid([]byte(d)) {
		return d
	}
	return s
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// delivery reads the --deliver-to resources; a missing one is ResourceNotFoundException.
func delivery(ctx context.Context, c Clients) (plan.Delivery, error) {
	var d plan.Delivery
	notFound := func(err error) bool { return errCode(err) == "ResourceNotFoundException" }
	if out, err := c.Events.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String(plan.DeliveryName)}); err == nil {
		d.ConnectionExists = true
		if out.AuthParameters != nil && out.AuthParameters.ApiKeyAuthParameters != nil {
			d.ConnectionKeyName = aws.ToString(out.AuthParameters.ApiKeyAuthParameters.ApiKeyName)
		}
	} else if !notFound(err) {
		return d, fmt.Errorf("read connection %s: %w", plan.DeliveryName, err)
	}
	if out, err := c.Events.DescribeApiDestination(ctx, &eventbridge.DescribeApiDestinationInput{Name: aws.String(plan.DeliveryName)}); err == nil {
		d.DestinationExists, d.DestinationURL, d.DestinationARN = true, aws.ToString(out.InvocationEndpoint), aws.ToString(out.ApiDestinationArn)
	} else if !notFound(err) {
		return d, fmt.Errorf("read API destination %s: %w", plan.DeliveryName, err)
	}
	if out, err := c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(plan.DeliveryRule)}); err == nil {
		d.RuleExists, d.RulePattern, d.RuleEnabled = true, aws.ToString(out.EventPattern), out.State == ebtypes.RuleStateEnabled
		ts, err := c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(plan.DeliveryRule)})
		if err != nil {
			return d, fmt.Errorf("list targets of %s: %w", plan.DeliveryRule, err)
		}
		for _, t := range ts.Targets {
			d.TargetDestinations = append(d.TargetDestinations, aws.ToString(t.Arn))
		}
	} else if !notFound(err) {
		return d, fmt.Errorf("read rule %s: %w", plan.DeliveryRule, err)
	}
	if _, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(plan.DeliveryRole)}); err == nil {
		d.RoleExists = true
		if rp, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(plan.DeliveryRole), PolicyName: aws.String(plan.DeliveryPolicy)}); err == nil {
			d.RolePolicy = decodePolicy(aws.ToString(rp.PolicyDocument))
		}
	} else if errCode(err) != "NoSuchEntity" {
		return d, fmt.Errorf("read role %s: %w", plan.DeliveryRole, err)
	}
	return d, nil
}
