package audit

import (
	"strings"
	"testing"
	"time"
)

// TestSecurityHubRules checks each of Security Hub's CloudWatch.x outcomes (SH23
// controls-findings-create-update.md; reference §2.2) on a complete account with one thing changed.
func TestSecurityHubRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		mutate func(f *Facts)
		want   Status
		reason string
	}{
		{"complete account passes", "CloudWatch.1", func(*Facts) {}, Pass, "PASSED"},
		{"every control passes", "CloudWatch.14", func(*Facts) {}, Pass, "PASSED"},
		{"no trail", "CloudWatch.1", func(f *Facts) { *f = *empty() }, Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT"},
		{"single-Region trail", "CloudWatch.1", func(f *Facts) { f.trail().MultiRegion = false }, Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT: no multi-Region trail logging all read and write management events to CloudWatch Logs (trail main is not multi-Region)"},
		{"trail not logging", "CloudWatch.1", func(f *Facts) { f.trail().Logging = false }, Fail, "is not logging"},
		{"trail without CloudWatch Logs", "CloudWatch.1", func(f *Facts) { f.trail().LogGroupARN = "" }, Fail, "sends no events to CloudWatch Logs"},
		{"write-only selectors", "CloudWatch.1", func(f *Facts) { f.trail().Selectors.Basic[0].ReadWriteType = "WriteOnly" }, Fail, "does not record all read and write management events"},
		{"no management events", "CloudWatch.1", func(f *Facts) { f.trail().Selectors.Basic[0].IncludeManagementEvents = false }, Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT"},
		{"advanced selector for management events", "CloudWatch.1", func(f *Facts) {
			f.trail().Selectors = &Selectors{Custom: true, Advanced: []AdvancedSelector{{Fields: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}}
		}, Pass, "PASSED"},
		{"advanced selector read-only", "CloudWatch.1", func(f *Facts) {
			f.trail().Selectors = &Selectors{Custom: true, Advanced: []AdvancedSelector{{Fields: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}}}}
		}, Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT"},
		{"default selectors (moto returns none)", "CloudWatch.1", func(f *Facts) { f.trail().Selectors = &Selectors{} }, Pass, "PASSED"},
		{"CloudWatch.7 fails when KMS events are excluded", "CloudWatch.7", func(f *Facts) {
			f.trail().Selectors.Basic[0].ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
		}, Fail, "excludes kms.amazonaws.com"},
		{"excluded KMS events do not matter to CloudWatch.1", "CloudWatch.1", func(f *Facts) {
			f.trail().Selectors.Basic[0].ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
		}, Pass, "PASSED"},
		{"trail homed in another Region", "CloudWatch.1", func(f *Facts) { f.trail().HomeRegion = "eu-west-1" }, NoData, "homed in eu-west-1"},
		{"organization trail of another account", "CloudWatch.1", func(f *Facts) { f.trail().Owner = other; f.trail().Organization = true }, NoData, "of account " + other},
		// A member may not be able to read the organization trail's status and selectors; the trail
		// is still the owner's to evaluate (NO_DATA), not a missing trail (FAIL).
		{"organization trail of another account, status and selectors unreadable", "CloudWatch.1", func(f *Facts) {
			t := f.trail()
			t.Owner, t.Organization, t.StatusKnown, t.Logging, t.Selectors = other, true, false, false, nil
		}, NoData, "of account " + other},
		{"own trail with unreadable status still fails", "CloudWatch.1", func(f *Facts) { f.trail().StatusKnown = false }, Fail, "unknown logging status"},
		{"log group missing", "CloudWatch.1", func(f *Facts) { f.group().Exists = false }, Fail, "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT"},
		{"no metric filters", "CloudWatch.1", func(f *Facts) { f.group().Filters = nil }, Fail, "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT"},
		{"whitespace differs: accepted", "CloudWatch.1", func(f *Facts) {
			f.group().Filters[0].Pattern = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
		}, Pass, "PASSED"},
		{"extra parentheses: not valid", "CloudWatch.1", func(f *Facts) {
			f.group().Filters[0].Pattern = `{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }`
		}, Fail, "CLOUDTRAIL_METRIC_FILTER_NOT_VALID: no metric filter on ct has the CIS pattern for root account usage (filter RootAccountUsage is equivalent but not textually exact: it fires, but Security Hub wants the exact text)"},
		{"AssumeRoot exclusion: not valid", "CloudWatch.1", func(f *Facts) { f.group().Filters[0].Pattern = RootPatternExcludingAssumeRoot() }, Fail, "with the AssumeRoot exclusion"},
		{"a different filter", "CloudWatch.1", func(f *Facts) { f.group().Filters[0].Pattern = `{$.userIdentity.type="Root"}` }, Fail, "CLOUDTRAIL_METRIC_FILTER_NOT_VALID"},
		{"no alarm", "CloudWatch.1", func(f *Facts) { f.alarm("CloudWatch.1").MetricName = "Other" }, Fail, "CLOUDWATCH_ALARMS_NOT_PRESENT"},
		{"alarm in another namespace", "CloudWatch.1", func(f *Facts) { f.alarm("CloudWatch.1").Namespace = "LogMetrics" }, Fail, "CLOUDWATCH_ALARMS_NOT_PRESENT"},
		{"alarm without actions", "CloudWatch.1", func(f *Facts) { f.alarm("CloudWatch.1").AlarmActions = nil }, Fail, "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID"},
		{"alarm actions disabled", "CloudWatch.1", func(f *Facts) { f.alarm("CloudWatch.1").ActionsEnabled = false }, Fail, "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID"},
		{"topic missing", "CloudWatch.1", func(f *Facts) { f.topic().Exists = false }, Fail, "SNS_TOPIC_INVALID"},
		{"no subscriptions", "CloudWatch.1", func(f *Facts) { f.topic().Subscriptions = nil }, Fail, "SNS_SUBSCRIPTION_NOT_PRESENT"},
		{"pending subscription does not count", "CloudWatch.1", func(f *Facts) { f.topic().Subscriptions[0].ARN = "PendingConfirmation" }, Fail, "SNS_SUBSCRIPTION_NOT_PRESENT: topic arn:aws:sns:us-east-1:" + acct + ":alerts has only 1 subscription(s) pending confirmation"},
		{"topic of another account", "CloudWatch.1", func(f *Facts) {
			f.alarm("CloudWatch.1").AlarmActions = []string{"arn:aws:sns:us-east-1:" + other + ":alerts"}
		}, Warning, "SNS_TOPIC_CROSS_ACCOUNT:"},
		{"topic of another account and Region", "CloudWatch.1", func(f *Facts) {
			f.alarm("CloudWatch.1").AlarmActions = []string{"arn:aws:sns:eu-west-1:" + other + ":alerts"}
		}, Warning, "SNS_TOPIC_CROSS_ACCOUNT_CROSS_REGION"},
		{"subscriptions cannot be listed", "CloudWatch.1", func(f *Facts) { f.topic().ListErr = "AuthorizationError" }, Warning, "cannot be listed"},
		{"one good alarm among bad ones passes", "CloudWatch.1", func(f *Facts) {
			bad := *f.alarm("CloudWatch.1")
			bad.Name, bad.AlarmActions = "other", nil
			f.Alarms = append(f.Alarms, bad)
		}, Pass, "PASSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := complete()
			tc.mutate(f)
			got, ok := find(Evaluate(f, Options{}), tc.check, region)
			if !ok {
				t.Fatalf("no %s finding", tc.check)
			}
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("%s = %s %q, want %s containing %q", tc.check, got.Status, got.Reason, tc.want, tc.reason)
			}
			if got.Status != Pass && got.Status != NoData && got.Remediation == "" {
				t.Errorf("%s %s has no remediation", tc.check, got.Status)
			}
		})
	}
}

// TestChainChecks covers what Security Hub passes but never delivers, and the reverse: the
// trailwatch.* checks, including both sides where they differ.
func TestChainChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		mutate func(f *Facts)
		want   Status
		reason string
	}{
		{"complete chain", "trailwatch.root-alert-chain", func(*Facts) {}, Pass, "root activity reaches trail main -> log group ct -> filter RootAccountUsage (exact)"},
		{"equivalent filter works though Security Hub fails it", "trailwatch.root-alert-chain", func(f *Facts) {
			f.group().Filters[0].Pattern = `{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }`
		}, Pass, "(equivalent but not textually exact) -> alarm CIS-CloudWatch.1-RootAccountUsage -> topic arn:aws:sns:us-east-1:" + acct + ":alerts (1 confirmed subscription(s)); Security Hub's CloudWatch.1 says FAIL here"},
		{"AssumeRoot exclusion works by choice", "trailwatch.root-alert-chain", func(f *Facts) { f.group().Filters[0].Pattern = RootPatternExcludingAssumeRoot() }, Pass, "AssumeRoot sessions are excluded by choice"},
		{"aws/sns key: Security Hub passes, no email", "trailwatch.root-alert-chain", func(f *Facts) { f.topic().KMSMasterKey = "alias/aws/sns" }, Fail, "alias/aws/sns"},
		{"aws/sns key on the topic check", "trailwatch.topic-delivery", func(f *Facts) { f.topic().KMSMasterKey = "arn:aws:kms:us-east-1:" + acct + ":alias/aws/sns" }, Fail, "KMS AccessDeniedException"},
		{"customer key is fine", "trailwatch.topic-delivery", func(f *Facts) { f.topic().KMSMasterKey = "alias/alerts" }, Pass, "confirmed"},
		{"topic in another Region", "trailwatch.topic-delivery", func(f *Facts) {
			other := "arn:aws:sns:eu-west-1:" + acct + ":alerts"
			f.alarm("CloudWatch.1").AlarmActions = []string{other}
			f.Topics[other] = &Topic{ARN: other, Exists: true, Subscriptions: f.topic().Subscriptions}
		}, Fail, "alarms publish only to topics in their own Region"},
		{"topic in another Region: chain", "trailwatch.root-alert-chain", func(f *Facts) {
			other := "arn:aws:sns:eu-west-1:" + acct + ":alerts"
			f.alarm("CloudWatch.1").AlarmActions = []string{other}
			f.Topics[other] = &Topic{ARN: other, Exists: true, Subscriptions: f.topic().Subscriptions}
		}, Fail, "Security Hub's CloudWatch.1 says PASS here"},
		{"pending subscription", "trailwatch.topic-delivery", func(f *Facts) { f.topic().Subscriptions[0].ARN = "PendingConfirmation" }, Warning, "pending confirmation"},
		{"Average with a default value never reaches 1", "trailwatch.alarm-reachable", func(f *Facts) {
			f.alarm("CloudWatch.1").Statistic = "Average"
			f.group().Filters[0].Transformations[0].DefaultValue = ptr(0.0)
		}, Fail, "Average of a filter with default value 0 reaches 1 only when every event of the period matches"},
		{"Average without a default value is fine", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").Statistic = "Average" }, Pass, "Average 1"},
		{"threshold above one event", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").Threshold = 3 }, Fail, "one matching event gives Sum 1, which is not GreaterThanOrEqualToThreshold 3"},
		{"greater than 1 needs two events", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").ComparisonOperator = "GreaterThanThreshold" }, Fail, "not GreaterThanThreshold 1"},
		{"less-than alarm", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").ComparisonOperator = "LessThanThreshold" }, Fail, "never fires"},
		{"dimensions the filter does not emit", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").Dimensions = 1 }, Fail, "dimension"},
		{"metric value 0", "trailwatch.alarm-reachable", func(f *Facts) { f.group().Filters[0].Transformations[0].Value = "0" }, Fail, "gives Sum 0"},
		{"two of two datapoints", "trailwatch.alarm-reachable", func(f *Facts) {
			f.alarm("CloudWatch.1").EvaluationPeriods, f.alarm("CloudWatch.1").DatapointsToAlarm = 2, 2
		}, Warning, "needs 2 breaching periods"},
		{"missing data breaching", "trailwatch.alarm-reachable", func(f *Facts) { f.alarm("CloudWatch.1").TreatMissingData = "breaching" }, Warning, "pages on every period"},
		{"no OK action", "trailwatch.alarm-ok-action", func(f *Facts) { f.alarm("CloudWatch.1").OKActions = nil }, Warning, "no OK action"},
		{"log group without events", "trailwatch.log-group-events", func(f *Facts) { f.group().LastEvent = time.Time{} }, Warning, "has received no events"},
		{"log group quiet for two days", "trailwatch.log-group-events", func(f *Facts) { f.group().LastEvent = now.Add(-48 * time.Hour) }, Warning, "more than 24h0m0s ago"},
		{"chain through another account's trail", "trailwatch.root-alert-chain", func(f *Facts) { f.trail().Owner = other }, NoData, "audit that account"},
		{"chain through another account's unreadable trail", "trailwatch.root-alert-chain", func(f *Facts) {
			f.trail().Owner, f.trail().StatusKnown, f.trail().Selectors = other, false, nil
		}, NoData, "audit that account"},
		{"no trail", "trailwatch.root-alert-chain", func(f *Facts) { *f = *empty() }, Fail, "no multi-Region trail records root activity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := complete()
			tc.mutate(f)
			var got *Finding
			for _, x := range Evaluate(f, Options{}) {
				if x.CheckID == tc.check && (got == nil || x.Status.rank() > got.Status.rank()) {
					got = &x
				}
			}
			if got == nil {
				t.Fatalf("no %s finding", tc.check)
			}
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("%s = %s %q, want %s containing %q", tc.check, got.Status, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

// TestRootRules checks IAM.4, IAM.6, IAM.9 (SH25; CIS v5 1.3-1.5) and trailwatch's root checks.
func TestRootRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		root   func(r *Root)
		want   Status
		reason string
	}{
		{"no root key", "IAM.4", func(r *Root) {}, Pass, "AccountAccessKeysPresent=0"},
		{"root key", "IAM.4", func(r *Root) { r.AccessKeysPresent = true }, Fail, "an inactive key counts too"},
		{"report shows a key the summary does not", "IAM.4", func(r *Root) { r.Report.AccessKey1Active = true }, Fail, "credential report shows an active one"},
		{"summary unreadable", "IAM.4", func(r *Root) { r.SummaryKnown = false }, NoData, "GetAccountSummary"},
		{"MFA on", "IAM.9", func(r *Root) { r.PasswordPresent = ptr(true); r.MFAEnabled = true }, Pass, "MFA is enabled"},
		{"no password passes without MFA", "IAM.9", func(r *Root) {}, Pass, "no password"},
		{"password, no MFA", "IAM.9", func(r *Root) { r.PasswordPresent = ptr(true) }, Fail, "MFA is not enabled"},
		{"password unknown (moto)", "IAM.9", func(r *Root) { r.PasswordPresent = nil; r.Report = nil }, Fail, "whether it has a password is unknown"},
		{"report password false counts when the summary lacks it", "IAM.9", func(r *Root) { r.PasswordPresent = nil; r.Report.PasswordEnabled = "false" }, Pass, "no password"},
		{"report not_supported is unknown", "IAM.9", func(r *Root) { r.PasswordPresent = nil }, Fail, "unknown"},
		{"hardware MFA", "IAM.6", func(r *Root) { r.PasswordPresent = ptr(true); r.MFAEnabled = true }, Pass, "not a virtual device"},
		{"virtual MFA", "IAM.6", func(r *Root) { r.PasswordPresent = ptr(true); r.MFAEnabled = true; r.RootVirtualMFA = true }, Fail, "virtual device"},
		{"no password passes IAM.6", "IAM.6", func(r *Root) {}, Pass, "no password"},
		{"no MFA fails IAM.6", "IAM.6", func(r *Root) { r.PasswordPresent = ptr(true) }, Fail, "MFA is not enabled"},
		{"virtual MFA list unreadable", "IAM.6", func(r *Root) { r.PasswordPresent = ptr(true); r.MFAEnabled = true; r.VirtualMFAKnown = false }, NoData, "ListVirtualMFADevices"},
		{"root used yesterday", "trailwatch.root-recent-use", func(r *Root) { r.Report.PasswordLastUsed = now.Add(-24 * time.Hour) }, Warning, "password last used 2026-12-05T12:00:00Z"},
		{"root key used 100 days ago", "trailwatch.root-recent-use", func(r *Root) { r.Report.AccessKey2LastUsed = now.Add(-100 * 24 * time.Hour) }, Pass, "access key 2 last used 2026-08-28"},
		{"no root row (moto)", "trailwatch.root-recent-use", func(r *Root) { r.Report = nil }, NoData, "no <root_account> row"},
		{"centralized root access, credentials removed", "trailwatch.root-centralized", func(r *Root) {}, Pass, "enabled"},
		{"centralized root access, password left", "trailwatch.root-centralized", func(r *Root) { r.PasswordPresent = ptr(true) }, Warning, "may still have credentials"},
		{"centralized root access off", "trailwatch.root-centralized", func(r *Root) { r.Features.RootCredentialsManagement = false }, Warning, "not enabled"},
		{"features unknown", "trailwatch.root-centralized", func(r *Root) { r.Features.Err = "AccountNotManagementOrDelegatedAdministrator" }, NoData, "AccountNotManagementOrDelegatedAdministrator"},
		{"AssumeRoot sessions fire the CIS filter", "trailwatch.assume-root", func(r *Root) { r.Features.RootSessions = true }, Warning, "the CIS root filter alerts on each of them"},
		{"no AssumeRoot sessions", "trailwatch.assume-root", func(r *Root) {}, Pass, "not enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := complete()
			tc.root(&f.Root)
			got, ok := find(Evaluate(f, Options{}), tc.check, GlobalRegion)
			if !ok {
				t.Fatalf("no %s finding", tc.check)
			}
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("%s = %s %q, want %s containing %q", tc.check, got.Status, got.Reason, tc.want, tc.reason)
			}
		})
	}
	t.Run("AssumeRoot remediation shows the NOT EXISTS exclusion", func(t *testing.T) {
		f := complete()
		f.Root.Features.RootSessions = true
		got, _ := find(Evaluate(f, Options{}), "trailwatch.assume-root", GlobalRegion)
		if !strings.Contains(got.Remediation, "$.userIdentity.sessionContext.assumedRoot NOT EXISTS") || !strings.Contains(got.Remediation, "fails the exact-pattern check") {
			t.Errorf("remediation = %q", got.Remediation)
		}
	})
}

func TestUnreachableAccount(t *testing.T) {
	fs := Evaluate(&Facts{AccountID: other, Unreachable: "cannot assume arn:aws:iam::" + other + ":role/OrganizationAccountAccessRole: AccessDenied"}, Options{})
	if len(fs) != 1 || fs[0].CheckID != "trailwatch.account-access" || fs[0].Status != Fail || fs[0].AccountID != other {
		t.Fatalf("findings = %+v", fs)
	}
}

func TestCompare(t *testing.T) {
	root := Controls()[0]
	for _, tc := range []struct {
		pattern string
		want    Match
	}{
		{root.Pattern, MatchExact},
		{`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, MatchNormalized},
		{`{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}`, MatchNormalized},
		{"{$.userIdentity.type=\"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !=\"AwsServiceEvent\"}\n", MatchNormalized},
		{`{$.userIdentity.type="Root " && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`, MatchNone}, // a space inside quotes counts
		{`{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }`, MatchEquivalent},
		{RootPatternExcludingAssumeRoot(), MatchAssumeRootExcluded},
		{`{ $.userIdentity.type = "Root" && $.userIdentity.sessionContext.assumedRoot != "true" }`, MatchNone},
		{`{ $.userIdentity.type = "Root" "`, MatchNone},
	} {
		if got := root.Compare(tc.pattern); got != tc.want {
			t.Errorf("Compare(%s) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestFailOnOrder(t *testing.T) {
	if !Fail.AtLeast(Warning) || Warning.AtLeast(Fail) || !Warning.AtLeast(Warning) || NoData.AtLeast(Warning) {
		t.Error("status order wrong")
	}
}
