package audit

import (
	"slices"
	"strings"
	"time"
)

// Facts is everything the rules need to know about one account: what the gatherer read, and what it
// could not read (a rule that lacks a fact says NO_DATA or WARNING instead of guessing).
type Facts struct {
	// AccountID is the account the facts were read in.
	AccountID string
	// Now is when the facts were read; the recent-use and no-events checks measure from it.
	Now time.Time
	// Regions are the audited Regions, each with the trails DescribeTrails (with shadow trails)
	// returned there.
	Regions []RegionTrails
	// Trails holds every trail seen in any audited Region, by ARN.
	Trails map[string]*Trail
	// LogGroups holds the log groups trails deliver to, by LogGroupKey.
	LogGroups map[string]*LogGroup
	// Alarms holds the metric alarms of every Region a log group lives in.
	Alarms []Alarm
	// Topics holds the SNS topics alarm actions name, by ARN.
	Topics map[string]*Topic
	// Root holds the root user's credentials and the organization's root-access features.
	Root Root
	// Unreachable, when not empty, says why the account could not be read at all (in --org mode: the
	// role could not be assumed); the other fields are then empty.
	Unreachable string
	// Problems are reads that failed (typically AccessDenied); each becomes a WARNING finding.
	Problems []Problem
}

// Problem is one read that failed.
type Problem struct {
	Region, Resource, Err string
}

// RegionTrails is the view of one audited Region.
type RegionTrails struct {
	Region string
	// TrailARNs are the trails that apply in Region, including multi-Region and organization
	// trails homed elsewhere.
	TrailARNs []string
}

// Trail is one CloudTrail trail with its status and event selectors.
type Trail struct {
	ARN, Name, HomeRegion string
	// Owner is the account in the trail's ARN: an organization trail seen from a member account is
	// owned by the management account.
	Owner                     string
	MultiRegion, Organization bool
	S3Bucket                  string
	// LogGroupARN is CloudWatchLogsLogGroupArn (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*), empty
	// when the trail sends nothing to CloudWatch Logs.
	LogGroupARN, RoleARN string
	// StatusKnown is false when GetTrailStatus failed; Logging is IsLogging.
	StatusKnown, Logging bool
	// Selectors is nil when GetEventSelectors failed.
	Selectors *Selectors
}

// Selectors are a trail's event selectors as GetEventSelectors returns them.
type Selectors struct {
	// Custom is the trail's HasCustomEventSelectors. A trail without custom selectors records all
	// management events, read and write (CTUG cloudtrail-additional-cli-commands.md); moto 5.2.1
	// returns an empty list for such a trail where AWS returns that default selector, so an empty
	// answer for a non-custom trail is read as the default.
	Custom   bool
	Basic    []BasicSelector
	Advanced []AdvancedSelector
}

// BasicSelector is one EventSelector.
type BasicSelector struct {
	ReadWriteType                 string
	IncludeManagementEvents       bool
	ExcludeManagementEventSources []string
}

// AdvancedSelector is one AdvancedEventSelector: its field selectors.
type AdvancedSelector struct {
	Fields []FieldSelector
}

// FieldSelector is one field condition of an advanced event selector.
type FieldSelector struct {
	Field             string
	Equals, NotEquals []string
}

// ManagementCoverage says whether the selectors record all management events, read and write
// (basic: IncludeManagementEvents with ReadWriteType All; advanced: eventCategory Management without a
// readOnly field), and which event sources they exclude.
func (s *Selectors) ManagementCoverage() (all bool, excluded []string) {
	if s == nil {
		return false, nil
	}
	if !s.Custom && len(s.Basic) == 0 && len(s.Advanced) == 0 {
		return true, nil
	}
	for _, b := range s.Basic {
		if b.IncludeManagementEvents && strings.EqualFold(b.ReadWriteType, "All") {
			return true, b.ExcludeManagementEventSources
		}
	}
	for _, a := range s.Advanced {
		mgmt, readOnly := false, false
		var ex []string
		for _, f := range a.Fields {
			switch f.Field {
			case "eventCategory":
				mgmt = slices.Contains(f.Equals, "Management")
			case "readOnly":
				readOnly = true
			case "eventSource":
				ex = append(ex, f.NotEquals...)
			}
		}
		if mgmt && !readOnly {
			return true, ex
		}
	}
	return false, nil
}

