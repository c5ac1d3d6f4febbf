package alarm

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Transition is one state change of a metric alarm, everything CloudWatch's notification and
// history texts are built from. The SNS issue publishes Message/EmailBody built from it.
type Transition struct {
	Alarm     *MetricAlarm
	AccountID string
	// Region is the region code, e.g. "eu-west-1".
	Region          string
	OldState        State
	NewState        State
	NewStateReason  string
	StateChangeTime time.Time
	// ConfigUpdated is the alarm's AlarmConfigurationUpdatedTimestamp.
	ConfigUpdated time.Time
}

// AlarmARN returns the ARN CloudWatch gives an alarm [§1.3].
func AlarmARN(region, accountID, name string) string {
	return "arn:aws:cloudwatch:" + region + ":" + accountID + ":alarm:" + name
}

// regionNames are CloudWatch's long region names in SNS messages and emails. CloudWatch keeps the
// legacy "EU (…)" form [§2.1, FINDSTR 46314339023, 71648946397, 13138626691; "EU (Frankfurt)" in
// 2020 messages]; regions opened after the rename use botocore's "Europe (…)" (unverified).
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-southeast-3": "Asia Pacific (Jakarta)",
	"ap-southeast-4": "Asia Pacific (Melbourne)", "ap-southeast-5": "Asia Pacific (Malaysia)",
	"ap-southeast-7": "Asia Pacific (Thailand)", "ap-east-2": "Asia Pacific (Taipei)",
	"ca-central-1": "Canada (Central)", "ca-west-1": "Canada West (Calgary)",
	"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "eu-south-1": "EU (Milan)",
	"eu-south-2": "Europe (Spain)", "eu-central-2": "Europe (Zurich)",
	"il-central-1": "Israel (Tel Aviv)", "me-south-1": "Middle East (Bahrain)",
	"me-central-1": "Middle East (UAE)", "mx-central-1": "Mexico (Central)",
	"sa-east-1":     "South America (Sao Paulo)",
	"us-gov-east-1": "AWS GovCloud (US-East)", "us-gov-west-1": "AWS GovCloud (US-West)",
	"cn-north-1": "China (Beijing)", "cn-northwest-1": "China (Ningxia)",
}

// RegionName returns the long name CloudWatch uses for a region code, or the code itself for a
// region it does not know.
func RegionName(code string) string {
	if n, ok := regionNames[code]; ok {
		return n
	}
	return code
}

// Subject is the SNS Subject (and email subject) of an alarm notification:
// `ALARM: "Test alarm" in Canada (Central)` [§2.1]. SNS subjects must be shorter than 100
// characters; a longer one is cut to 99 (decision on §6.5).
func Subject(state State, alarmName, region string) string {
	s := state.String() + `: "` + alarmName + `" in ` + RegionName(region)
	if utf8.RuneCountInString(s) > 99 {
		r := []rune(s)
		s = string(r[:99])
	}
	return s
}

// Message is the JSON document CloudWatch publishes to SNS on a metric alarm transition — what
// HTTP, SQS, Lambda and email-json subscribers see as Message [§2.1, SREBOT]: fixed key order,
// null AlarmDescription/Unit when unset, upper-case Trigger.Statistic, lower-case dimension keys,
// DatapointsToAlarm only when set. AWS's current messages (2026 recordings, §2.1) carry
// "ActionExecutedAfterMuteWindow" after OldStateValue: true only for an action that ran when an
// alarm mute rule's window ended (PutAlarmMuteRule: while a rule is active "their configured
// actions ... are muted"). trailwatch has no mute rules, so it is always false.
func Message(t Transition) string {
	a := t.Alarm
	o := newObject().
		str("AlarmName", a.AlarmName).
		strOrNull("AlarmDescription", a.AlarmDescription).
		str("AWSAccountId", t.AccountID).
		str("AlarmConfigurationUpdatedTimestamp", javaTime(t.ConfigUpdated)).
		str("NewStateValue", t.NewState.String()).
		str("NewStateReason", t.NewStateReason).
		str("StateChangeTime", javaTime(t.StateChangeTime)).
		str("Region", RegionName(t.Region)).
		str("AlarmArn", AlarmARN(t.Region, t.AccountID, a.AlarmName)).
		str("OldStateValue", t.OldState.String()).
		boolean("ActionExecutedAfterMuteWindow", false).
		strs("OKActions", nonNil(a.OKActions)).
		strs("AlarmActions", nonNil(a.AlarmActions)).
		strs("InsufficientDataActions", nonNil(a.InsufficientDataActions)).
		raw("Trigger", trigger(a))
	return o.String()
}

