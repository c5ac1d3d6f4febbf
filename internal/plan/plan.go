// Package plan computes what `trailwatch apply` must create or change in one account so that its
// root-login alert chain passes `trailwatch audit`: a pure diff over the same facts the audit reads
// (plus the few that only apply needs), so that `--plan` prints exactly what apply then does, and a
// second apply, finding everything in place, plans nothing.
//
// The order and the policies are the reference's (audit-and-apply.md §5.1-5.2): bucket and bucket
// policy before CreateTrail, log group and delivery role before the trail, StartLogging, the topic
// and its policy, the subscription, then filters and alarms. Nothing is ever deleted, and policies
// are merged by Sid, never replaced.
package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/trailwatch/trailwatch/internal/audit"
)

// Action is what a change does.
type Action string

// The actions of a plan. OK items are shown by the table output and left out of the JSON changes.
const (
	Create  Action = "create"
	Update  Action = "update"
	OK      Action = "ok"
	Blocked Action = "blocked"
)

// Change is one step of a plan. Its JSON shape (without Op) is the contract of
// `trailwatch apply --plan --format json`.
type Change struct {
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	Action    Action `json:"action"`
	Resource  string `json:"resource"`
	Detail    string `json:"detail"`
	// Op is the call that makes the change; nil for OK and Blocked.
	Op Op `json:"-"`
}

// Op is one AWS call of a plan; the executor switches on the concrete type.
type Op interface{ op() }

// The calls a plan makes, one type per AWS operation.
type (
	// CreateBucket is s3:CreateBucket (LocationConstraint outside us-east-1).
	CreateBucket struct{ Bucket, Region string }
	// PutPublicAccessBlock blocks all public access to the trail's bucket.
	PutPublicAccessBlock struct{ Bucket string }
	// PutBucketPolicy writes a merged bucket policy.
	PutBucketPolicy struct{ Bucket, Policy string }
	// CreateLogGroup is logs:CreateLogGroup followed by PutRetentionPolicy.
	CreateLogGroup struct {
		Name          string
		RetentionDays int32
	}
	// CreateRole is iam:CreateRole with a trust policy.
	CreateRole struct{ Name, Trust string }
	// PutRolePolicy writes the role's inline policy.
	PutRolePolicy struct{ Role, Name, Policy string }
	// CreateTrail creates the multi-Region trail (or updates it when it exists: UpdateTrail with
	// both CloudWatch Logs fields).
	CreateTrail struct {
		Name, Bucket, LogGroupARN, RoleARN string
		Update                             bool
	}
	// StartLogging starts a trail: API-created trails do not log until started.
	StartLogging struct{ Trail string }
	// CreateTopic is sns:CreateTopic (same name, same ARN).
	CreateTopic struct{ Name string }
	// SetTopicPolicy writes a merged topic policy.
	SetTopicPolicy struct{ TopicARN, Policy string }
	// Subscribe subscribes an email address.
	Subscribe struct{ TopicARN, Email string }
	// PutMetricFilter creates or overwrites a metric filter.
	PutMetricFilter struct{ LogGroup, Name, Pattern, MetricName, Namespace string }
	// PutMetricAlarm creates or overwrites an alarm: Sum >= 1 over 5 minutes, missing data not
	// breaching, ALARM and OK actions.
	PutMetricAlarm struct {
		Name, MetricName, Namespace string
		Actions, OKActions          []string
	}
)

func (CreateBucket) op()         {}
func (PutPublicAccessBlock) op() {}
func (PutBucketPolicy) op()      {}
func (CreateLogGroup) op()       {}
func (CreateRole) op()           {}
func (PutRolePolicy) op()        {}
func (CreateTrail) op()          {}
func (StartLogging) op()         {}
func (CreateTopic) op()          {}
func (SetTopicPolicy) op()       {}
func (Subscribe) op()            {}
func (PutMetricFilter) op()      {}
func (PutMetricAlarm) op()       {}

// Names are the resources apply creates when the account has none of its own.
type Names struct {
	Bucket, Trail, LogGroup, Role, RolePolicy, Topic string
}

