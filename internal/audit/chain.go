package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The trailwatch.* checks below look at what Security Hub does not: whether the chain can actually
// deliver an email (reference §0 item 7, §1.5, §2.4 step 5-6, §5.2e, §4.3).

// managedSNSKey says whether a topic's KmsMasterKeyId is the AWS-managed SNS key, which CloudWatch
// cannot use: the alarm history shows a KMS AccessDeniedException and no email is sent (§5.2e).
func managedSNSKey(k string) bool {
	return k == "alias/aws/sns" || strings.HasSuffix(k, ":alias/aws/sns")
}

// alarmReachable says whether one matching event makes the alarm fire, given the metric
// transformation's value and default value.
func alarmReachable(a Alarm, tr MetricTransformation) (Status, string) {
	v := 1.0
	if x, err := strconv.ParseFloat(tr.Value, 64); err == nil {
		v = x
	}
	if !a.ActionsEnabled {
		return Fail, "its actions are disabled"
	}
	if a.Dimensions > tr.Dimensions {
		return Fail, fmt.Sprintf("it watches %d dimension(s) the filter does not emit, a metric that never gets a datapoint", a.Dimensions)
	}
	if a.ExtendedStatistic != "" {
		return Warning, fmt.Sprintf("the percentile %s of a count is hard to predict; use Sum", a.ExtendedStatistic)
	}
	// The statistic's value in a period where one of n events matches.
	var one float64
	switch a.Statistic {
	case "Sum", "Maximum":
		one = v
	case "SampleCount":
		one = 1
		if tr.DefaultValue != nil {
			return Warning, "SampleCount counts every event when the filter has a default value, so it fires on any event"
		}
	case "Average":
		if tr.DefaultValue != nil {
			return Fail, fmt.Sprintf("Average of a filter with default value %g reaches %g only when every event of the period matches; use Sum", *tr.DefaultValue, v)
		}
		one = v
	case "Minimum":
		if tr.DefaultValue != nil {
			return Fail, fmt.Sprintf("Minimum of a filter with default value %g stays at it unless every event of the period matches; use Sum", *tr.DefaultValue)
		}
		one = v
	default:
		return Warning, fmt.Sprintf("unexpected statistic %q", a.Statistic)
	}
	var reached bool
	switch a.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		reached = one >= a.Threshold
	case "GreaterThanThreshold":
		reached = one > a.Threshold
	default:
		return Fail, fmt.Sprintf("%s never fires on matching events", a.ComparisonOperator)
	}
	if !reached {
		return Fail, fmt.Sprintf("one matching event gives %s %g, which is not %s %g", a.Statistic, one, a.ComparisonOperator, a.Threshold)
	}
	if a.EvaluationPeriods > 1 && max(a.DatapointsToAlarm, 1) > 1 {
		return Warning, fmt.Sprintf("it needs %d breaching periods, so a single root login does not alarm", max(a.DatapointsToAlarm, 1))
	}
	if a.TreatMissingData == "breaching" {
		return Warning, "missing data is breaching: it pages on every period without events"
	}
	return Pass, fmt.Sprintf("one matching event gives %s %g, %s %g", a.Statistic, one, a.ComparisonOperator, a.Threshold)
}

// topicDelivery says whether an alarm in alarmRegion can deliver through the topic.
func (e *evaluator) topicDelivery(alarmRegion, arn string) (Status, string, string) {
	region, account, _ := TopicRegionAccount(arn)
	if region != alarmRegion {
		return Fail, fmt.Sprintf("the topic is in %s but the alarm in %s: alarms publish only to topics in their own Region", region, alarmRegion), e.applyCmd(alarmRegion, false)
	}
	if account != e.f.AccountID {
		return NoData, "the topic belongs to account " + account, ""
	}
	t := e.f.Topics[arn]
	if t == nil {
		return NoData, "the topic was not read", ""
	}
	if !t.Exists {
		return Fail, "the topic does not exist", e.applyCmd(alarmRegion, false)
	}
	if managedSNSKey(t.KMSMasterKey) {
		return Fail, "the topic is encrypted with the AWS-managed key alias/aws/sns, which CloudWatch cannot use: the alarm's publish fails with KMS AccessDeniedException",
			fmt.Sprintf("aws sns set-topic-attributes --region %s --topic-arn %s --attribute-name KmsMasterKeyId --attribute-value CUSTOMER_KEY_ARN (a key whose policy lets cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*), or --attribute-value '' to remove encryption", region, arn)
	}
	if t.ListErr != "" {
		return NoData, "the subscriptions cannot be listed: " + t.ListErr, ""
	}
	confirmed, pending := t.subscriptionCounts()
	sub := fmt.Sprintf("aws sns subscribe --region %s --topic-arn %s --protocol email --notification-endpoint %s", region, arn, e.opts.Email)
	switch {
	case confirmed > 0:
		return Pass, fmt.Sprintf("%d confirmed subscription(s)", confirmed), ""
	case pending > 0:
		return Warning, fmt.Sprintf("%d subscription(s) pending confirmation: nobody receives the email until the link in the confirmation message is followed (AWS deletes unconfirmed subscriptions after 3 days)", pending), confirmHint(region, arn, e.opts.Email)
	}
	return Fail, "no subscriptions: the alarm publishes to nobody", sub
}

