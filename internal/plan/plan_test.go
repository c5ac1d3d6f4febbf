package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	acct   = "111122223333"
	region = "eu-west-1"
	email  = "sec@example.com"
)

func opts(all bool) Options {
	return Options{Region: region, Email: email, AllCIS: all, Names: DefaultNames(acct, region)}
}

func emptyFacts() *audit.Facts {
	return &audit.Facts{AccountID: acct, Regions: []audit.RegionTrails{{Region: region}}, Trails: map[string]*audit.Trail{}, LogGroups: map[string]*audit.LogGroup{}, Topics: map[string]*audit.Topic{}}
}

// applied returns the facts and extra of the account after Make's plan for emptyFacts was carried
// out: what a second run reads.
func applied(all bool) (*audit.Facts, Extra) {
	n := DefaultNames(acct, region)
	f := emptyFacts()
	trail := &audit.Trail{ARN: "arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/trailwatch", Name: n.Trail, HomeRegion: region, Owner: acct, MultiRegion: true,
		S3Bucket: n.Bucket, LogGroupARN: "arn:aws:logs:eu-west-1:" + acct + ":log-group:" + n.LogGroup + ":*", RoleARN: "arn:aws:iam::" + acct + ":role/" + n.Role,
		StatusKnown: true, Logging: true, Selectors: &audit.Selectors{}}
	f.Trails[trail.ARN] = trail
	f.Regions[0].TrailARNs = []string{trail.ARN}
	g := &audit.LogGroup{Region: region, Name: n.LogGroup, Exists: true}
	topic := "arn:aws:sns:eu-west-1:" + acct + ":" + n.Topic
	cs := audit.Controls()
	if !all {
		cs = cs[:1]
	}
	for _, c := range cs {
		g.Filters = append(g.Filters, audit.MetricFilter{Name: c.Metric, Pattern: c.Pattern, Transformations: []audit.MetricTransformation{{MetricName: c.Metric, Namespace: audit.Namespace, Value: "1"}}})
		f.Alarms = append(f.Alarms, audit.Alarm{Region: region, Name: c.Alarm, ARN: "arn:aws:cloudwatch:eu-west-1:" + acct + ":alarm:" + c.Alarm, MetricName: c.Metric, Namespace: audit.Namespace,
			Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching",
			ActionsEnabled: true, AlarmActions: []string{topic}, OKActions: []string{topic}})
	}
	f.LogGroups[audit.LogGroupKey(region, n.LogGroup)] = g
	pol, _, _ := MergePolicy("", TopicStatements(topic, acct, region))
	bpol, _, _ := MergePolicy("", BucketStatements(n.Bucket, acct, region, n.Trail))
	return f, Extra{BucketExists: true, BucketPolicy: bpol, RoleExists: true, RoleTrust: TrustPolicy, RolePolicy: RolePolicy(acct, region, n.LogGroup),
		TopicExists: true, TopicPolicy: pol, TopicSubscriptions: []audit.Subscription{{ARN: topic + ":1", Protocol: "email", Endpoint: email}}, LogGroupExists: true}
}

func TestEmptyAccountPlan(t *testing.T) {
	cs := Make(emptyFacts(), Extra{}, opts(false))
	var order []string
	for _, c := range cs {
		order = append(order, strings.TrimPrefix(fmt.Sprintf("%T", c.Op), "plan."))
	}
	// The reference's order (§5.1): bucket and policy before the trail, log group and role before
	// the trail, StartLogging, the topic, its policy, the subscription, filter, alarm.
	want := "CreateBucket PutPublicAccessBlock PutBucketPolicy CreateLogGroup CreateRole PutRolePolicy CreateTrail StartLogging CreateTopic SetTopicPolicy Subscribe PutMetricFilter PutMetricAlarm"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, cs); err != nil {
		t.Fatal(err)
	}
	golden(t, "empty.plan.json", b.Bytes())
	b.Reset()
	if err := WriteTable(&b, cs); err != nil {
		t.Fatal(err)
	}
	golden(t, "empty.plan.txt", b.Bytes())
}

