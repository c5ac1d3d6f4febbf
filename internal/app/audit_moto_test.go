package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwatch/trailwatch/internal/audit"
	"github.com/trailwatch/trailwatch/internal/moto"
)

// These tests run trailwatch audit and apply in-process against moto_server 5.2.1. moto's gaps
// (reference §6), each named where a test meets it:
//   - CloudWatch speaks awsQuery only: the commands run with --cloudwatch-protocol query.
//   - ListOrganizationsFeatures answers HTTP 500: trailwatch.root-centralized is NO_DATA.
//   - The credential report has no <root_account> row: trailwatch.root-recent-use is NO_DATA.
//   - GetAccountSummary has no AccountPasswordPresent and AccountMFAEnabled is always 0: IAM.9 and
//     IAM.6 FAIL in every moto account, whatever apply does (apply does not manage root MFA).
//   - GetEventSelectors returns [] for a new trail: read as AWS's default selector.
//   - Email subscriptions are confirmed at once: CloudWatch.1 passes right after apply.
//   - Trails never deliver and filters never emit: trailwatch.log-group-events WARNs.
//   - AssumeRole never checks the role: an unassumable account cannot be made (covered by
//     audit.TestUnreachableAccount instead).
//   - Organization trails are invisible in member accounts: the NO_DATA of a member covered by an
//     organization trail is covered by audit.TestSecurityHubRules and plan.TestPlanDiffs instead.

const motoAccount = "123456789012"

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func auditJSON(t *testing.T, args ...string) (int, []audit.Finding) {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"audit", "--format", "json", "--cloudwatch-protocol", "query"}, args...)...)
	var doc struct {
		Findings []audit.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("audit output: %v\n%s\nstderr: %s", err, out, errOut)
	}
	return code, doc.Findings
}

func findingOf(t *testing.T, fs []audit.Finding, account, region, check string) audit.Finding {
	t.Helper()
	for _, f := range fs {
		if f.AccountID == account && f.Region == region && f.CheckID == check {
			return f
		}
	}
	t.Fatalf("no %s finding for %s in %s", check, account, region)
	return audit.Finding{}
}

func wantFinding(t *testing.T, fs []audit.Finding, account, region, check string, st audit.Status, reason string) {
	t.Helper()
	f := findingOf(t, fs, account, region, check)
	if f.Status != st || !strings.Contains(f.Reason, reason) {
		t.Errorf("%s %s = %s %q, want %s containing %q", account, check, f.Status, f.Reason, st, reason)
	}
}

// motoGaps checks the findings that moto's gaps decide in every account.
func motoGaps(t *testing.T, fs []audit.Finding, account string) {
	t.Helper()
	wantFinding(t, fs, account, "global", "IAM.4", audit.Pass, "AccountAccessKeysPresent=0")
	wantFinding(t, fs, account, "global", "IAM.9", audit.Fail, "whether it has a password is unknown")
	wantFinding(t, fs, account, "global", "trailwatch.root-recent-use", audit.NoData, "no <root_account> row")
	wantFinding(t, fs, account, "global", "trailwatch.root-centralized", audit.NoData, "HTTP 500")
}

func TestAuditMotoEmptyAccount(t *testing.T) {
	moto.Env(t, moto.Start(t))
	code, fs := auditJSON(t)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, c := range audit.Controls() {
		wantFinding(t, fs, motoAccount, "us-east-1", c.ID, audit.Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT")
	}
	wantFinding(t, fs, motoAccount, "us-east-1", "trailwatch.root-alert-chain", audit.Fail, "no multi-Region trail")
	motoGaps(t, fs, motoAccount)

	code, out, _ := runCmd(t, "audit", "--cloudwatch-protocol", "query")
	if code != 1 || !strings.Contains(out, "FAIL     CloudWatch.1 ") || !strings.Contains(out, "trailwatch apply --email ADDRESS --regions us-east-1") {
		t.Errorf("table (exit %d):\n%s", code, out)
	}
}

// TestAuditMotoHalfBuilt: a logging multi-Region trail into a log group whose root filter is
// equivalent to CIS's but not textually exact, and no alarm.
func TestAuditMotoHalfBuilt(t *testing.T) {
	url := moto.Start(t)
	moto.Env(t, url)
	ctx := context.Background()
	cfg := moto.Config(url)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	logs := cloudwatchlogs.NewFromConfig(cfg)
	ct := cloudtrail.NewFromConfig(cfg)
	must(t, func() error {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("half")})
		return err
	})
	must(t, func() error {
		_, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("ct")})
		return err
	})
	must(t, func() error {
		_, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("half"), IsMultiRegionTrail: aws.Bool(true),
			CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + motoAccount + ":log-group:ct:*"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::" + motoAccount + ":role/ct")})
		return err
	})
	must(t, func() error {
		_, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("ct"), FilterName: aws.String("root"),
			FilterPattern:         aws.String(`{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }`),
			MetricTransformations: []cwltypes.MetricTransformation{{MetricName: aws.String("Root"), MetricNamespace: aws.String("Sec"), MetricValue: aws.String("1")}}})
		return err
	})

	// Not started: moto's trails, like AWS's, do not log until StartLogging.
	_, fs := auditJSON(t)
	wantFinding(t, fs, motoAccount, "us-east-1", "CloudWatch.1", audit.Fail, "trail main is not logging")

	must(t, func() error {
		_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})
		return err
	})
	_, fs = auditJSON(t)
	wantFinding(t, fs, motoAccount, "us-east-1", "CloudWatch.1", audit.Fail, "CLOUDTRAIL_METRIC_FILTER_NOT_VALID: no metric filter on ct has the CIS pattern for root account usage (filter root is equivalent but not textually exact")
	wantFinding(t, fs, motoAccount, "us-east-1", "CloudWatch.5", audit.Fail, "CLOUDTRAIL_METRIC_FILTER_NOT_VALID: no metric filter on ct has the CIS pattern for CloudTrail configuration changes")
	wantFinding(t, fs, motoAccount, "us-east-1", "trailwatch.root-alert-chain", audit.Fail, "no alarm watches Sec/Root, the metric of filter root")
	wantFinding(t, fs, motoAccount, "us-east-1", "trailwatch.log-group-events", audit.Warning, "has received no events")
	motoGaps(t, fs, motoAccount)
}