// DefaultNames returns the names apply uses in account in region.
func DefaultNames(account, region string) Names {
	return Names{
		Bucket:     "trailwatch-cloudtrail-" + account + "-" + region,
		Trail:      "trailwatch",
		LogGroup:   "trailwatch/cloudtrail",
		Role:       "trailwatch-cloudtrail-logs",
		RolePolicy: "cloudtrail-to-cloudwatch-logs",
		Topic:      "trailwatch-alerts",
	}
}

// Extra are the facts only apply needs, read for Names.
type Extra struct {
	// BucketExists and BucketPolicy are Names.Bucket's (HeadBucket, GetBucketPolicy).
	BucketExists bool
	BucketPolicy string
	// RoleExists, RoleTrust and RolePolicy are Names.Role's and its Names.RolePolicy inline
	// policy, URL-decoded.
	RoleExists bool
	RoleTrust  string
	RolePolicy string
	// Topic* are Names.Topic's attributes and subscriptions.
	TopicExists        bool
	TopicPolicy        string
	TopicKMSMasterKey  string
	TopicSubscriptions []audit.Subscription
	// LogGroupExists is Names.LogGroup's existence (the audit facts hold only trails' groups).
	LogGroupExists bool
	// Delivery is read only with Options.DeliverTo.
	Delivery Delivery
}

// Options say what apply installs.
type Options struct {
	// Region is the home Region: the trail, log group, filters, alarms and topic live there.
	Region string
	// Email is the address subscribed to the topic.
	Email string
	// AllCIS installs all 14 CIS filters and alarms, not only the root-usage one.
	AllCIS bool
	Names  Names
	// DeliverTo, when set, is the base URL of a trailwatch server that an EventBridge API
	// destination posts the account's CloudTrail events to; DeliverKey is its API key.
	DeliverTo, DeliverKey string
}

// RetentionDays is the retention of a created log group: Security Hub CloudWatch.16 wants at least
// a year.
const RetentionDays = 365

// Make returns the plan for one account.
func Make(f *audit.Facts, x Extra, o Options) []Change {
	p := &planner{f: f, x: x, o: o}
	p.make()
	return p.out
}

type planner struct {
	f   *audit.Facts
	x   Extra
	o   Options
	out []Change
}

func (p *planner) add(a Action, resource, detail string, op Op) {
	p.out = append(p.out, Change{AccountID: p.f.AccountID, Region: p.o.Region, Action: a, Resource: resource, Detail: detail, Op: op})
}

// arn is the ARN of a resource of service in the account and home Region (S3 and IAM ARNs have
// neither Region nor, for S3, account).
func (p *planner) arn(service, resource string) string {
	switch service {
	case "s3":
		return "arn:aws:s3:::" + resource
	case "iam":
		return "arn:aws:iam::" + p.f.AccountID + ":" + resource
	}
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, p.o.Region, p.f.AccountID, resource)
}

// trailState finds the trail to build on: the account's own multi-Region trail homed in the Region
// (ours by name first), or an organization trail of another account that already covers it.
func (p *planner) trailState() (own *audit.Trail, coveredBy *audit.Trail) {
	var candidates []*audit.Trail
	for _, r := range p.f.Regions {
		if r.Region != p.o.Region {
			continue
		}
		for _, arn := range r.TrailARNs {
			if t := p.f.Trails[arn]; t != nil {
				candidates = append(candidates, t)
			}
		}
	}
	for _, t := range candidates {
		if t.Owner == p.f.AccountID && t.HomeRegion == p.o.Region && t.Name == p.o.Names.Trail {
			own = t
		}
	}
	for _, t := range candidates {
		if own == nil && t.Owner == p.f.AccountID && t.HomeRegion == p.o.Region && t.MultiRegion && t.LogGroupARN != "" {
			own = t
		}
		if t.Owner != p.f.AccountID && t.MultiRegion && t.LogGroupARN != "" && t.Logging {
			coveredBy = t
		}
	}
	return own, coveredBy
}