func TestSecondRunIsNoOp(t *testing.T) {
	for _, all := range []bool{false, true} {
		f, x := applied(all)
		cs := Make(f, x, opts(all))
		if p := Pending(cs); len(p) != 0 {
			t.Errorf("all=%v: second run plans %+v", all, p)
		}
		var b bytes.Buffer
		WriteJSON(&b, cs)
		if b.String() != "{\n  \"changes\": []\n}\n" {
			t.Errorf("JSON = %s", b.String())
		}
		b.Reset()
		WriteTable(&b, cs)
		if !strings.HasSuffix(b.String(), "nothing to do: everything is in place\n") {
			t.Errorf("table = %s", b.String())
		}
	}
}

func TestPlanDiffs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(f *audit.Facts, x *Extra)
		action Action
		detail string
	}{
		{"alarm with other actions is updated, actions kept", func(f *audit.Facts, x *Extra) {
			f.Alarms[0].Statistic = "Average"
			f.Alarms[0].AlarmActions = []string{"arn:aws:sns:eu-west-1:" + acct + ":pager"}
		}, Update, "actions [arn:aws:sns:eu-west-1:" + acct + ":pager] -> [arn:aws:sns:eu-west-1:" + acct + ":pager arn:aws:sns:eu-west-1:" + acct + ":trailwatch-alerts]"},
		{"filter of the same name with another pattern", func(f *audit.Facts, x *Extra) {
			g := f.LogGroups[audit.LogGroupKey(region, "trailwatch/cloudtrail")]
			g.Filters[0].Pattern = `{ $.userIdentity.type = "Root" }`
		}, Update, `pattern { $.userIdentity.type = "Root" } -> {$.userIdentity.type="Root"`},
		{"topic encrypted with aws/sns", func(f *audit.Facts, x *Extra) { x.TopicKMSMasterKey = "alias/aws/sns" }, Blocked, "alias/aws/sns"},
		{"trail not logging", func(f *audit.Facts, x *Extra) {
			f.Trails["arn:aws:cloudtrail:eu-west-1:"+acct+":trail/trailwatch"].Logging = false
		}, Update, "start logging"},
		{"trail without CloudWatch Logs", func(f *audit.Facts, x *Extra) {
			f.Trails["arn:aws:cloudtrail:eu-west-1:"+acct+":trail/trailwatch"].LogGroupARN = ""
		}, Update, "CloudWatchLogsLogGroupArn: none -> arn:aws:logs:eu-west-1:" + acct + ":log-group:trailwatch/cloudtrail:*"},
		{"custom selectors without management events", func(f *audit.Facts, x *Extra) {
			f.Trails["arn:aws:cloudtrail:eu-west-1:"+acct+":trail/trailwatch"].Selectors = &audit.Selectors{Custom: true, Basic: []audit.BasicSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}
		}, Blocked, "custom event selectors"},
		{"topic policy of someone else is merged", func(f *audit.Facts, x *Extra) {
			x.TopicPolicy = `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":"SNS:Publish","Resource":"t"}]}`
		}, Update, "other statements kept"},
		{"subscription for another address", func(f *audit.Facts, x *Extra) { x.TopicSubscriptions[0].Endpoint = "ops@example.com" }, Create, "email subscription sec@example.com"},
		{"role that does not trust CloudTrail", func(f *audit.Facts, x *Extra) {
			f.Trails["arn:aws:cloudtrail:eu-west-1:"+acct+":trail/trailwatch"].LogGroupARN = ""
			x.RoleTrust = `{"Statement":[{"Principal":{"Service":"ec2.amazonaws.com"}}]}`
		}, Blocked, "does not trust cloudtrail.amazonaws.com"},
		{"covered by an organization trail", func(f *audit.Facts, x *Extra) {
			*f = *emptyFacts()
			org := &audit.Trail{ARN: "arn:aws:cloudtrail:us-east-1:999988887777:trail/org", Name: "org", Owner: "999988887777", HomeRegion: "us-east-1", MultiRegion: true, Organization: true, LogGroupARN: "arn:aws:logs:us-east-1:999988887777:log-group:org:*", StatusKnown: true, Logging: true}
			f.Trails[org.ARN] = org
			f.Regions[0].TrailARNs = []string{org.ARN}
		}, OK, "covered by trail org of account 999988887777"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, x := applied(false)
			tc.mutate(f, &x)
			cs := Make(f, x, opts(false))
			for _, c := range cs {
				if c.Action == tc.action && strings.Contains(c.Detail, tc.detail) {
					return
				}
			}
			var b bytes.Buffer
			WriteTable(&b, cs)
			t.Errorf("no %s change with %q in:\n%s", tc.action, tc.detail, b.String())
		})
	}
}