// confirmHint is the remediation of a subscription pending confirmation.
func confirmHint(region, arn, email string) string {
	return fmt.Sprintf("Follow the link in the confirmation email AWS sent; if it expired, subscribe again: aws sns subscribe --region %s --topic-arn %s --protocol email --notification-endpoint %s", region, arn, email)
}

// chainChecks runs the per-resource trailwatch.* checks on every log group, alarm and topic of the
// account's own trails.
func (e *evaluator) chainChecks() {
	seenGroup, seenAlarm, seenTopic := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, arn := range sortedKeys(e.f.Trails) {
		t := e.f.Trails[arn]
		if t.Owner != e.f.AccountID || t.LogGroupARN == "" {
			continue
		}
		region, _, name, _ := LogGroupFromARN(t.LogGroupARN)
		key := LogGroupKey(region, name)
		g := e.f.LogGroups[key]
		if g == nil || !g.Exists || seenGroup[key] {
			continue
		}
		seenGroup[key] = true
		e.logGroupEvents(t, g)
		for _, mf := range g.Filters {
			if !e.firesForSomeControl(mf.Pattern) {
				continue
			}
			for _, tr := range mf.Transformations {
				for _, a := range e.alarmsOn(region, tr) {
					if seenAlarm[a.ARN] {
						continue
					}
					seenAlarm[a.ARN] = true
					st, why := alarmReachable(a, tr)
					e.add(a.Region, "trailwatch.alarm-reachable", st, a.ARN, fmt.Sprintf("alarm %s on filter %s: %s", a.Name, mf.Name, why), e.putAlarmCmd(a.Region, a.Name, tr, firstOr(snsActions(a.AlarmActions), "")))
					if len(a.OKActions) == 0 {
						e.add(a.Region, "trailwatch.alarm-ok-action", Warning, a.ARN, fmt.Sprintf("alarm %s has no OK action: nobody hears that an incident is over, and with missing data treated as missing it stays in ALARM until the next datapoint", a.Name), e.putAlarmCmd(a.Region, a.Name, tr, firstOr(snsActions(a.AlarmActions), "")))
					} else {
						e.add(a.Region, "trailwatch.alarm-ok-action", Pass, a.ARN, fmt.Sprintf("alarm %s notifies %s on OK", a.Name, strings.Join(a.OKActions, ", ")), "")
					}
					for _, topic := range snsActions(a.AlarmActions) {
						k := a.Region + " " + topic
						if seenTopic[k] {
							continue
						}
						seenTopic[k] = true
						st, why, fix := e.topicDelivery(a.Region, topic)
						e.add(a.Region, "trailwatch.topic-delivery", st, topic, why, fix)
					}
				}
			}
		}
	}
}

func firstOr(s []string, d string) string {
	if len(s) > 0 {
		return s[0]
	}
	return d
}

func (e *evaluator) firesForSomeControl(p string) bool {
	for _, c := range e.controls {
		if c.Compare(p).Fires() {
			return true
		}
	}
	return false
}

func (e *evaluator) logGroupEvents(t *Trail, g *LogGroup) {
	res := t.LogGroupARN
	switch {
	case !g.EventsKnown:
		e.add(g.Region, "trailwatch.log-group-events", NoData, res, "the log group's streams could not be read", "")
	case g.LastEvent.IsZero():
		e.add(g.Region, "trailwatch.log-group-events", Warning, res, fmt.Sprintf("log group %s has received no events: check trail %s's CloudWatch Logs role (%s) and that it is logging", g.Name, t.Name, t.RoleARN),
			fmt.Sprintf("aws cloudtrail get-trail-status --name %s --query LatestCloudWatchLogsDeliveryError", t.ARN))
	case e.f.Now.Sub(g.LastEvent) > e.opts.QuietLogGroup:
		e.add(g.Region, "trailwatch.log-group-events", Warning, res, fmt.Sprintf("log group %s's newest event is from %s, more than %s ago", g.Name, g.LastEvent.UTC().Format("2006-01-02T15:04:05Z"), e.opts.QuietLogGroup),
			fmt.Sprintf("aws cloudtrail get-trail-status --name %s --query LatestCloudWatchLogsDeliveryError", t.ARN))
	default:
		e.add(g.Region, "trailwatch.log-group-events", Pass, res, fmt.Sprintf("newest event at %s", g.LastEvent.UTC().Format("2006-01-02T15:04:05Z")), "")
	}
}

