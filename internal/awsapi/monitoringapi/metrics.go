package monitoringapi

import (
	"context"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Dimension is the model's Dimension.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// DimensionFilter is the model's DimensionFilter: Value is optional.
type DimensionFilter struct {
	Name  string  `json:"Name"`
	Value *string `json:"Value,omitempty"`
}

// StatisticSet is the model's StatisticSet; every member is required, so absence is kept.
type StatisticSet struct {
	SampleCount *float64 `json:"SampleCount,omitempty"`
	Sum         *float64 `json:"Sum,omitempty"`
	Minimum     *float64 `json:"Minimum,omitempty"`
	Maximum     *float64 `json:"Maximum,omitempty"`
}

// MetricDatum is the model's MetricDatum.
type MetricDatum struct {
	MetricName        *string       `json:"MetricName,omitempty"`
	Dimensions        []Dimension   `json:"Dimensions,omitempty"`
	Timestamp         *awsapi.Time  `json:"Timestamp,omitempty"`
	Value             *float64      `json:"Value,omitempty"`
	StatisticValues   *StatisticSet `json:"StatisticValues,omitempty"`
	Values            []float64     `json:"Values,omitempty"`
	Counts            []float64     `json:"Counts,omitempty"`
	Unit              *string       `json:"Unit,omitempty"`
	StorageResolution *int32        `json:"StorageResolution,omitempty"`
}

// Entity is the model's Entity (accepted by the decoder, not supported).
type Entity struct {
	KeyAttributes map[string]string `json:"KeyAttributes,omitempty"`
	Attributes    map[string]string `json:"Attributes,omitempty"`
}

// EntityMetricData is the model's EntityMetricData.
type EntityMetricData struct {
	Entity     *Entity       `json:"Entity,omitempty"`
	MetricData []MetricDatum `json:"MetricData,omitempty"`
}

// PutMetricDataInput is the model's PutMetricDataInput.
type PutMetricDataInput struct {
	Namespace              *string            `json:"Namespace,omitempty"`
	MetricData             []MetricDatum      `json:"MetricData,omitempty"`
	EntityMetricData       []EntityMetricData `json:"EntityMetricData,omitempty"`
	StrictEntityValidation *bool              `json:"StrictEntityValidation,omitempty"`
}

func (h handlers) putMetricData(ctx context.Context, in *PutMetricDataInput) (*struct{}, error) {
	if len(in.EntityMetricData) > 0 {
		// Entities attach metrics to resources in CloudWatch's explore views; trailwatch has none,
		// and silently dropping the data would be worse than refusing it.
		return nil, &metrics.Error{Code: metrics.CodeInvalidParameterValue,
			Message: "The parameter EntityMetricData is not supported by trailwatch yet; send the data in MetricData."}
	}
	req := metrics.PutMetricDataInput{Namespace: deref(in.Namespace)}
	for _, d := range in.MetricData {
		md := metrics.MetricDatum{
			MetricName: deref(d.MetricName), Dimensions: toDimensions(d.Dimensions), Timestamp: fromTime(d.Timestamp),
			Value: d.Value, Values: d.Values, Counts: d.Counts, Unit: deref(d.Unit), StorageResolution: d.StorageResolution,
		}
		if sv := d.StatisticValues; sv != nil {
			md.StatisticValues = &metrics.StatisticValues{SampleCount: sv.SampleCount, Sum: sv.Sum, Minimum: sv.Minimum, Maximum: sv.Maximum}
		}
		req.MetricData = append(req.MetricData, md)
	}
	if err := h.svc.PutMetricData(ctx, scope(ctx), req); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// Metric is the model's Metric.
type Metric struct {
	Namespace  *string     `json:"Namespace,omitempty"`
	MetricName *string     `json:"MetricName,omitempty"`
	Dimensions []Dimension `json:"Dimensions"`
}

// ListMetricsInput is the model's ListMetricsInput.
type ListMetricsInput struct {
	Namespace             *string           `json:"Namespace,omitempty"`
	MetricName            *string           `json:"MetricName,omitempty"`
	Dimensions            []DimensionFilter `json:"Dimensions,omitempty"`
	NextToken             *string           `json:"NextToken,omitempty"`
	RecentlyActive        *string           `json:"RecentlyActive,omitempty"`
	IncludeLinkedAccounts *bool             `json:"IncludeLinkedAccounts,omitempty"`
	OwningAccount         *string           `json:"OwningAccount,omitempty"`
}

// ListMetricsOutput is the model's ListMetricsOutput.
type ListMetricsOutput struct {
	Metrics   []Metric `json:"Metrics"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// listMetrics serves ListMetrics. Cross-account observability (IncludeLinkedAccounts,
// OwningAccount) has no linked accounts here: the caller's own metrics are listed.
func (h handlers) listMetrics(ctx context.Context, in *ListMetricsInput) (*ListMetricsOutput, error) {
	req := metrics.ListMetricsInput{Namespace: deref(in.Namespace), MetricName: deref(in.MetricName),
		NextToken: deref(in.NextToken), RecentlyActive: deref(in.RecentlyActive)}
	for _, f := range in.Dimensions {
		req.Dimensions = append(req.Dimensions, metrics.DimensionFilter{Name: f.Name, Value: f.Value})
	}
	res, err := h.svc.ListMetrics(ctx, scope(ctx), req)
	if err != nil {
		return nil, err
	}
	out := &ListMetricsOutput{Metrics: make([]Metric, 0, len(res.Metrics)), NextToken: optional(res.NextToken)}
	for _, m := range res.Metrics {
		out.Metrics = append(out.Metrics, fromMetric(m))
	}
	return out, nil
}

// GetMetricStatisticsInput is the model's GetMetricStatisticsInput.
type GetMetricStatisticsInput struct {
	Namespace          *string      `json:"Namespace,omitempty"`
	MetricName         *string      `json:"MetricName,omitempty"`
	Dimensions         []Dimension  `json:"Dimensions,omitempty"`
	StartTime          *awsapi.Time `json:"StartTime,omitempty"`
	EndTime            *awsapi.Time `json:"EndTime,omitempty"`
	Period             *int32       `json:"Period,omitempty"`
	Statistics         []string     `json:"Statistics,omitempty"`
	ExtendedStatistics []string     `json:"ExtendedStatistics,omitempty"`
	Unit               *string      `json:"Unit,omitempty"`
}

// Datapoint is the model's Datapoint.
type Datapoint struct {
	Timestamp          *awsapi.Time       `json:"Timestamp,omitempty"`
	SampleCount        *float64           `json:"SampleCount,omitempty"`
	Average            *float64           `json:"Average,omitempty"`
	Sum                *float64           `json:"Sum,omitempty"`
	Minimum            *float64           `json:"Minimum,omitempty"`
	Maximum            *float64           `json:"Maximum,omitempty"`
	Unit               *string            `json:"Unit,omitempty"`
	ExtendedStatistics map[string]float64 `json:"ExtendedStatistics,omitempty"`
}

// GetMetricStatisticsOutput is the model's GetMetricStatisticsOutput.
type GetMetricStatisticsOutput struct {
	Label      *string     `json:"Label,omitempty"`
	Datapoints []Datapoint `json:"Datapoints"`
}

func (h handlers) getMetricStatistics(ctx context.Context, in *GetMetricStatisticsInput) (*GetMetricStatisticsOutput, error) {
	res, err := h.svc.GetMetricStatistics(ctx, scope(ctx), metrics.GetMetricStatisticsInput{
		Namespace: deref(in.Namespace), MetricName: deref(in.MetricName), Dimensions: toDimensions(in.Dimensions),
		StartTime: fromTime(in.StartTime), EndTime: fromTime(in.EndTime), Period: in.Period,
		Statistics: in.Statistics, ExtendedStatistics: in.ExtendedStatistics, Unit: deref(in.Unit),
	})
	if err != nil {
		return nil, err
	}
	out := &GetMetricStatisticsOutput{Label: optional(res.Label), Datapoints: make([]Datapoint, 0, len(res.Datapoints))}
	for _, dp := range res.Datapoints {
		out.Datapoints = append(out.Datapoints, Datapoint{
			Timestamp: &awsapi.Time{Time: dp.Timestamp}, SampleCount: dp.SampleCount, Average: dp.Average, Sum: dp.Sum,
			Minimum: dp.Minimum, Maximum: dp.Maximum, Unit: optional(dp.Unit), ExtendedStatistics: dp.ExtendedStatistics,
		})
	}
	return out, nil
}

// MetricStat is the model's MetricStat.
type MetricStat struct {
	Metric *Metric `json:"Metric,omitempty"`
	Period *int32  `json:"Period,omitempty"`
	Stat   *string `json:"Stat,omitempty"`
	Unit   *string `json:"Unit,omitempty"`
}

// MetricDataQuery is the model's MetricDataQuery.
type MetricDataQuery struct {
	ID         *string     `json:"Id,omitempty"`
	MetricStat *MetricStat `json:"MetricStat,omitempty"`
	Expression *string     `json:"Expression,omitempty"`
	Label      *string     `json:"Label,omitempty"`
	ReturnData *bool       `json:"ReturnData,omitempty"`
	Period     *int32      `json:"Period,omitempty"`
	AccountID  *string     `json:"AccountId,omitempty"`
}

// LabelOptions is the model's LabelOptions (accepted; labels carry no dates here).
type LabelOptions struct {
	Timezone *string `json:"Timezone,omitempty"`
}

// GetMetricDataInput is the model's GetMetricDataInput.
type GetMetricDataInput struct {
	MetricDataQueries []MetricDataQuery `json:"MetricDataQueries,omitempty"`
	StartTime         *awsapi.Time      `json:"StartTime,omitempty"`
	EndTime           *awsapi.Time      `json:"EndTime,omitempty"`
	NextToken         *string           `json:"NextToken,omitempty"`
	ScanBy            *string           `json:"ScanBy,omitempty"`
	MaxDatapoints     *int32            `json:"MaxDatapoints,omitempty"`
	LabelOptions      *LabelOptions     `json:"LabelOptions,omitempty"`
}

// MessageData is the model's MessageData.
type MessageData struct {
	Code  *string `json:"Code,omitempty"`
	Value *string `json:"Value,omitempty"`
}

// MetricDataResult is the model's MetricDataResult. Messages is sent only when there is one (AWS's
// recorded answers have no per-result Messages member otherwise, while the response's own
// Messages list is always present).
type MetricDataResult struct {
	ID         *string       `json:"Id,omitempty"`
	Label      *string       `json:"Label,omitempty"`
	Timestamps []awsapi.Time `json:"Timestamps"`
	Values     []float64     `json:"Values"`
	StatusCode *string       `json:"StatusCode,omitempty"`
	Messages   []MessageData `json:"Messages,omitempty"`
}

// GetMetricDataOutput is the model's GetMetricDataOutput.
type GetMetricDataOutput struct {
	MetricDataResults []MetricDataResult `json:"MetricDataResults"`
	NextToken         *string            `json:"NextToken,omitempty"`
	Messages          []MessageData      `json:"Messages"`
}

func (h handlers) getMetricData(ctx context.Context, in *GetMetricDataInput) (*GetMetricDataOutput, error) {
	req := metrics.GetMetricDataInput{StartTime: fromTime(in.StartTime), EndTime: fromTime(in.EndTime),
		NextToken: deref(in.NextToken), ScanBy: deref(in.ScanBy), MaxDatapoints: in.MaxDatapoints}
	for _, q := range in.MetricDataQueries {
		mq := metrics.MetricDataQuery{ID: deref(q.ID), Expression: deref(q.Expression), Label: deref(q.Label),
			Period: q.Period, ReturnData: q.ReturnData, AccountID: deref(q.AccountID)}
		if ms := q.MetricStat; ms != nil {
			mq.MetricStat = &metrics.MetricStat{Period: ms.Period, Stat: deref(ms.Stat), Unit: deref(ms.Unit)}
			if ms.Metric != nil {
				mq.MetricStat.Metric = &metrics.Metric{Namespace: deref(ms.Metric.Namespace),
					MetricName: deref(ms.Metric.MetricName), Dimensions: toDimensions(ms.Metric.Dimensions)}
			}
		}
		req.MetricDataQueries = append(req.MetricDataQueries, mq)
	}
	res, err := h.svc.GetMetricData(ctx, scope(ctx), req)
	if err != nil {
		return nil, err
	}
	out := &GetMetricDataOutput{MetricDataResults: make([]MetricDataResult, 0, len(res.MetricDataResults)),
		NextToken: optional(res.NextToken), Messages: []MessageData{}}
	for _, r := range res.MetricDataResults {
		mr := MetricDataResult{ID: optional(r.ID), Label: optional(r.Label), StatusCode: optional(r.StatusCode),
			Timestamps: make([]awsapi.Time, len(r.Timestamps)), Values: r.Values}
		for _, m := range r.Messages {
			mr.Messages = append(mr.Messages, MessageData{Code: optional(m.Code), Value: optional(m.Value)})
		}
		for i, ts := range r.Timestamps {
			mr.Timestamps[i] = awsapi.Time{Time: ts}
		}
		if mr.Values == nil {
			mr.Values = []float64{}
		}
		out.MetricDataResults = append(out.MetricDataResults, mr)
	}
	return out, nil
}

func toDimensions(ds []Dimension) []metrics.Dimension {
	if len(ds) == 0 {
		return nil
	}
	out := make([]metrics.Dimension, len(ds))
	for i, d := range ds {
		out[i] = metrics.Dimension{Name: d.Name, Value: d.Value}
	}
	return out
}

func fromMetric(m metrics.Metric) Metric {
	out := Metric{Namespace: optional(m.Namespace), MetricName: optional(m.MetricName), Dimensions: make([]Dimension, 0, len(m.Dimensions))}
	for _, d := range m.Dimensions {
		out.Dimensions = append(out.Dimensions, Dimension{Name: d.Name, Value: d.Value})
	}
	return out
}

func fromTime(t *awsapi.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// optional maps "" to an absent member.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
