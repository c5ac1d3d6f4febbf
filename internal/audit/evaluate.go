package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Options tune the checks that need a threshold.
type Options struct {
	// RecentRootUse is how far back a root password or key use counts as recent (default 90 days,
	// the reference's [design] suggestion; Prowler uses 1 day).
	RecentRootUse time.Duration
	// QuietLogGroup is how long a trail's log group may go without events before
	// trailwatch.log-group-events warns (default 24 hours: CloudTrail delivers about every 5 minutes).
	QuietLogGroup time.Duration
	// Email is put into remediations that name `trailwatch apply` (default ADDRESS).
	Email string
}

func (o Options) withDefaults() Options {
	if o.RecentRootUse <= 0 {
		o.RecentRootUse = 90 * 24 * time.Hour
	}
	if o.QuietLogGroup <= 0 {
		o.QuietLogGroup = 24 * time.Hour
	}
	if o.Email == "" {
		o.Email = "ADDRESS"
	}
	return o
}

// Evaluate runs every check over f and returns the findings, sorted.
func Evaluate(f *Facts, opts Options) []Finding {
	opts = opts.withDefaults()
	e := &evaluator{f: f, opts: opts, controls: Controls()}
	if f.Unreachable != "" {
		e.add(GlobalRegion, "trailwatch.account-access", Fail, "arn:aws:iam::"+f.AccountID+":root", f.Unreachable,
			"Create the audit role in the account (it is missing from accounts invited into the organization) and let the management account assume it; see the README's IAM policy")
		Sort(e.out)
		return e.out
	}
	for _, p := range f.Problems {
		e.add(p.Region, "trailwatch.read-access", Warning, p.Resource, "could not read: "+p.Err,
			"Grant the audit policy in the README (SecurityAudit covers most reads)")
	}
	e.rootChecks()
	for _, r := range f.Regions {
		for _, c := range e.controls {
			e.securityHub(r, c)
		}
		e.rootChain(r)
	}
	e.chainChecks()
	Sort(e.out)
	return e.out
}

type evaluator struct {
	f        *Facts
	opts     Options
	controls []Control
	out      []Finding
}

func (e *evaluator) add(region, check string, st Status, resource, reason, remediation string) {
	if st == Pass {
		remediation = ""
	}
	e.out = append(e.out, Finding{AccountID: e.f.AccountID, Region: region, CheckID: check, Status: st, Resource: resource, Reason: reason, Remediation: remediation})
}

func (e *evaluator) accountResource() string { return "AWS::::Account:" + e.f.AccountID }

func (e *evaluator) applyCmd(region string, cis bool) string {
	s := "trailwatch apply --email " + e.opts.Email + " --regions " + region
	if cis {
		s += " --cis all"
	}
	return s
}

// trailDefects lists why a trail does not count for Security Hub's CloudWatch.x checks (empty: it
// counts). CloudWatch.7 also needs kms.amazonaws.com not excluded (SH23).
//
// Another account's trail (an organization trail seen from a member) is Security Hub's NO_DATA:
// it is evaluated in its owner's account (SH25). Its status and selectors may not be readable from
// here, and not knowing them is then no defect of this account: the failed read is reported
// (trailwatch.read-access), and the trail still leads to NO_DATA rather than to a FAIL saying no
// multi-Region trail exists.
func (e *evaluator) trailDefects(t *Trail, control string) []string {
	foreign := t.Owner != e.f.AccountID
	var d []string
	if !t.MultiRegion {
		d = append(d, "is not multi-Region")
	}
	if t.LogGroupARN == "" {
		d = append(d, "sends no events to CloudWatch Logs")
	}
	switch {
	case !t.StatusKnown && foreign:
	case !t.StatusKnown:
		d = append(d, "has an unknown logging status")
	case !t.Logging:
		d = append(d, "is not logging")
	}
	all, excluded := t.Selectors.ManagementCoverage()
	switch {
	case t.Selectors == nil && foreign:
	case t.Selectors == nil:
		d = append(d, "has unknown event selectors")
	case !all:
		d = append(d, "does not record all read and write management events")
	case control == "CloudWatch.7" && slices.Contains(excluded, "kms.amazonaws.com"):
		d = append(d, "excludes kms.amazonaws.com management events")
	}
	return d
}