// TestFilterUpdateKeepsItsMetric checks that rewriting a same-named filter's pattern keeps the
// metric the filter emits: PutMetricFilter replaces the whole filter, and the user's alarm on the
// old metric would otherwise never get another datapoint (apply must break nothing that works).
func TestFilterUpdateKeepsItsMetric(t *testing.T) {
	f, x := applied(false)
	g := f.LogGroups[audit.LogGroupKey(region, "trailwatch/cloudtrail")]
	g.Filters[0].Pattern = `{ $.userIdentity.type = "Root" }`
	g.Filters[0].Transformations = []audit.MetricTransformation{{MetricName: "RootLogins", Namespace: "CloudTrailMetrics", Value: "1"}}
	topic := "arn:aws:sns:eu-west-1:" + acct + ":trailwatch-alerts"
	f.Alarms[0] = audit.Alarm{Region: region, Name: "root-login", ARN: "arn:aws:cloudwatch:eu-west-1:" + acct + ":alarm:root-login", MetricName: "RootLogins", Namespace: "CloudTrailMetrics",
		Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching",
		ActionsEnabled: true, AlarmActions: []string{topic}, OKActions: []string{topic}}
	var put *PutMetricFilter
	for _, c := range Make(f, x, opts(false)) {
		switch op := c.Op.(type) {
		case PutMetricFilter:
			put = &op
		case PutMetricAlarm:
			t.Errorf("alarm %s planned, but the user's alarm on the filter's metric already does the job", op.Name)
		}
	}
	if put == nil {
		t.Fatal("the filter's pattern is not rewritten")
	}
	if put.MetricName != "RootLogins" || put.Namespace != "CloudTrailMetrics" {
		t.Errorf("the rewritten filter emits %s/%s, want the metric its alarm watches, CloudTrailMetrics/RootLogins", put.Namespace, put.MetricName)
	}
}

// TestAlarmOfTheSameNameOnAnotherMetricIsKept checks that an existing alarm with apply's alarm name
// but another metric is not overwritten: PutMetricAlarm would replace it whole (its metric and
// actions), and apply never deletes anything; the plan says why it stops instead.
func TestAlarmOfTheSameNameOnAnotherMetricIsKept(t *testing.T) {
	f, x := applied(false)
	f.Alarms[0].MetricName, f.Alarms[0].Namespace = "Errors", "MyApp"
	f.Alarms[0].AlarmActions = []string{"arn:aws:sns:eu-west-1:" + acct + ":pager"}
	cs := Make(f, x, opts(false))
	blocked := false
	for _, c := range cs {
		if op, ok := c.Op.(PutMetricAlarm); ok && op.Name == f.Alarms[0].Name {
			t.Errorf("plan overwrites alarm %s, which watches MyApp/Errors: %s", op.Name, c.Detail)
		}
		if c.Action == Blocked && strings.Contains(c.Detail, "already exists on MyApp/Errors") {
			blocked = true
		}
	}
	if !blocked {
		t.Error("the plan does not say why the alarm is not written")
	}
}