func (p *planner) make() {
	own, covered := p.trailState()
	if own == nil && covered != nil {
		p.add(OK, covered.ARN, fmt.Sprintf("covered by trail %s of account %s: its filters and alarms belong in that account (run apply there)", covered.Name, covered.Owner), nil)
		if p.o.DeliverTo != "" {
			p.deliver()
		}
		return
	}
	group := p.o.Names.LogGroup
	if own != nil && own.LogGroupARN != "" {
		if _, _, name, ok := audit.LogGroupFromARN(own.LogGroupARN); ok {
			group = name
		}
	}
	p.trail(own, group)
	topic := p.topic()
	controls := audit.Controls()
	if !p.o.AllCIS {
		controls = controls[:1]
	}
	for _, c := range controls {
		p.control(c, group, topic)
	}
	if p.o.DeliverTo != "" {
		p.deliver()
	}
}

func (p *planner) trail(own *audit.Trail, group string) {
	n := p.o.Names
	groupARN := p.arn("logs", "log-group:"+group+":*")
	roleARN := p.arn("iam", "role/"+n.Role)
	needsTrail := own == nil
	needsCWL := own == nil || own.LogGroupARN == ""
	if needsTrail {
		p.bucket()
	}
	if needsCWL || !p.groupExists(group) {
		if p.groupExists(group) {
			p.add(OK, groupARN, "log group exists", nil)
		} else {
			p.add(Create, groupARN, fmt.Sprintf("log group %s, retention %d days", group, RetentionDays), CreateLogGroup{Name: group, RetentionDays: RetentionDays})
		}
	}
	if needsCWL {
		p.role(group)
	}
	trailName := n.Trail
	if own != nil {
		trailName = own.Name
	}
	trailARN := p.arn("cloudtrail", "trail/"+trailName)
	switch {
	case needsTrail:
		p.add(Create, trailARN, fmt.Sprintf("multi-Region trail %s to s3://%s and log group %s (role %s)", trailName, n.Bucket, group, n.Role), CreateTrail{Name: trailName, Bucket: n.Bucket, LogGroupARN: groupARN, RoleARN: roleARN})
	case needsCWL || !own.MultiRegion:
		var what []string
		if !own.MultiRegion {
			what = append(what, "IsMultiRegionTrail: false -> true")
		}
		if needsCWL {
			what = append(what, "CloudWatchLogsLogGroupArn: none -> "+groupARN)
		}
		role := own.RoleARN
		if needsCWL {
			role = roleARN
		}
		p.add(Update, trailARN, strings.Join(what, "; "), CreateTrail{Name: trailName, Bucket: own.S3Bucket, LogGroupARN: firstNonEmpty(own.LogGroupARN, groupARN), RoleARN: role, Update: true})
	default:
		p.add(OK, trailARN, "multi-Region trail delivering to "+group, nil)
	}
	if own != nil && own.Selectors != nil {
		if all, _ := own.Selectors.ManagementCoverage(); !all {
			// PutEventSelectors replaces every selector, data selectors included; apply does not
			// rewrite what it cannot read back whole.
			p.add(Blocked, trailARN, "the trail's custom event selectors do not record all read and write management events; add a selector with ReadWriteType All and IncludeManagementEvents true (aws cloudtrail put-event-selectors) keeping your data selectors", nil)
		}
	}
	if own == nil || !own.Logging {
		p.add(Update, trailARN, "start logging", StartLogging{Trail: trailName})
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (p *planner) groupExists(name string) bool {
	if g := p.f.LogGroups[audit.LogGroupKey(p.o.Region, name)]; g != nil && g.Exists {
		return true
	}
	return p.x.LogGroupExists && name == p.o.Names.LogGroup
}

func (p *planner) bucket() {
	n := p.o.Names
	res := p.arn("s3", n.Bucket)
	if !p.x.BucketExists {
		p.add(Create, res, "S3 bucket for the trail's log files, all public access blocked", CreateBucket{Bucket: n.Bucket, Region: p.o.Region})
		p.add(Create, res, "public access block", PutPublicAccessBlock{Bucket: n.Bucket})
	}
	merged, changed, err := MergePolicy(p.x.BucketPolicy, BucketStatements(n.Bucket, p.f.AccountID, p.o.Region, n.Trail))
	switch {
	case err != nil:
		p.add(Blocked, res, "bucket policy cannot be read: "+err.Error(), nil)
	case changed:
		p.add(Update, res, "bucket policy: add CloudTrail's AWSCloudTrailAclCheck20150319 and AWSCloudTrailWrite20150319 statements (others kept)", PutBucketPolicy{Bucket: n.Bucket, Policy: merged})
	default:
		p.add(OK, res, "bucket policy lets CloudTrail write", nil)
	}
}

func (p *planner) role(group string) {
	n := p.o.Names
	res := p.arn("iam", "role/"+n.Role)
	if !p.x.RoleExists {
		p.add(Create, res, "role CloudTrail assumes to write to CloudWatch Logs", CreateRole{Name: n.Role, Trust: TrustPolicy})
	} else if !strings.Contains(p.x.RoleTrust, "cloudtrail.amazonaws.com") {
		p.add(Blocked, res, "role exists but does not trust cloudtrail.amazonaws.com; fix its trust policy or pass another role", nil)
		return
	}
	want := RolePolicy(p.f.AccountID, p.o.Region, group)
	if p.x.RolePolicy != "" && samePolicy(p.x.RolePolicy, want) {
		p.add(OK, res, "role policy allows CreateLogStream and PutLogEvents", nil)
		return
	}
	p.add(Update, res, "inline policy "+n.RolePolicy+": logs:CreateLogStream and logs:PutLogEvents on "+group, PutRolePolicy{Role: n.Role, Name: n.RolePolicy, Policy: want})
}

// topic plans the topic, its policy and the subscription, and returns the topic ARN.
func (p *planner) topic() string {
	n := p.o.Names
	arn := p.arn("sns", n.Topic)
	if !p.x.TopicExists {
		p.add(Create, arn, "SNS topic for the alarms (unencrypted: the AWS-managed key would stop CloudWatch from publishing)", CreateTopic{Name: n.Topic})
	} else if k := p.x.TopicKMSMasterKey; k == "alias/aws/sns" || strings.HasSuffix(k, ":alias/aws/sns") {
		p.add(Blocked, arn, "topic is encrypted with alias/aws/sns, which CloudWatch cannot use; set a customer managed key or remove encryption", nil)
	} else {
		p.add(OK, arn, "topic exists", nil)
	}
	merged, changed, err := MergePolicy(p.x.TopicPolicy, TopicStatements(arn, p.f.AccountID, p.o.Region))
	switch {
	case err != nil:
		p.add(Blocked, arn, "topic policy cannot be read: "+err.Error(), nil)
	case changed:
		p.add(Update, arn, "topic policy: add AllowCloudWatchAlarms (cloudwatch.amazonaws.com may publish for this account's alarms; other statements kept)", SetTopicPolicy{TopicARN: arn, Policy: merged})
	default:
		p.add(OK, arn, "topic policy lets CloudWatch publish", nil)
	}
	found := false
	for _, s := range p.x.TopicSubscriptions {
		if s.Protocol == "email" && strings.EqualFold(s.Endpoint, p.o.Email) {
			found = true
			state := "confirmed"
			if s.Pending() {
				state = "pending confirmation: follow the link in the email"
			}
			p.add(OK, arn, "email subscription "+p.o.Email+" "+state, nil)
		}
	}
	if !found {
		p.add(Create, arn, "email subscription "+p.o.Email+" (AWS sends a confirmation link)", Subscribe{TopicARN: arn, Email: p.o.Email})
	}
	return arn
}

// control plans one CIS filter and its alarm on group.
func (p *planner) control(c audit.Control, group, topic string) {
	var g *audit.LogGroup
	if lg := p.f.LogGroups[audit.LogGroupKey(p.o.Region, group)]; lg != nil && lg.Exists {
		g = lg
	}
	metric, ns := c.Metric, audit.Namespace
	filterRes := p.arn("logs", "log-group:"+group+":metric-filter:"+c.Metric)
	var existing *audit.MetricFilter
	if g != nil {
		for i, mf := range g.Filters {
			if c.Compare(mf.Pattern).SecurityHubAccepts() && len(mf.Transformations) > 0 {
				existing = &g.Filters[i]
				break
			}
		}
	}
	if existing != nil {
		metric, ns = existing.Transformations[0].MetricName, existing.Transformations[0].Namespace
		p.add(OK, p.arn("logs", "log-group:"+group+":metric-filter:"+existing.Name), fmt.Sprintf("%s filter %s (%s/%s)", c.ID, existing.Name, ns, metric), nil)
	} else {
		detail := fmt.Sprintf("%s filter %s: %s -> %s/%s value 1", c.ID, c.Metric, c.Pattern, ns, metric)
		a := Create
		if g != nil {
			for _, mf := range g.Filters {
				if mf.Name == c.Metric {
					// PutMetricFilter replaces the filter whole: keep the metric it emits, or the
					// alarms already watching that metric would never get another datapoint.
					if len(mf.Transformations) > 0 && mf.Transformations[0].MetricName != "" {
						metric, ns = mf.Transformations[0].MetricName, mf.Transformations[0].Namespace
					}
					a, detail = Update, fmt.Sprintf("%s filter %s: pattern %s -> %s (still %s/%s)", c.ID, c.Metric, mf.Pattern, c.Pattern, ns, metric)
				}
			}
		}
		p.add(a, filterRes, detail, PutMetricFilter{LogGroup: group, Name: c.Metric, Pattern: c.Pattern, MetricName: metric, Namespace: ns})
	}
	// The alarm: an existing alarm on the metric that fires and notifies the topic is kept;
	// otherwise ours is written, keeping the actions it already has.
	name := c.Alarm
	var current *audit.Alarm
	for i, a := range p.f.Alarms {
		if a.Region != p.o.Region || a.MetricName != metric || a.Namespace != ns {
			continue
		}
		if a.Name == name {
			current = &p.f.Alarms[i]
		}
		if good(a, topic) {
			p.add(OK, a.ARN, fmt.Sprintf("alarm %s: Sum >= 1 over 5 minutes, ALARM and OK actions to %s", a.Name, topic), nil)
			return
		}
	}
	want := PutMetricAlarm{Name: name, MetricName: metric, Namespace: ns, Actions: []string{topic}, OKActions: []string{topic}}
	alarmARN := p.arn("cloudwatch", "alarm:"+name)
	if current == nil {
		// PutMetricAlarm overwrites an alarm of the same name whole: one that watches another
		// metric is somebody's alarm, which apply must not replace (it never deletes anything).
		for _, a := range p.f.Alarms {
			if a.Region == p.o.Region && a.Name == name {
				p.add(Blocked, alarmARN, fmt.Sprintf("alarm %s already exists on %s/%s, not on the filter's metric %s/%s; rename it or point it at %s/%s", name, a.Namespace, a.MetricName, ns, metric, ns, metric), nil)
				return
			}
		}
		p.add(Create, alarmARN, fmt.Sprintf("alarm %s on %s/%s: Sum >= 1 over 5 minutes, missing data not breaching, ALARM and OK actions to %s", name, ns, metric, topic), want)
		return
	}
	want.Actions = union(current.AlarmActions, topic)
	want.OKActions = union(current.OKActions, topic)
	p.add(Update, alarmARN, fmt.Sprintf("alarm %s: %s %s %g over %ds, %d period(s), missing data %s -> Sum >= 1 over 300s, 1 period, notBreaching; actions %v -> %v", name, current.Statistic, current.ComparisonOperator, current.Threshold, current.Period, current.EvaluationPeriods, firstNonEmpty(current.TreatMissingData, "missing"), current.AlarmActions, want.Actions), want)
}

// good says whether an alarm is what apply would write (actions may hold more than the topic).
func good(a audit.Alarm, topic string) bool {
	return a.ActionsEnabled && a.Statistic == "Sum" && a.Period == 300 && a.Threshold == 1 &&
		a.ComparisonOperator == "GreaterThanOrEqualToThreshold" && a.EvaluationPeriods == 1 &&
		a.TreatMissingData == "notBreaching" && a.Dimensions == 0 &&
		slices.Contains(a.AlarmActions, topic) && slices.Contains(a.OKActions, topic)
}

func union(have []string, add string) []string {
	out := slices.Clone(have)
	if !slices.Contains(out, add) {
		out = append(out, add)
	}
	return out
}

func samePolicy(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