func (e *evaluator) trailsIn(r RegionTrails) []*Trail {
	var ts []*Trail
	for _, arn := range r.TrailARNs {
		if t := e.f.Trails[arn]; t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// outcome is how far one path through the chain got.
type outcome struct {
	status   Status
	depth    int
	code     string
	resource string
	reason   string
	fix      string
}

// better returns the outcome that counts: a PASS, else a WARNING, else the FAIL that got furthest
// along the chain (its reason names the first missing link).
func better(a, b outcome) outcome {
	if a.status == Pass {
		return a
	}
	if b.status == Pass {
		return b
	}
	// WARNING beats FAIL; among equals, the path that got further.
	if (b.status == Warning) != (a.status == Warning) {
		if b.status == Warning {
			return b
		}
		return a
	}
	if b.depth > a.depth {
		return b
	}
	return a
}

// securityHub decides CloudWatch.x in one Region as Security Hub does (reference §2.2).
func (e *evaluator) securityHub(r RegionTrails, c Control) {
	var qualifying, local []*Trail
	var nearMiss []string
	for _, t := range e.trailsIn(r) {
		if d := e.trailDefects(t, c.ID); len(d) > 0 {
			nearMiss = append(nearMiss, fmt.Sprintf("trail %s %s", t.Name, strings.Join(d, ", ")))
			continue
		}
		qualifying = append(qualifying, t)
		if t.Owner == e.f.AccountID && t.HomeRegion == r.Region {
			local = append(local, t)
		}
	}
	if len(qualifying) == 0 {
		reason := "CLOUDTRAIL_MULTI_REGION_NOT_PRESENT: no multi-Region trail logging all read and write management events to CloudWatch Logs"
		if len(nearMiss) > 0 {
			reason += " (" + strings.Join(nearMiss, "; ") + ")"
		}
		e.add(r.Region, c.ID, Fail, e.accountResource(), reason, e.applyCmd(r.Region, c.ID != RootControl))
		return
	}
	if len(local) == 0 {
		t := qualifying[0]
		e.add(r.Region, c.ID, NoData, t.ARN, fmt.Sprintf("the multi-Region trail %s is homed in %s of account %s; Security Hub evaluates it there, not here", t.Name, t.HomeRegion, t.Owner), "")
		return
	}
	best := outcome{status: Fail, depth: -1}
	for _, t := range local {
		best = better(best, e.trailPath(t, c))
		if best.status == Pass {
			break
		}
	}
	e.add(r.Region, c.ID, best.status, best.resource, best.code+": "+best.reason, best.fix)
}

// trailPath follows one trail's chain for control c with Security Hub's rules.
func (e *evaluator) trailPath(t *Trail, c Control) outcome {
	region, _, name, _ := LogGroupFromARN(t.LogGroupARN)
	g := e.f.LogGroups[LogGroupKey(region, name)]
	fixFilter := fmt.Sprintf("aws logs put-metric-filter --region %s --log-group-name %s --filter-name %s --metric-transformations metricName=%s,metricNamespace=%s,metricValue=1 --filter-pattern '%s'", region, name, c.Metric, c.Metric, Namespace, c.Pattern)
	if g == nil || !g.Exists {
		return outcome{Fail, 1, "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT", t.LogGroupARN, fmt.Sprintf("the log group %s of trail %s does not exist", name, t.Name), e.applyCmd(region, c.ID != RootControl)}
	}
	if len(g.Filters) == 0 {
		return outcome{Fail, 1, "CLOUDTRAIL_METRIC_FILTERS_NOT_PRESENT", t.LogGroupARN, fmt.Sprintf("the log group %s has no metric filters", name), fixFilter}
	}
	var accepted []MetricFilter
	var near []string
	for _, mf := range g.Filters {
		m := c.Compare(mf.Pattern)
		if m.SecurityHubAccepts() {
			accepted = append(accepted, mf)
		} else if m.Fires() {
			near = append(near, fmt.Sprintf("filter %s is %s: it fires, but Security Hub wants the exact text", mf.Name, m))
		}
	}
	if len(accepted) == 0 {
		reason := fmt.Sprintf("no metric filter on %s has the CIS pattern for %s", name, c.Title)
		if len(near) > 0 {
			reason += " (" + strings.Join(near, "; ") + ")"
		}
		return outcome{Fail, 2, "CLOUDTRAIL_METRIC_FILTER_NOT_VALID", t.LogGroupARN, reason, fixFilter}
	}
	best := outcome{status: Fail, depth: -1}
	for _, mf := range accepted {
		for _, tr := range mf.Transformations {
			best = better(best, e.filterPath(region, mf, tr, c))
		}
	}
	if best.depth < 0 {
		return outcome{Fail, 3, "CLOUDWATCH_ALARMS_NOT_PRESENT", t.LogGroupARN, "the filter emits no metric", fixFilter}
	}
	return best
}

func (e *evaluator) alarmsOn(region string, tr MetricTransformation) []Alarm {
	var as []Alarm
	for _, a := range e.f.Alarms {
		if a.Region == region && a.MetricName == tr.MetricName && a.Namespace == tr.Namespace {
			as = append(as, a)
		}
	}
	return as
}

func (e *evaluator) putAlarmCmd(region, name string, tr MetricTransformation, topic string) string {
	if topic == "" {
		topic = "TOPIC_ARN"
	}
	return fmt.Sprintf("aws cloudwatch put-metric-alarm --region %s --alarm-name %s --metric-name %s --namespace %s --statistic Sum --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 --treat-missing-data notBreaching --alarm-actions %s --ok-actions %s", region, name, tr.MetricName, tr.Namespace, topic, topic)
}

func (e *evaluator) filterPath(region string, mf MetricFilter, tr MetricTransformation, c Control) outcome {
	metric := fmt.Sprintf("metric %s/%s", tr.Namespace, tr.MetricName)
	alarms := e.alarmsOn(region, tr)
	if len(alarms) == 0 {
		return outcome{Fail, 3, "CLOUDWATCH_ALARMS_NOT_PRESENT", fmt.Sprintf("arn:aws:logs:%s:%s:metric-filter:%s", region, e.f.AccountID, mf.Name), "no alarm watches the filter's " + metric, e.putAlarmCmd(region, c.Alarm, tr, "")}
	}
	best := outcome{status: Fail, depth: -1}
	for _, a := range alarms {
		topics := snsActions(a.AlarmActions)
		if !a.ActionsEnabled || len(topics) == 0 {
			why := "has no SNS alarm action"
			if !a.ActionsEnabled {
				why = "has its actions disabled"
			}
			best = better(best, outcome{Fail, 4, "CLOUDWATCH_ALARM_ACTIONS_NOT_VALID", a.ARN, fmt.Sprintf("alarm %s on %s %s", a.Name, metric, why), e.putAlarmCmd(region, a.Name, tr, "")})
			continue
		}
		for _, arn := range topics {
			best = better(best, e.topicPath(a, arn))
		}
	}
	return best
}

func snsActions(actions []string) []string {
	var out []string
	for _, a := range actions {
		if _, _, ok := TopicRegionAccount(a); ok {
			out = append(out, a)
		}
	}
	return out
}

// topicPath decides the SNS end of a chain with Security Hub's rules. Decision (reference open
// question 4): a subscription pending confirmation does not count as a subscriber. CIS's audit wants
// "at least one subscription … with valid aws ARN", and a pending one has the ARN
// "PendingConfirmation"; nobody receives the email until it is confirmed.
func (e *evaluator) topicPath(a Alarm, arn string) outcome {
	region, account, _ := TopicRegionAccount(arn)
	sub := fmt.Sprintf("aws sns subscribe --region %s --topic-arn %s --protocol email --notification-endpoint %s", region, arn, e.opts.Email)
	if account != e.f.AccountID {
		code := "SNS_TOPIC_CROSS_ACCOUNT"
		if region != a.Region {
			code = "SNS_TOPIC_CROSS_ACCOUNT_CROSS_REGION"
		}
		return outcome{Warning, 5, code, arn, fmt.Sprintf("alarm %s notifies topic %s of account %s, whose subscriptions Security Hub cannot check", a.Name, arn, account), "Check the subscriptions in account " + account}
	}
	t := e.f.Topics[arn]
	switch {
	case t == nil || (t.Exists && t.ListErr != ""):
		why := "was not read"
		if t != nil {
			why = t.ListErr
		}
		return outcome{Warning, 5, "SNS_TOPIC_INVALID", arn, fmt.Sprintf("the subscriptions of topic %s cannot be listed: %s", arn, why), "Grant sns:ListSubscriptionsByTopic on " + arn}
	case !t.Exists:
		return outcome{Fail, 5, "SNS_TOPIC_INVALID", arn, fmt.Sprintf("alarm %s notifies topic %s, which does not exist", a.Name, arn), e.applyCmd(a.Region, false)}
	}
	confirmed, pending := t.subscriptionCounts()
	if confirmed == 0 {
		why := "has no subscriptions"
		if pending > 0 {
			why = fmt.Sprintf("has only %d subscription(s) pending confirmation, which CIS does not count", pending)
			sub = confirmHint(region, arn, e.opts.Email)
		}
		return outcome{Fail, 6, "SNS_SUBSCRIPTION_NOT_PRESENT", arn, "topic " + arn + " " + why, sub}
	}
	return outcome{Pass, 7, "PASSED", a.ARN, fmt.Sprintf("alarm %s notifies topic %s, which has %d confirmed subscription(s)", a.Name, arn, confirmed), ""}
}

func (t *Topic) subscriptionCounts() (confirmed, pending int) {
	for _, s := range t.Subscriptions {
		if s.Pending() {
			pending++
		} else {
			confirmed++
		}
	}
	return confirmed, pending
}
