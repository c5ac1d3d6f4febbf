package alarm

import (
	"strconv"
	"strings"
	"time"
)

// History item types of DescribeAlarmHistory.
const (
	HistoryConfigurationUpdate = "ConfigurationUpdate"
	HistoryStateUpdate         = "StateUpdate"
	HistoryAction              = "Action"
)

// HistoryItem is one DescribeAlarmHistory entry as stored; AlarmType is "MetricAlarm" or
// "CompositeAlarm".
type HistoryItem struct {
	AlarmName       string
	AlarmType       string
	Timestamp       time.Time
	HistoryItemType string
	HistorySummary  string
	HistoryData     string
}

// StateSnapshot is an alarm state with its reason, one side of a StateUpdate item.
type StateSnapshot struct {
	Value State
	// Reason is the StateReason text.
	Reason string
	// ReasonData is the StateReasonData JSON, "" when the state has none (initial state, or
	// SetAlarmState without StateReasonData).
	ReasonData string
}

func (s StateSnapshot) json() string {
	o := newObject().str("stateValue", s.Value.String()).str("stateReason", s.Reason)
	if s.ReasonData != "" {
		o.raw("stateReasonData", s.ReasonData)
	}
	return o.String()
}

// StateUpdateHistory is the StateUpdate item of a transition [§1.11, LS-CW-SNAP, SDKJAVA-1723]:
// summary "Alarm updated from OLD to NEW", and the old and new states in HistoryData with
// stateReasonData embedded as an object, omitted when there is none (SetAlarmState without data,
// §6.6 decision).
func StateUpdateHistory(alarmName, alarmType string, at time.Time, from, to StateSnapshot) HistoryItem {
	data := newObject().str("version", "1.0").raw("oldState", from.json()).raw("newState", to.json())
	return HistoryItem{
		AlarmName: alarmName, AlarmType: alarmType, Timestamp: at, HistoryItemType: HistoryStateUpdate,
		HistorySummary: "Alarm updated from " + from.Value.String() + " to " + to.Value.String(),
		HistoryData:    data.String(),
	}
}

// ConfigChange is the kind of a ConfigurationUpdate item.
type ConfigChange string

// The three configuration changes. Only Create is observed; the Update and Delete summaries and
// keys follow its pattern ("updatedAlarm", "deletedAlarm"), a decision on §6.6.
const (
	ConfigCreate ConfigChange = "Create"
	ConfigUpdate ConfigChange = "Update"
	ConfigDelete ConfigChange = "Delete"
)

// AlarmSnapshot is the stored part of a metric alarm that ConfigurationUpdate items describe.
type AlarmSnapshot struct {
	Alarm          *MetricAlarm
	ARN            string
	ConfigUpdated  time.Time
	StateValue     State
	StateUpdatedAt time.Time
}

// ConfigurationHistory is the ConfigurationUpdate item of a PutMetricAlarm or DeleteAlarms
// [§1.11, FINDSTR 43763957741, 15361872989]: summary `Alarm "name" created`, and the alarm in
// camelCase with the odd lower-case "okactions" key.
func ConfigurationHistory(change ConfigChange, at time.Time, s AlarmSnapshot) HistoryItem {
	a := s.Alarm
	body := newObject().str("alarmName", a.AlarmName)
	if a.AlarmDescription != "" {
		body.str("alarmDescription", a.AlarmDescription)
	}
	body.str("alarmArn", s.ARN).str("alarmConfigurationUpdatedTimestamp", javaTime(s.ConfigUpdated))
	if a.Namespace != "" {
		body.str("namespace", a.Namespace).str("metricName", a.MetricName)
	}
	if a.Statistic != "" {
		body.str("statistic", a.Statistic)
	}
	if a.ExtendedStatistic != "" {
		body.str("extendedStatistic", a.ExtendedStatistic)
	}
	if a.Period != nil {
		body.raw("period", strconv.Itoa(int(*a.Period)))
	}
	if a.Unit != "" {
		body.str("unit", a.Unit)
	}
	if len(a.Metrics) == 0 {
		body.raw("dimensions", dimensionsJSON(a.Dimensions))
	}
	if a.Threshold != nil {
		body.num("threshold", *a.Threshold)
	}
	body.str("comparisonOperator", string(a.ComparisonOperator)).raw("evaluationPeriods", strconv.Itoa(a.N()))
	if a.DatapointsToAlarm != nil {
		body.raw("datapointsToAlarm", strconv.Itoa(int(*a.DatapointsToAlarm)))
	}
	if a.TreatMissingData != "" {
		body.str("treatMissingData", a.TreatMissingData)
	}
	if a.EvaluateLowSampleCountPercentile != "" {
		body.str("evaluateLowSampleCountPercentile", a.EvaluateLowSampleCountPercentile)
	}
	if a.ThresholdMetricId != "" {
		body.str("thresholdMetricId", a.ThresholdMetricId)
	}
	body.str("stateValue", s.StateValue.String()).str("stateUpdatedTimestamp", javaTime(s.StateUpdatedAt)).
		boolean("actionsEnabled", a.ActionsEnabled).
		strs("alarmActions", nonNil(a.AlarmActions)).
		strs("insufficientDataActions", nonNil(a.InsufficientDataActions)).
		strs("okactions", nonNil(a.OKActions))
	verb, key := "created", "createdAlarm"
	switch change {
	case ConfigUpdate:
		verb, key = "updated", "updatedAlarm"
	case ConfigDelete:
		verb, key = "deleted", "deletedAlarm"
	}
	data := newObject().str("version", "1.0").str("type", string(change)).raw(key, body.String())
	return HistoryItem{
		AlarmName: a.AlarmName, AlarmType: "MetricAlarm", Timestamp: at, HistoryItemType: HistoryConfigurationUpdate,
		HistorySummary: `Alarm "` + a.AlarmName + `" ` + verb, HistoryData: data.String(),
	}
}

// ActionHistory is the Action item written after CloudWatch invoked an action [§1.11,
// SDKJAVA-1723]: "Successfully executed action <arn>" with the published message, or, when
// deliveryErr is not empty, "Failed to execute action <arn>. Received error: \"…\"" (the failure
// wording is unverified).
func ActionHistory(alarmName, alarmType string, at time.Time, actionARN string, stateUpdated time.Time, publishedMessage, deliveryErr string) HistoryItem {
	data := newObject()
	summary := "Successfully executed action " + actionARN
	if deliveryErr == "" {
		data.raw("error", "null").str("actionState", "Succeeded")
	} else {
		data.str("error", deliveryErr).str("actionState", "Failed")
		summary = "Failed to execute action " + actionARN + `. Received error: "` + strings.TrimSpace(deliveryErr) + `"`
	}
	data.str("notificationResource", actionARN).
		raw("stateUpdateTimestamp", strconv.FormatInt(stateUpdated.UnixMilli(), 10)).
		str("publishedMessage", publishedMessage)
	return HistoryItem{
		AlarmName: alarmName, AlarmType: alarmType, Timestamp: at, HistoryItemType: HistoryAction,
		HistorySummary: summary, HistoryData: data.String(),
	}
}