// LogGroupKey is the key of a log group in Facts.LogGroups.
func LogGroupKey(region, name string) string { return region + "/" + name }

// LogGroup is one CloudWatch Logs log group a trail delivers to, with its metric filters.
type LogGroup struct {
	Region, Name string
	// Exists is false when DescribeLogGroups did not find it.
	Exists  bool
	Filters []MetricFilter
	// LastEvent is the newest event time of its streams (DescribeLogStreams by LastEventTime); zero
	// when no stream holds an event. EventsKnown is false when that could not be read.
	LastEvent   time.Time
	EventsKnown bool
}

// MetricFilter is one metric filter of a log group.
type MetricFilter struct {
	Name, Pattern   string
	Transformations []MetricTransformation
}

// MetricTransformation is the metric a filter emits.
type MetricTransformation struct {
	MetricName, Namespace, Value string
	// DefaultValue is emitted for non-matching events when set.
	DefaultValue *float64
	// Dimensions is the number of dimensions the filter emits.
	Dimensions int
}

// Alarm is one CloudWatch metric alarm.
type Alarm struct {
	Region, Name, ARN            string
	MetricName, Namespace        string
	Statistic, ExtendedStatistic string
	Dimensions                   int
	Period                       int32
	EvaluationPeriods            int32
	DatapointsToAlarm            int32
	Threshold                    float64
	ComparisonOperator           string
	TreatMissingData             string
	ActionsEnabled               bool
	AlarmActions, OKActions      []string
	StateValue                   string
}

// Topic is one SNS topic an alarm notifies.
type Topic struct {
	ARN string
	// Exists is false when GetTopicAttributes said NotFound.
	Exists bool
	// ListErr is set when ListSubscriptionsByTopic failed (AccessDenied for a topic of another
	// account, typically).
	ListErr       string
	KMSMasterKey  string
	Subscriptions []Subscription
}

// Subscription is one subscription of a topic.
type Subscription struct {
	ARN, Protocol, Endpoint string
}

// Pending says whether the subscription still waits for its confirmation.
func (s Subscription) Pending() bool {
	return s.ARN == "PendingConfirmation" || !strings.HasPrefix(s.ARN, "arn:")
}

// Root is what the account says about its root user.
type Root struct {
	// SummaryKnown is false when GetAccountSummary failed.
	SummaryKnown      bool
	MFAEnabled        bool
	AccessKeysPresent bool
	// PasswordPresent is AccountPasswordPresent; nil when the summary lacks it (moto 5.2.1 does).
	PasswordPresent *bool
	// Report is the credential report's <root_account> row; nil when there is none (moto 5.2.1
	// has none) and ReportErr says why when the report could not be read.
	Report    *CredentialRow
	ReportErr string
	// VirtualMFAKnown is false when ListVirtualMFADevices failed; RootVirtualMFA is a virtual
	// device assigned to arn:aws:iam::ACCOUNT:root.
	VirtualMFAKnown, RootVirtualMFA bool
	// Features is IAM ListOrganizationsFeatures.
	Features OrgFeatures
}

// OrgFeatures is the centralized root access of the organization the account belongs to.
type OrgFeatures struct {
	// Err is set when ListOrganizationsFeatures could not be called (not the management account
	// or delegated administrator, no organization, or moto 5.2.1, which answers 500).
	Err                                     string
	RootCredentialsManagement, RootSessions bool
}

// ARN parts.

// arnParts splits arn:partition:service:region:account:resource.
func arnParts(arn string) (service, region, account, resource string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return "", "", "", "", false
	}
	return p[2], p[3], p[4], p[5], true
}

// LogGroupFromARN returns the Region, account and name of a log group ARN
// (arn:aws:logs:REGION:ACCOUNT:log-group:NAME or NAME:*).
func LogGroupFromARN(arn string) (region, account, name string, ok bool) {
	svc, region, account, res, ok := arnParts(arn)
	if !ok || svc != "logs" || !strings.HasPrefix(res, "log-group:") {
		return "", "", "", false
	}
	name = strings.TrimSuffix(strings.TrimPrefix(res, "log-group:"), ":*")
	return region, account, name, name != ""
}

// TopicRegionAccount returns the Region and account of an SNS topic ARN.
func TopicRegionAccount(arn string) (region, account string, ok bool) {
	svc, region, account, _, ok := arnParts(arn)
	return region, account, ok && svc == "sns"
}