// rootChain decides whether a root action in Region r really ends in an email: a trail that records
// it, a filter that matches it (exact or not), an alarm one event fires, a topic in the alarm's
// Region that CloudWatch can publish to, and a confirmed subscriber. It states Security Hub's
// CloudWatch.1 verdict beside its own when the two differ.
func (e *evaluator) rootChain(r RegionTrails) {
	root := e.controls[0]
	best := outcome{status: Fail, depth: -1, resource: e.accountResource(), reason: "no multi-Region trail records root activity into CloudWatch Logs"}
	for _, t := range e.trailsIn(r) {
		if len(e.trailDefects(t, root.ID)) > 0 {
			continue
		}
		if t.Owner != e.f.AccountID {
			best = better(best, outcome{status: NoData, depth: 0, resource: t.ARN, reason: fmt.Sprintf("root activity goes to trail %s of account %s; audit that account", t.Name, t.Owner)})
			continue
		}
		best = better(best, e.rootTrail(t, root))
		if best.status == Pass {
			break
		}
	}
	if best.status == NoData && best.depth < 0 {
		best.status = Fail
	}
	reason := best.reason
	for _, f := range e.out {
		if f.CheckID == root.ID && f.Region == r.Region && f.Status != NoData && (f.Status == Pass) != (best.status == Pass) {
			reason += fmt.Sprintf("; Security Hub's CloudWatch.1 says %s here", f.Status)
		}
	}
	fix := best.fix
	if fix == "" && best.status == Fail {
		fix = e.applyCmd(r.Region, false)
	}
	e.add(r.Region, "trailwatch.root-alert-chain", best.status, best.resource, reason, fix)
}

func (e *evaluator) rootTrail(t *Trail, root Control) outcome {
	region, _, name, _ := LogGroupFromARN(t.LogGroupARN)
	g := e.f.LogGroups[LogGroupKey(region, name)]
	if g == nil || !g.Exists {
		return outcome{Fail, 1, "", t.LogGroupARN, fmt.Sprintf("trail %s delivers to log group %s, which does not exist", t.Name, name), ""}
	}
	best := outcome{Fail, 2, "", t.LogGroupARN, fmt.Sprintf("no filter on log group %s matches root activity", name), ""}
	for _, mf := range g.Filters {
		m := root.Compare(mf.Pattern)
		if !m.Fires() {
			continue
		}
		for _, tr := range mf.Transformations {
			alarms := e.alarmsOn(region, tr)
			if len(alarms) == 0 {
				best = better(best, outcome{Fail, 3, "", mf.Name, fmt.Sprintf("no alarm watches %s/%s, the metric of filter %s", tr.Namespace, tr.MetricName, mf.Name), e.putAlarmCmd(region, root.Alarm, tr, "")})
			}
			for _, a := range alarms {
				if st, why := alarmReachable(a, tr); st == Fail {
					best = better(best, outcome{Fail, 4, "", a.ARN, fmt.Sprintf("alarm %s cannot fire: %s", a.Name, why), e.putAlarmCmd(region, a.Name, tr, firstOr(snsActions(a.AlarmActions), ""))})
					continue
				}
				topics := snsActions(a.AlarmActions)
				if len(topics) == 0 {
					best = better(best, outcome{Fail, 5, "", a.ARN, fmt.Sprintf("alarm %s notifies no SNS topic", a.Name), e.putAlarmCmd(region, a.Name, tr, "")})
				}
				for _, topic := range topics {
					st, why, fix := e.topicDelivery(a.Region, topic)
					o := outcome{st, 6, "", topic, fmt.Sprintf("topic %s of alarm %s: %s", topic, a.Name, why), fix}
					if st == Pass {
						o.resource = a.ARN
						o.reason = fmt.Sprintf("root activity reaches trail %s -> log group %s -> filter %s (%s) -> alarm %s -> topic %s (%s)", t.Name, name, mf.Name, m, a.Name, topic, why)
						if m == MatchAssumeRootExcluded {
							o.reason += "; AssumeRoot sessions are excluded by choice"
						}
					}
					best = better(best, o)
				}
			}
		}
	}
	return best
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