// configuredTreatment is TreatMissingData as configured ("missing" when unset), which messages
// echo even for AWS/DynamoDB alarms that always ignore missing data.
func (a *MetricAlarm) configuredTreatment() string {
	if a.TreatMissingData == "" {
		return TreatMissing
	}
	return a.TreatMissingData
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// trigger is the Trigger object of the SNS message. For Metrics alarms the single-metric keys
// are replaced by a Metrics list in the API's own casing (shape unverified).
func trigger(a *MetricAlarm) string {
	o := newObject()
	if len(a.Metrics) == 0 {
		o.str("MetricName", a.MetricName).str("Namespace", a.Namespace)
		if a.ExtendedStatistic != "" {
			o.str("StatisticType", "ExtendedStatistic").str("ExtendedStatistic", a.ExtendedStatistic)
		} else {
			o.str("StatisticType", "Statistic").str("Statistic", strings.ToUpper(a.Statistic))
		}
		o.strOrNull("Unit", a.Unit).raw("Dimensions", dimensionsJSON(a.Dimensions))
	}
	o.raw("Period", strconv.Itoa(a.PeriodSeconds())).raw("EvaluationPeriods", strconv.Itoa(a.N()))
	if a.DatapointsToAlarm != nil {
		o.raw("DatapointsToAlarm", strconv.Itoa(int(*a.DatapointsToAlarm)))
	}
	o.str("ComparisonOperator", string(a.ComparisonOperator))
	if a.Threshold != nil {
		o.num("Threshold", *a.Threshold)
	} else {
		o.str("ThresholdMetricId", a.ThresholdMetricId)
	}
	o.str("TreatMissingData", a.configuredTreatment()).str("EvaluateLowSampleCountPercentile", a.EvaluateLowSampleCountPercentile)
	if len(a.Metrics) > 0 {
		items := make([]string, len(a.Metrics))
		for i, q := range a.Metrics {
			m := newObject().str("Id", q.Id)
			if q.Expression != "" {
				m.str("Expression", q.Expression)
			}
			if q.Label != "" {
				m.str("Label", q.Label)
			}
			if q.MetricStat != nil {
				ms := q.MetricStat
				metric := newObject().str("MetricName", ms.MetricName).str("Namespace", ms.Namespace).raw("Dimensions", dimensionsJSON(ms.Dimensions))
				stat := newObject().raw("Metric", metric.String()).raw("Period", strconv.Itoa(int(ms.Period))).str("Stat", ms.Stat)
				if ms.Unit != "" {
					stat.str("Unit", ms.Unit)
				}
				m.raw("MetricStat", stat.String())
			}
			m.boolean("ReturnData", q.returns())
			items[i] = m.String()
		}
		o.raw("Metrics", "["+strings.Join(items, ",")+"]")
	}
	return o.String()
}

// dimensionsJSON renders dimensions with lower-case keys, value first as in [SREBOT]-era messages.
func dimensionsJSON(ds []metrics.Dimension) string {
	items := make([]string, len(ds))
	for i, d := range ds {
		items[i] = newObject().str("value", d.Value).str("name", d.Name).String()
	}
	return "[" + strings.Join(items, ",") + "]"
}

// EmailBody is the human text CloudWatch publishes for email subscribers [§2.2, FINDSTR
// 18284939227], up to and including the two blank lines before SNS's footer: the SNS layer
// appends "--\nIf you wish to stop receiving notifications …" per subscription.
func EmailBody(t Transition) string {
	a := t.Alarm
	region := RegionName(t.Region)
	arn := AlarmARN(t.Region, t.AccountID, a.AlarmName)
	when := longTime(t.StateChangeTime)
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	// Labels are padded to one column short of the values, and a value, when present, is
	// appended after one more space: an empty description leaves "- Description:" plus 15
	// spaces, an empty dimension list "- Dimensions:" plus 25 (six 2020-2026 emails agree).
	pad := func(label string, width int, value string) string {
		s := label + strings.Repeat(" ", max(width-1-len(label), 0))
		if value != "" {
			s += " " + value
		}
		return s
	}
	line(`You are receiving this email because your Amazon CloudWatch Alarm "` + a.AlarmName + `" in the ` + region +
		` region has entered the ` + t.NewState.String() + ` state, because "` + t.NewStateReason + `" at "` + when + `".`)
	line("")
	line("View this alarm in the AWS Management Console:")
	line("https://" + t.Region + ".console.aws.amazon.com/cloudwatch/deeplink.js?region=" + t.Region +
		"#alarmsV2:alarm/" + url.PathEscape(a.AlarmName))
	line("")
	line("Alarm Details:")
	line(pad("- Name:", 30, a.AlarmName))
	line(pad("- Description:", 30, a.AlarmDescription))
	line(pad("- State Change:", 30, t.OldState.String()+" -> "+t.NewState.String()))
	line(pad("- Reason for State Change:", 30, t.NewStateReason))
	line(pad("- Timestamp:", 30, when))
	line(pad("- AWS Account:", 30, t.AccountID))
	line(pad("- Alarm Arn:", 30, arn))
	line("")
	line("Threshold:")
	threshold := a.ThresholdMetricId
	if a.Threshold != nil {
		threshold = javaDouble(*a.Threshold)
	}
	line("- The alarm is in the ALARM state when the metric is " + string(a.ComparisonOperator) + " " + threshold +
		" for at least " + strconv.Itoa(a.M()) + " of the last " + strconv.Itoa(a.N()) + " period(s) of " +
		strconv.Itoa(a.PeriodSeconds()) + " seconds.")
	line("")
	line("Monitored Metric:")
	ns, name, dims, stat, unit := a.Namespace, a.MetricName, a.Dimensions, a.StatisticName(), a.Unit
	for _, q := range a.Metrics {
		if q.returns() && q.MetricStat != nil {
			ns, name, dims, unit = q.MetricStat.Namespace, q.MetricStat.MetricName, q.MetricStat.Dimensions, q.MetricStat.Unit
		}
	}
	if unit == "" {
		unit = "not specified"
	}
	dimText := make([]string, len(dims))
	for i, d := range dims {
		dimText[i] = "[" + d.Name + " = " + d.Value + "]"
	}
	line(pad("- MetricNamespace:", 39, ns))
	line(pad("- MetricName:", 39, name))
	line(pad("- Dimensions:", 39, strings.Join(dimText, " ")))
	line(pad("- Period:", 39, strconv.Itoa(a.PeriodSeconds())+" seconds"))
	line(pad("- Statistic:", 39, stat))
	line(pad("- Unit:", 39, unit))
	// The line exists only when TreatMissingData was set; an unset one leaves an empty line
	// (2025 eu-central-1 email of an alarm created without --treat-missing-data).
	if a.TreatMissingData != "" {
		line(pad("- TreatMissingData:", 39, a.TreatMissingData))
	} else {
		line("")
	}
	line("")
	line("")
	line("State Change Actions:")
	actions := func(label string, l []string) {
		s := label
		for _, arn := range l {
			s += " [" + arn + "]"
		}
		line(s)
	}
	actions("- OK:", a.OKActions)
	actions("- ALARM:", a.AlarmActions)
	actions("- INSUFFICIENT_DATA:", a.InsufficientDataActions)
	line("")
	line("")
	return b.String()
}

// PublishedMessage is the MessageStructure=json document CloudWatch hands to SNS Publish: the
// JSON message under "default" (every protocol, email-json included) and the human text under
// "email" (decision on §6.3; the Action history item stores this string as publishedMessage).
func PublishedMessage(t Transition) string {
	return newObject().str("default", Message(t)).str("email", EmailBody(t)).String()
}
