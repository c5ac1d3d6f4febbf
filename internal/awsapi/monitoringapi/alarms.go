package monitoringapi

import (
	"context"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// AlarmOperations returns the alarm operations of the monitoring service, for NewService's
// extra argument. It also wraps PutMetricData so that new datapoints trigger the early
// evaluation of the alarms on their metrics (a stand-in until metrics.Service has its own
// hook).
func AlarmOperations(m *metrics.Service, a *alarm.Service) map[string]awsapi.Operation {
	h := alarmHandlers{svc: a, metrics: handlers{svc: m}}
	return map[string]awsapi.Operation{
		"PutMetricData":           awsapi.Op(h.putMetricData),
		"PutMetricAlarm":          awsapi.Op(h.putMetricAlarm),
		"PutCompositeAlarm":       awsapi.Op(h.putCompositeAlarm),
		"DescribeAlarms":          awsapi.Op(h.describeAlarms),
		"DescribeAlarmsForMetric": awsapi.Op(h.describeAlarmsForMetric),
		"DeleteAlarms":            awsapi.Op(h.deleteAlarms),
		"SetAlarmState":           awsapi.Op(h.setAlarmState),
		"EnableAlarmActions":      awsapi.Op(h.enableAlarmActions),
		"DisableAlarmActions":     awsapi.Op(h.disableAlarmActions),
		"DescribeAlarmHistory":    awsapi.Op(h.describeAlarmHistory),
		"ListTagsForResource":     awsapi.Op(h.listTagsForResource),
		"TagResource":             awsapi.Op(h.tagResource),
		"UntagResource":           awsapi.Op(h.untagResource),
	}
}

type alarmHandlers struct {
	svc     *alarm.Service
	metrics handlers
}

func alarmScope(ctx context.Context) alarm.Scope {
	id := awsapi.Caller(ctx)
	return alarm.Scope{AccountID: id.AccountID, Region: id.Region}
}

func (h alarmHandlers) putMetricData(ctx context.Context, in *PutMetricDataInput) (*struct{}, error) {
	out, err := h.metrics.putMetricData(ctx, in)
	if err != nil {
		return nil, err
	}
	ms := make([]metrics.Metric, 0, len(in.MetricData))
	for _, d := range in.MetricData {
		ms = append(ms, metrics.Metric{Namespace: deref(in.Namespace), MetricName: deref(d.MetricName), Dimensions: toDimensions(d.Dimensions)})
	}
	h.svc.OnMetricData(scope(ctx), ms)
	return out, nil
}

// Tag is the model's Tag.
type Tag struct {
	Key   *string `json:"Key,omitempty"`
	Value *string `json:"Value,omitempty"`
}

// PutMetricAlarmInput is the model's PutMetricAlarmInput.
type PutMetricAlarmInput struct {
	AlarmName                        *string           `json:"AlarmName,omitempty"`
	AlarmDescription                 *string           `json:"AlarmDescription,omitempty"`
	ActionsEnabled                   *bool             `json:"ActionsEnabled,omitempty"`
	OKActions                        []string          `json:"OKActions,omitempty"`
	AlarmActions                     []string          `json:"AlarmActions,omitempty"`
	InsufficientDataActions          []string          `json:"InsufficientDataActions,omitempty"`
	MetricName                       *string           `json:"MetricName,omitempty"`
	Namespace                        *string           `json:"Namespace,omitempty"`
	Statistic                        *string           `json:"Statistic,omitempty"`
	ExtendedStatistic                *string           `json:"ExtendedStatistic,omitempty"`
	Dimensions                       []Dimension       `json:"Dimensions,omitempty"`
	Period                           *int32            `json:"Period,omitempty"`
	Unit                             *string           `json:"Unit,omitempty"`
	EvaluationPeriods                *int32            `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm                *int32            `json:"DatapointsToAlarm,omitempty"`
	Threshold                        *float64          `json:"Threshold,omitempty"`
	ComparisonOperator               *string           `json:"ComparisonOperator,omitempty"`
	TreatMissingData                 *string           `json:"TreatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile *string           `json:"EvaluateLowSampleCountPercentile,omitempty"`
	Metrics                          []MetricDataQuery `json:"Metrics,omitempty"`
	Tags                             []Tag             `json:"Tags,omitempty"`
	ThresholdMetricId                *string           `json:"ThresholdMetricId,omitempty"`
}

func toTags(ts []Tag) []alarm.Tag {
	var out []alarm.Tag
	for _, t := range ts {
		out = append(out, alarm.Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func (h alarmHandlers) putMetricAlarm(ctx context.Context, in *PutMetricAlarmInput) (*struct{}, error) {
	a := alarm.MetricAlarm{
		AlarmName: deref(in.AlarmName), AlarmDescription: deref(in.AlarmDescription), ActionsEnabled: true,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
		MetricName: deref(in.MetricName), Namespace: deref(in.Namespace), Dimensions: toDimensions(in.Dimensions),
		Statistic: deref(in.Statistic), ExtendedStatistic: deref(in.ExtendedStatistic), Unit: deref(in.Unit),
		Period: in.Period, EvaluationPeriods: in.EvaluationPeriods, DatapointsToAlarm: in.DatapointsToAlarm,
		Threshold: in.Threshold, ComparisonOperator: alarm.ComparisonOperator(deref(in.ComparisonOperator)),
		TreatMissingData: deref(in.TreatMissingData), EvaluateLowSampleCountPercentile: deref(in.EvaluateLowSampleCountPercentile),
		ThresholdMetricId: deref(in.ThresholdMetricId),
	}
	if in.ActionsEnabled != nil {
		a.ActionsEnabled = *in.ActionsEnabled
	}
	for _, q := range in.Metrics {
		a.Metrics = append(a.Metrics, toAlarmQuery(q))
	}
	if err := h.svc.PutMetricAlarm(ctx, alarmScope(ctx), a, toTags(in.Tags)); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func toAlarmQuery(q MetricDataQuery) alarm.MetricDataQuery {
	out := alarm.MetricDataQuery{Id: deref(q.ID), Expression: deref(q.Expression), Label: deref(q.Label),
		ReturnData: q.ReturnData, Period: q.Period, AccountId: deref(q.AccountID)}
	if ms := q.MetricStat; ms != nil {
		st := &alarm.MetricStat{Stat: deref(ms.Stat), Unit: deref(ms.Unit)}
		if ms.Period != nil {
			st.Period = *ms.Period
		}
		if ms.Metric != nil {
			st.Namespace, st.MetricName, st.Dimensions = deref(ms.Metric.Namespace), deref(ms.Metric.MetricName), toDimensions(ms.Metric.Dimensions)
		}
		out.MetricStat = st
	}
	return out
}

func fromAlarmQuery(q alarm.MetricDataQuery) MetricDataQuery {
	out := MetricDataQuery{ID: optional(q.Id), Expression: optional(q.Expression), Label: optional(q.Label),
		ReturnData: q.ReturnData, Period: q.Period, AccountID: optional(q.AccountId)}
	if ms := q.MetricStat; ms != nil {
		p := ms.Period
		out.MetricStat = &MetricStat{
			Metric: &Metric{Namespace: optional(ms.Namespace), MetricName: optional(ms.MetricName), Dimensions: fromDimensions(ms.Dimensions)},
			Period: &p, Stat: optional(ms.Stat), Unit: optional(ms.Unit),
		}
	}
	return out
}

func fromDimensions(ds []metrics.Dimension) []Dimension {
	out := make([]Dimension, 0, len(ds))
	for _, d := range ds {
		out = append(out, Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

// PutCompositeAlarmInput is the model's PutCompositeAlarmInput.
type PutCompositeAlarmInput struct {
	ActionsEnabled                   *bool    `json:"ActionsEnabled,omitempty"`
	AlarmActions                     []string `json:"AlarmActions,omitempty"`
	AlarmDescription                 *string  `json:"AlarmDescription,omitempty"`
	AlarmName                        *string  `json:"AlarmName,omitempty"`
	AlarmRule                        *string  `json:"AlarmRule,omitempty"`
	InsufficientDataActions          []string `json:"InsufficientDataActions,omitempty"`
	OKActions                        []string `json:"OKActions,omitempty"`
	Tags                             []Tag    `json:"Tags,omitempty"`
	ActionsSuppressor                *string  `json:"ActionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod      *int32   `json:"ActionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod *int32   `json:"ActionsSuppressorExtensionPeriod,omitempty"`
}

func (h alarmHandlers) putCompositeAlarm(ctx context.Context, in *PutCompositeAlarmInput) (*struct{}, error) {
	a := alarm.CompositeAlarm{
		AlarmName: deref(in.AlarmName), AlarmDescription: deref(in.AlarmDescription), AlarmRule: deref(in.AlarmRule),
		ActionsEnabled: true, OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
		ActionsSuppressor: deref(in.ActionsSuppressor), ActionsSuppressorWaitPeriod: in.ActionsSuppressorWaitPeriod,
		ActionsSuppressorExtensionPeriod: in.ActionsSuppressorExtensionPeriod,
	}
	if in.ActionsEnabled != nil {
		a.ActionsEnabled = *in.ActionsEnabled
	}
	if err := h.svc.PutCompositeAlarm(ctx, alarmScope(ctx), a, toTags(in.Tags)); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// MetricAlarm is the model's MetricAlarm (DescribeAlarms output). The three action lists and
// Dimensions are always present, as AWS returns them [§1.3]; unset optional members are absent.
type MetricAlarm struct {
	AlarmName                          *string           `json:"AlarmName,omitempty"`
	AlarmArn                           *string           `json:"AlarmArn,omitempty"`
	AlarmDescription                   *string           `json:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp *awsapi.Time      `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	ActionsEnabled                     *bool             `json:"ActionsEnabled,omitempty"`
	OKActions                          []string          `json:"OKActions"`
	AlarmActions                       []string          `json:"AlarmActions"`
	InsufficientDataActions            []string          `json:"InsufficientDataActions"`
	StateValue                         *string           `json:"StateValue,omitempty"`
	StateReason                        *string           `json:"StateReason,omitempty"`
	StateReasonData                    *string           `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              *awsapi.Time      `json:"StateUpdatedTimestamp,omitempty"`
	MetricName                         *string           `json:"MetricName,omitempty"`
	Namespace                          *string           `json:"Namespace,omitempty"`
	Statistic                          *string           `json:"Statistic,omitempty"`
	ExtendedStatistic                  *string           `json:"ExtendedStatistic,omitempty"`
	Dimensions                         []Dimension       `json:"Dimensions"`
	Period                             *int32            `json:"Period,omitempty"`
	Unit                               *string           `json:"Unit,omitempty"`
	EvaluationPeriods                  *int32            `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm                  *int32            `json:"DatapointsToAlarm,omitempty"`
	Threshold                          *float64          `json:"Threshold,omitempty"`
	ComparisonOperator                 *string           `json:"ComparisonOperator,omitempty"`
	TreatMissingData                   *string           `json:"TreatMissingData,omitempty"`
	EvaluateLowSampleCountPercentile   *string           `json:"EvaluateLowSampleCountPercentile,omitempty"`
	Metrics                            []MetricDataQuery `json:"Metrics,omitempty"`
	ThresholdMetricId                  *string           `json:"ThresholdMetricId,omitempty"`
	StateTransitionedTimestamp         *awsapi.Time      `json:"StateTransitionedTimestamp,omitempty"`
}

// CompositeAlarm is the model's CompositeAlarm.
type CompositeAlarm struct {
	ActionsEnabled                     *bool        `json:"ActionsEnabled,omitempty"`
	AlarmActions                       []string     `json:"AlarmActions"`
	AlarmArn                           *string      `json:"AlarmArn,omitempty"`
	AlarmConfigurationUpdatedTimestamp *awsapi.Time `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	AlarmDescription                   *string      `json:"AlarmDescription,omitempty"`
	AlarmName                          *string      `json:"AlarmName,omitempty"`
	AlarmRule                          *string      `json:"AlarmRule,omitempty"`
	InsufficientDataActions            []string     `json:"InsufficientDataActions"`
	OKActions                          []string     `json:"OKActions"`
	StateReason                        *string      `json:"StateReason,omitempty"`
	StateReasonData                    *string      `json:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              *awsapi.Time `json:"StateUpdatedTimestamp,omitempty"`
	StateValue                         *string      `json:"StateValue,omitempty"`
	StateTransitionedTimestamp         *awsapi.Time `json:"StateTransitionedTimestamp,omitempty"`
	ActionsSuppressedBy                *string      `json:"ActionsSuppressedBy,omitempty"`
	ActionsSuppressedReason            *string      `json:"ActionsSuppressedReason,omitempty"`
	ActionsSuppressor                  *string      `json:"ActionsSuppressor,omitempty"`
	ActionsSuppressorWaitPeriod        *int32       `json:"ActionsSuppressorWaitPeriod,omitempty"`
	ActionsSuppressorExtensionPeriod   *int32       `json:"ActionsSuppressorExtensionPeriod,omitempty"`
}

func awsTime(t time.Time) *awsapi.Time { return &awsapi.Time{Time: t} }

func strList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func fromMetricAlarm(r *alarm.Record) MetricAlarm {
	a := r.Metric
	st := r.State.String()
	out := MetricAlarm{
		AlarmName: &r.Name, AlarmArn: optional(r.ARN()), AlarmDescription: optional(a.AlarmDescription),
		AlarmConfigurationUpdatedTimestamp: awsTime(r.ConfigUpdated), ActionsEnabled: &a.ActionsEnabled,
		OKActions: strList(a.OKActions), AlarmActions: strList(a.AlarmActions), InsufficientDataActions: strList(a.InsufficientDataActions),
		StateValue: &st, StateReason: &r.Reason, StateReasonData: optional(r.ReasonData), StateUpdatedTimestamp: awsTime(r.StateUpdated),
		MetricName: optional(a.MetricName), Namespace: optional(a.Namespace), Statistic: optional(a.Statistic),
		ExtendedStatistic: optional(a.ExtendedStatistic), Dimensions: fromDimensions(a.Dimensions), Period: a.Period,
		Unit: optional(a.Unit), EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm,
		Threshold: a.Threshold, ComparisonOperator: optional(string(a.ComparisonOperator)),
		TreatMissingData: optional(a.TreatMissingData), EvaluateLowSampleCountPercentile: optional(a.EvaluateLowSampleCountPercentile),
		ThresholdMetricId: optional(a.ThresholdMetricId), StateTransitionedTimestamp: awsTime(r.StateTransitioned),
	}
	for _, q := range a.Metrics {
		out.Metrics = append(out.Metrics, fromAlarmQuery(q))
	}
	return out
}

func fromCompositeAlarm(r *alarm.Record) CompositeAlarm {
	c := r.Composite
	st := r.State.String()
	return CompositeAlarm{
		ActionsEnabled: &c.ActionsEnabled, AlarmActions: strList(c.AlarmActions), AlarmArn: optional(r.ARN()),
		AlarmConfigurationUpdatedTimestamp: awsTime(r.ConfigUpdated), AlarmDescription: optional(c.AlarmDescription),
		AlarmName: &r.Name, AlarmRule: &c.AlarmRule, InsufficientDataActions: strList(c.InsufficientDataActions),
		OKActions: strList(c.OKActions), StateReason: &r.Reason, StateReasonData: optional(r.ReasonData),
		StateUpdatedTimestamp: awsTime(r.StateUpdated), StateValue: &st, StateTransitionedTimestamp: awsTime(r.StateTransitioned),
		ActionsSuppressedBy: optional(r.SuppressedBy), ActionsSuppressedReason: optional(r.SuppressedReason),
		ActionsSuppressor: optional(c.ActionsSuppressor), ActionsSuppressorWaitPeriod: c.ActionsSuppressorWaitPeriod,
		ActionsSuppressorExtensionPeriod: c.ActionsSuppressorExtensionPeriod,
	}
}

// DescribeAlarmsInput is the model's DescribeAlarmsInput.
type DescribeAlarmsInput struct {
	AlarmNames          []string `json:"AlarmNames,omitempty"`
	AlarmNamePrefix     *string  `json:"AlarmNamePrefix,omitempty"`
	AlarmTypes          []string `json:"AlarmTypes,omitempty"`
	ChildrenOfAlarmName *string  `json:"ChildrenOfAlarmName,omitempty"`
	ParentsOfAlarmName  *string  `json:"ParentsOfAlarmName,omitempty"`
	StateValue          *string  `json:"StateValue,omitempty"`
	ActionPrefix        *string  `json:"ActionPrefix,omitempty"`
	MaxRecords          *int32   `json:"MaxRecords,omitempty"`
	NextToken           *string  `json:"NextToken,omitempty"`
}

// LogAlarm is the model's LogAlarm, an alarm on a CloudWatch Logs query. trailwatch has none, so
// the type has no members; it exists so that DescribeAlarms carries the list AWS carries.
type LogAlarm struct{}

// DescribeAlarmsOutput is the model's DescribeAlarmsOutput; the three lists are always present,
// as in AWS's answers (LogAlarms is empty: trailwatch has no log alarms).
type DescribeAlarmsOutput struct {
	CompositeAlarms []CompositeAlarm `json:"CompositeAlarms"`
	MetricAlarms    []MetricAlarm    `json:"MetricAlarms"`
	LogAlarms       []LogAlarm       `json:"LogAlarms"`
	NextToken       *string          `json:"NextToken,omitempty"`
}

func (h alarmHandlers) describeAlarms(ctx context.Context, in *DescribeAlarmsInput) (*DescribeAlarmsOutput, error) {
	res, err := h.svc.DescribeAlarms(ctx, alarmScope(ctx), alarm.DescribeInput{
		AlarmNames: in.AlarmNames, AlarmNamePrefix: deref(in.AlarmNamePrefix), AlarmTypes: in.AlarmTypes,
		ChildrenOfAlarmName: deref(in.ChildrenOfAlarmName), ParentsOfAlarmName: deref(in.ParentsOfAlarmName),
		StateValue: deref(in.StateValue), ActionPrefix: deref(in.ActionPrefix), MaxRecords: in.MaxRecords, NextToken: deref(in.NextToken),
	})
	if err != nil {
		return nil, err
	}
	out := &DescribeAlarmsOutput{CompositeAlarms: []CompositeAlarm{}, MetricAlarms: []MetricAlarm{}, LogAlarms: []LogAlarm{},
		NextToken: optional(res.NextToken)}
	for _, r := range res.MetricAlarms {
		out.MetricAlarms = append(out.MetricAlarms, fromMetricAlarm(r))
	}
	for _, r := range res.CompositeAlarms {
		out.CompositeAlarms = append(out.CompositeAlarms, fromCompositeAlarm(r))
	}
	return out, nil
}

// DescribeAlarmsForMetricInput is the model's DescribeAlarmsForMetricInput.
type DescribeAlarmsForMetricInput struct {
	MetricName        *string     `json:"MetricName,omitempty"`
	Namespace         *string     `json:"Namespace,omitempty"`
	Statistic         *string     `json:"Statistic,omitempty"`
	ExtendedStatistic *string     `json:"ExtendedStatistic,omitempty"`
	Dimensions        []Dimension `json:"Dimensions,omitempty"`
	Period            *int32      `json:"Period,omitempty"`
	Unit              *string     `json:"Unit,omitempty"`
}

// DescribeAlarmsForMetricOutput is the model's DescribeAlarmsForMetricOutput.
type DescribeAlarmsForMetricOutput struct {
	MetricAlarms []MetricAlarm `json:"MetricAlarms"`
}

func (h alarmHandlers) describeAlarmsForMetric(ctx context.Context, in *DescribeAlarmsForMetricInput) (*DescribeAlarmsForMetricOutput, error) {
	recs, err := h.svc.DescribeAlarmsForMetric(ctx, alarmScope(ctx), alarm.ForMetricInput{
		MetricName: deref(in.MetricName), Namespace: deref(in.Namespace), Statistic: deref(in.Statistic),
		ExtendedStatistic: deref(in.ExtendedStatistic), Dimensions: toDimensions(in.Dimensions), Period: in.Period, Unit: deref(in.Unit),
	})
	if err != nil {
		return nil, err
	}
	out := &DescribeAlarmsForMetricOutput{MetricAlarms: []MetricAlarm{}}
	for _, r := range recs {
		out.MetricAlarms = append(out.MetricAlarms, fromMetricAlarm(r))
	}
	return out, nil
}

// AlarmNamesInput is the input of DeleteAlarms, EnableAlarmActions and DisableAlarmActions.
type AlarmNamesInput struct {
	AlarmNames []string `json:"AlarmNames,omitempty"`
}

func missingAlarmNames(in *AlarmNamesInput) error {
	if in.AlarmNames == nil {
		return &alarm.Error{Code: alarm.CodeValidationError, Message: "1 validation error detected: Value null at 'alarmNames' failed to satisfy constraint: Member must not be null"}
	}
	return nil
}

func (h alarmHandlers) deleteAlarms(ctx context.Context, in *AlarmNamesInput) (*struct{}, error) {
	if err := missingAlarmNames(in); err != nil {
		return nil, err
	}
	if err := h.svc.DeleteAlarms(ctx, alarmScope(ctx), in.AlarmNames); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (h alarmHandlers) enableAlarmActions(ctx context.Context, in *AlarmNamesInput) (*struct{}, error) {
	if err := missingAlarmNames(in); err != nil {
		return nil, err
	}
	if err := h.svc.SetActionsEnabled(ctx, alarmScope(ctx), in.AlarmNames, true); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (h alarmHandlers) disableAlarmActions(ctx context.Context, in *AlarmNamesInput) (*struct{}, error) {
	if err := missingAlarmNames(in); err != nil {
		return nil, err
	}
	if err := h.svc.SetActionsEnabled(ctx, alarmScope(ctx), in.AlarmNames, false); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// SetAlarmStateInput is the model's SetAlarmStateInput.
type SetAlarmStateInput struct {
	AlarmName       *string `json:"AlarmName,omitempty"`
	StateValue      *string `json:"StateValue,omitempty"`
	StateReason     *string `json:"StateReason,omitempty"`
	StateReasonData *string `json:"StateReasonData,omitempty"`
}

func (h alarmHandlers) setAlarmState(ctx context.Context, in *SetAlarmStateInput) (*struct{}, error) {
	err := h.svc.SetAlarmState(ctx, alarmScope(ctx), deref(in.AlarmName), alarm.SetStateRequest{
		StateValue: deref(in.StateValue), StateReason: deref(in.StateReason), StateReasonData: deref(in.StateReasonData)})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// DescribeAlarmHistoryInput is the model's DescribeAlarmHistoryInput.
type DescribeAlarmHistoryInput struct {
	AlarmName       *string      `json:"AlarmName,omitempty"`
	AlarmTypes      []string     `json:"AlarmTypes,omitempty"`
	HistoryItemType *string      `json:"HistoryItemType,omitempty"`
	StartDate       *awsapi.Time `json:"StartDate,omitempty"`
	EndDate         *awsapi.Time `json:"EndDate,omitempty"`
	MaxRecords      *int32       `json:"MaxRecords,omitempty"`
	NextToken       *string      `json:"NextToken,omitempty"`
	ScanBy          *string      `json:"ScanBy,omitempty"`
}

// AlarmHistoryItem is the model's AlarmHistoryItem.
type AlarmHistoryItem struct {
	AlarmName       *string      `json:"AlarmName,omitempty"`
	AlarmType       *string      `json:"AlarmType,omitempty"`
	Timestamp       *awsapi.Time `json:"Timestamp,omitempty"`
	HistoryItemType *string      `json:"HistoryItemType,omitempty"`
	HistorySummary  *string      `json:"HistorySummary,omitempty"`
	HistoryData     *string      `json:"HistoryData,omitempty"`
}

// DescribeAlarmHistoryOutput is the model's DescribeAlarmHistoryOutput.
type DescribeAlarmHistoryOutput struct {
	AlarmHistoryItems []AlarmHistoryItem `json:"AlarmHistoryItems"`
	NextToken         *string            `json:"NextToken,omitempty"`
}

func (h alarmHandlers) describeAlarmHistory(ctx context.Context, in *DescribeAlarmHistoryInput) (*DescribeAlarmHistoryOutput, error) {
	items, next, err := h.svc.DescribeAlarmHistory(ctx, alarmScope(ctx), alarm.HistoryInput{
		AlarmName: deref(in.AlarmName), AlarmTypes: in.AlarmTypes, HistoryItemType: deref(in.HistoryItemType),
		StartDate: fromTime(in.StartDate), EndDate: fromTime(in.EndDate), MaxRecords: in.MaxRecords,
		NextToken: deref(in.NextToken), ScanBy: deref(in.ScanBy),
	})
	if err != nil {
		return nil, err
	}
	out := &DescribeAlarmHistoryOutput{AlarmHistoryItems: []AlarmHistoryItem{}, NextToken: optional(next)}
	for _, it := range items {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, AlarmHistoryItem{
			AlarmName: optional(it.AlarmName), AlarmType: optional(it.AlarmType), Timestamp: awsTime(it.Timestamp),
			HistoryItemType: optional(it.HistoryItemType), HistorySummary: optional(it.HistorySummary), HistoryData: optional(it.HistoryData),
		})
	}
	return out, nil
}

// ListTagsForResourceInput is the model's ListTagsForResourceInput.
type ListTagsForResourceInput struct {
	ResourceARN *string `json:"ResourceARN,omitempty"`
}

// ListTagsForResourceOutput is the model's ListTagsForResourceOutput.
type ListTagsForResourceOutput struct {
	Tags []Tag `json:"Tags"`
}

func (h alarmHandlers) listTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	tags, err := h.svc.ListTagsForResource(ctx, alarmScope(ctx), deref(in.ResourceARN))
	if err != nil {
		return nil, err
	}
	out := &ListTagsForResourceOutput{Tags: []Tag{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, Tag{Key: optional(t.Key), Value: &t.Value})
	}
	return out, nil
}

// TagResourceInput is the model's TagResourceInput.
type TagResourceInput struct {
	ResourceARN *string `json:"ResourceARN,omitempty"`
	Tags        []Tag   `json:"Tags,omitempty"`
}

// tagResource answers with the model's TagResourceOutput, an empty structure that awsQuery sends
// as <TagResourceResult/> (botocore raises KeyError: 'TagResourceResult' without it).
func (h alarmHandlers) tagResource(ctx context.Context, in *TagResourceInput) (*awsapi.EmptyResult, error) {
	if err := h.svc.TagResource(ctx, alarmScope(ctx), deref(in.ResourceARN), toTags(in.Tags)); err != nil {
		return nil, err
	}
	return &awsapi.EmptyResult{}, nil
}

// UntagResourceInput is the model's UntagResourceInput.
type UntagResourceInput struct {
	ResourceARN *string  `json:"ResourceARN,omitempty"`
	TagKeys     []string `json:"TagKeys,omitempty"`
}

// untagResource answers with the model's empty UntagResourceOutput (<UntagResourceResult/>).
func (h alarmHandlers) untagResource(ctx context.Context, in *UntagResourceInput) (*awsapi.EmptyResult, error) {
	if err := h.svc.UntagResource(ctx, alarmScope(ctx), deref(in.ResourceARN), in.TagKeys); err != nil {
		return nil, err
	}
	return &awsapi.EmptyResult{}, nil
}