// TestApplyMoto: --plan changes nothing; apply --cis all makes every CloudWatch.x and chain check
// pass; a second apply is a no-op.
func TestApplyMoto(t *testing.T) {
	moto.Env(t, moto.Start(t))
	code, out, errOut := runCmd(t, "apply", "--email", "sec@example.com", "--cis", "all", "--plan", "--format", "json", "--cloudwatch-protocol", "query")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	var plan struct {
		Changes []map[string]string `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	// bucket, access block, bucket policy, group, role, role policy, trail, start, topic, topic
	// policy, subscription, then 14 filters and 14 alarms.
	if len(plan.Changes) != 11+28 {
		t.Errorf("plan has %d changes:\n%s", len(plan.Changes), out)
	}
	for _, c := range plan.Changes {
		if len(c) != 5 || c["accountId"] != motoAccount || c["region"] != "us-east-1" || c["action"] == "" || c["resource"] == "" || c["detail"] == "" {
			t.Fatalf("change %v breaks the JSON contract", c)
		}
	}
	_, fs := auditJSON(t)
	wantFinding(t, fs, motoAccount, "us-east-1", "CloudWatch.1", audit.Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT") // --plan changed nothing

	code, out, errOut = runCmd(t, "apply", "--email", "sec@example.com", "--cis", "all", "--cloudwatch-protocol", "query")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, fs = auditJSON(t)
	for _, c := range audit.Controls() {
		wantFinding(t, fs, motoAccount, "us-east-1", c.ID, audit.Pass, "PASSED")
	}
	wantFinding(t, fs, motoAccount, "us-east-1", "trailwatch.root-alert-chain", audit.Pass, "root activity reaches trail trailwatch")
	for _, f := range fs {
		if strings.HasPrefix(f.CheckID, "trailwatch.alarm") || f.CheckID == "trailwatch.topic-delivery" {
			if f.Status != audit.Pass {
				t.Errorf("%s %s: %s %s", f.CheckID, f.Resource, f.Status, f.Reason)
			}
		}
	}
	motoGaps(t, fs, motoAccount)
	if code != 1 { // IAM.6/IAM.9 fail in every moto account (no AccountPasswordPresent, MFA 0)
		t.Errorf("audit exit %d, want 1 from moto's root flags", code)
	}

	code, out, _ = runCmd(t, "apply", "--email", "sec@example.com", "--cis", "all", "--plan", "--format", "json", "--cloudwatch-protocol", "query")
	if code != 0 || out != "{\n  \"changes\": []\n}\n" {
		t.Errorf("second plan (exit %d): %s", code, out)
	}
	code, out, errOut = runCmd(t, "apply", "--email", "sec@example.com", "--cis", "all", "--cloudwatch-protocol", "query")
	if code != 0 || !strings.HasSuffix(out, "nothing to do: everything is in place\n") || strings.Contains(errOut, "done:") {
		t.Errorf("second apply (exit %d):\n%s\n%s", code, out, errOut)
	}
	// --test sets the alarm to ALARM and back.
	code, _, errOut = runCmd(t, "apply", "--email", "sec@example.com", "--test", "--cloudwatch-protocol", "query")
	if code != 0 || !strings.Contains(errOut, "CIS-CloudWatch.1-RootAccountUsage set to ALARM and back to OK") {
		t.Errorf("--test (exit %d): %s", code, errOut)
	}
}

// TestOrgMoto: an organization with two member accounts created through Organizations (which gives
// them OrganizationAccountAccessRole); apply --org builds every account, audit --org reads them all
// through AssumeRole.
func TestOrgMoto(t *testing.T) {
	url := moto.Start(t)
	moto.Env(t, url)
	ctx := context.Background()
	org := organizations.NewFromConfig(moto.Config(url))
	must(t, func() error {
		_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
		return err
	})
	for _, name := range []string{"dev", "prod"} {
		must(t, func() error {
			_, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
			return err
		})
	}
	accts, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(accts.Accounts) != 3 {
		t.Fatalf("accounts: %v %v", accts, err)
	}
	code, fs := auditJSON(t, "--org")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, a := range accts.Accounts {
		wantFinding(t, fs, aws.ToString(a.Id), "us-east-1", "CloudWatch.1", audit.Fail, "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT")
	}
	code, out, errOut := runCmd(t, "apply", "--org", "--email", "sec@example.com", "--cloudwatch-protocol", "query")
	if code != 0 {
		t.Fatalf("apply --org: exit %d\n%s\n%s", code, out, errOut)
	}
	_, fs = auditJSON(t, "--org")
	for _, a := range accts.Accounts {
		id := aws.ToString(a.Id)
		wantFinding(t, fs, id, "us-east-1", "CloudWatch.1", audit.Pass, "arn:aws:sns:us-east-1:"+id+":trailwatch-alerts")
		wantFinding(t, fs, id, "us-east-1", "trailwatch.root-alert-chain", audit.Pass, "root activity reaches")
		motoGaps(t, fs, id)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "--format", "yaml"},
		{"audit", "--fail-on", "pass"},
		{"audit", "extra"},
		{"apply"},
		{"apply", "--email", "x@example.com", "--cis", "some"},
		{"apply", "--email", "x@example.com", "--plan", "--test"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// TestApplyDeliverToMoto: --deliver-to builds the EventBridge connection, API destination, role,
// rule and target in moto (which never delivers), and a second run changes nothing.
func TestApplyDeliverToMoto(t *testing.T) {
	moto.Env(t, moto.Start(t))
	if code, _, _ := runCmd(t, "apply", "--email", "sec@example.com", "--deliver-to", "https://tw.example.com", "--cloudwatch-protocol", "query"); code != 2 {
		t.Errorf("without TRAILWATCH_EVENTBRIDGE_KEY: exit %d, want 2", code)
	}
	t.Setenv("TRAILWATCH_EVENTBRIDGE_KEY", "k3y")
	code, out, errOut := runCmd(t, "apply", "--email", "sec@example.com", "--deliver-to", "https://tw.example.com", "--cloudwatch-protocol", "query")
	if code != 0 || !strings.Contains(out, "API destination POST https://tw.example.com/ingest/eventbridge") || strings.Contains(out+errOut, "k3y") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "apply", "--email", "sec@example.com", "--deliver-to", "https://tw.example.com", "--plan", "--format", "json", "--cloudwatch-protocol", "query")
	if code != 0 || out != "{\n  \"changes\": []\n}\n" {
		t.Errorf("second plan (exit %d): %s", code, out)
	}
}

// TestOrgUnassumableAccountMoto: a member whose role cannot be assumed is a finding, not a crash.
// moto lets every AssumeRole succeed, so STS goes through a proxy that refuses the one for prod, with
// the AccessDenied error AWS returns.
func TestOrgUnassumableAccountMoto(t *testing.T) {
	url := moto.Start(t)
	moto.Env(t, url)
	ctx := context.Background()
	org := organizations.NewFromConfig(moto.Config(url))
	must(t, func() error {
		_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
		return err
	})
	var prod string
	for _, name := range []string{"dev", "prod"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		prod = aws.ToString(out.CreateAccountStatus.AccountId)
	}
	target, _ := neturl.Parse(url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	stsProxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := neturl.ParseQuery(string(body))
		if form.Get("Action") == "AssumeRole" && strings.Contains(form.Get("RoleArn"), "::"+prod+":") {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/audit is not authorized to perform: sts:AssumeRole on resource: `+form.Get("RoleArn")+`</Message></Error><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer stsProxy.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", stsProxy.URL)

	code, fs := auditJSON(t, "--org", "--concurrency", "1")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	wantFinding(t, fs, prod, "global", "trailwatch.account-access", audit.Fail, "cannot assume arn:aws:iam::"+prod+":role/OrganizationAccountAccessRole")
	if f := findingOf(t, fs, prod, "global", "trailwatch.account-access"); !strings.Contains(f.Reason, "AccessDenied") {
		t.Errorf("reason %q does not carry AWS's error", f.Reason)
	}
	n := 0
	for _, f := range fs {
		if f.AccountID == prod {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d findings for the unassumable account, want 1", n)
	}
	motoGaps(t, fs, motoAccount) // the other accounts were read
}