func TestMergePolicy(t *testing.T) {
	existing := `{"Version":"2012-10-17","Statement":{"Sid":"Other","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::b"}}`
	stmts := BucketStatements("b", acct, region, "trailwatch")
	merged, changed, err := MergePolicy(existing, stmts)
	if err != nil || !changed {
		t.Fatalf("merge: %v %v", changed, err)
	}
	var doc struct{ Statement []map[string]any }
	json.Unmarshal([]byte(merged), &doc)
	if len(doc.Statement) != 3 || doc.Statement[0]["Sid"] != "Other" {
		t.Errorf("merged = %s", merged)
	}
	if _, changed, _ := MergePolicy(merged, stmts); changed {
		t.Error("merging twice changed the policy")
	}
	// A statement with our Sid but other content is replaced, not duplicated.
	stale := strings.Replace(merged, "bucket-owner-full-control", "private", 1)
	again, changed, _ := MergePolicy(stale, stmts)
	json.Unmarshal([]byte(again), &doc)
	if !changed || len(doc.Statement) != 3 || !strings.Contains(again, "bucket-owner-full-control") {
		t.Errorf("replace: %v %s", changed, again)
	}
	if _, _, err := MergePolicy("{not json", stmts); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestRolePolicyKeepsTheSidTypo(t *testing.T) {
	if !strings.Contains(RolePolicy(acct, region, "g"), `"AWSCloudTrailCreateLogStream2014110"`) {
		t.Error("the default role's Sid (CTUG, one digit short) was changed")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestDeliverTo(t *testing.T) {
	f, x := applied(false)
	o := opts(false)
	o.DeliverTo, o.DeliverKey = "https://trailwatch.example.com/", "s3cret"
	var got []string
	for _, c := range Pending(Make(f, x, o)) {
		got = append(got, fmt.Sprintf("%s %T", c.Action, c.Op))
		if strings.Contains(c.Detail, "s3cret") {
			t.Errorf("the API key is shown: %s", c.Detail)
		}
	}
	want := "create plan.CreateConnection create plan.PutAPIDestination create plan.CreateRole update plan.PutRolePolicy create plan.PutRule create plan.PutTarget"
	if strings.Join(got, " ") != want {
		t.Errorf("changes:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	dest := "arn:aws:events:eu-west-1:" + acct + ":api-destination/trailwatch/0d4e1a7c"
	x.Delivery = Delivery{ConnectionExists: true, ConnectionKeyName: DeliveryKeyHeader, DestinationExists: true, DestinationURL: "https://trailwatch.example.com/ingest/eventbridge",
		DestinationARN: dest, RuleExists: true, RuleEnabled: true, RulePattern: `{"detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"]}`,
		TargetDestinations: []string{dest}, RoleExists: true, RolePolicy: DeliveryRolePolicy(acct, region)}
	if p := Pending(Make(f, x, o)); len(p) != 0 {
		t.Errorf("in place, still plans %+v", p)
	}
	x.Delivery.DestinationURL = "https://old.example.com/ingest/eventbridge"
	p := Pending(Make(f, x, o))
	if len(p) != 1 || p[0].Action != Update || !strings.Contains(p[0].Detail, "https://old.example.com/ingest/eventbridge -> https://trailwatch.example.com/ingest/eventbridge") {
		t.Errorf("moved endpoint: %+v", p)
	}
}

// FuzzMergePolicy: whatever policy an account holds, a merge either refuses it or returns valid JSON
// that keeps every statement without our Sids and that a second merge leaves unchanged.
func FuzzMergePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow"}]}`)
	f.Add(`{"Statement":{"Sid":"AWSCloudTrailWrite20150319"}}`)
	f.Add(``)
	f.Add(`null`) // once a panic: json.Unmarshal makes the map nil
	f.Fuzz(func(t *testing.T, existing string) {
		stmts := BucketStatements("b", acct, region, "trailwatch")
		merged, _, err := MergePolicy(existing, stmts)
		if err != nil {
			return
		}
		if !json.Valid([]byte(merged)) {
			t.Fatalf("invalid JSON %s", merged)
		}
		if _, changed, err := MergePolicy(merged, stmts); err != nil || changed {
			t.Fatalf("second merge of %s: changed=%v err=%v", merged, changed, err)
		}
	})
}
