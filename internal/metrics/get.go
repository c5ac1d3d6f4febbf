package metrics

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of the read operations, from the API reference and the 2010-08-01 model.
const (
	// MaxStatisticsDatapoints: "The maximum number of data points returned from a single call is
	// 1,440. If you request more than 1,440 data points, CloudWatch returns an error."
	MaxStatisticsDatapoints = 1440
	// DefaultMaxDatapoints is GetMetricData's MaxDatapoints default ("the default of 100,800").
	DefaultMaxDatapoints = 100800
	// MaxMetricDataQueries: "A single GetMetricData call can include as many as 500
	// MetricDataQuery structures."
	MaxMetricDataQueries = 500
	maxStatistics        = 5
	maxExtendedStats     = 10
)

// GetMetricStatisticsInput is GetMetricStatistics' request.
type GetMetricStatisticsInput struct {
	Namespace          string
	MetricName         string
	Dimensions         []Dimension
	StartTime          *time.Time
	EndTime            *time.Time
	Period             *int32
	Statistics         []string
	ExtendedStatistics []string
	Unit               string
}

// Datapoint is one period of GetMetricStatistics' answer; only the requested statistics are set.
type Datapoint struct {
	Timestamp          time.Time
	Unit               string
	SampleCount        *float64
	Average            *float64
	Sum                *float64
	Minimum            *float64
	Maximum            *float64
	ExtendedStatistics map[string]float64
}

// GetMetricStatisticsOutput is GetMetricStatistics' response.
type GetMetricStatisticsOutput struct {
	Label      string
	Datapoints []Datapoint
}

// GetMetricStatistics returns the requested statistics of one metric per period.
//
// Periods are aligned the way the API reference describes StartTime: the start is rounded down (to
// the minute when less than 15 days ago, to 5 minutes up to 63 days, to the hour beyond; to the
// period for 1-30 s periods) and each datapoint's Timestamp is the start of its period; EndTime is
// exclusive. A start older than 3 hours/15 days/63 days with a period that is not a multiple of
// 60/300/3600 returns no datapoints, as documented. Without Unit, data published with different units
// gives one datapoint per unit and period. Datapoints are returned oldest first (CloudWatch promises
// no order). Percentiles are omitted from a datapoint when they cannot be computed exactly (see
// Aggregate.Value).
func (s *Service) GetMetricStatistics(ctx context.Context, scope Scope, in GetMetricStatisticsInput) (GetMetricStatisticsOutput, error) {
	if err := validateNamespace(in.Namespace, "Namespace", false); err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	if err := validateMetricName(in.MetricName, "MetricName"); err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	if in.StartTime == nil {
		return GetMetricStatisticsOutput{}, missing("StartTime")
	}
	if in.EndTime == nil {
		return GetMetricStatisticsOutput{}, missing("EndTime")
	}
	if in.Period == nil {
		return GetMetricStatisticsOutput{}, missing("Period")
	}
	if err := validateDimensions(in.Dimensions, "Dimensions"); err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	stats, err := parseStatistics(in.Statistics, in.ExtendedStatistics)
	if err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	if err := validateUnit(in.Unit, "Unit"); err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	period := int(*in.Period)
	if err := validatePeriod(period, "Period"); err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	start, end := in.StartTime.UTC(), in.EndTime.UTC()
	if !start.Before(end) {
		return GetMetricStatisticsOutput{}, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	// Observed (cloud-custodian#7683): "You have requested up to 86400 datapoints, which exceeds the
	// limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the
	// time range."
	if n := requestedDatapoints(start, end, period); n > MaxStatisticsDatapoints {
		return GetMetricStatisticsOutput{}, combination("You have requested up to %d datapoints, which exceeds the limit of %d. "+
			"You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, MaxStatisticsDatapoints)
	}
	out := GetMetricStatisticsOutput{Label: in.MetricName}
	aligned, ok := alignStart(start, s.now(), period)
	if !ok {
		return out, nil
	}
	m := Metric{Namespace: in.Namespace, MetricName: in.MetricName, Dimensions: in.Dimensions}
	buckets, err := s.buckets(ctx, scope, m, aligned, end, period, in.Unit, in.Unit == "")
	if err != nil {
		return GetMetricStatisticsOutput{}, err
	}
	for i := range buckets {
		b := &buckets[i]
		dp := Datapoint{Timestamp: b.Time, Unit: NormalizeUnit(b.Unit)}
		for _, st := range stats {
			v, ok := b.Value(st)
			if !ok {
				continue
			}
			switch st.kind {
			case statSampleCount:
				dp.SampleCount = &v
			case statAverage:
				dp.Average = &v
			case statSum:
				dp.Sum = &v
			case statMinimum:
				dp.Minimum = &v
			case statMaximum:
				dp.Maximum = &v
			case statPercentile:
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]float64{}
				}
				dp.ExtendedStatistics[st.name] = v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

func parseStatistics(statistics, extended []string) ([]Stat, error) {
	switch {
	case len(statistics) > 0 && len(extended) > 0:
		return nil, combination("The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.")
	case len(statistics) == 0 && len(extended) == 0:
		return nil, combination("At least one of the parameters Statistics and ExtendedStatistics must be specified.")
	case len(statistics) > maxStatistics:
		return nil, constraint("["+strings.Join(statistics, ", ")+"]", "statistics", "Member must have length less than or equal to 5")
	case len(extended) > maxExtendedStats:
		return nil, constraint("["+strings.Join(extended, ", ")+"]", "extendedStatistics", "Member must have length less than or equal to 10")
	}
	var out []Stat
	for i, name := range statistics {
		st, ok := ParseStat(name)
		if !ok || st.IsPercentile() {
			// Observed (cloud-custodian#9137, 2023): "The parameter Statistics.member.1.<list element>
			// must be a value in the set [SampleCount, Average, Sum, Minimum, Maximum]."
			return nil, invalidValue("The parameter Statistics.member.%d.<list element> must be a value in the set [%s].",
				i+1, strings.Join(StandardStatistics, ", "))
		}
		out = append(out, st)
	}
	for i, name := range extended {
		st, ok := ParseStat(name)
		if !ok || !st.IsPercentile() {
			return nil, invalidValue("The value %s for parameter ExtendedStatistics.member.%d is invalid.", name, i+1)
		}
		out = append(out, st)
	}
	return out, nil
}

// validatePeriod applies the Period rules: at least 1 (model), and 1, 5, 10, 20, 30 or a multiple of
// 60 ("For high-resolution metrics ... the period can be 1, 5, 10, 20, 30, 60, or any multiple of
// 60").
func validatePeriod(period int, param string) error {
	if period < 1 {
		return constraint(strconv.Itoa(period), lowerFirst(param), "Member must have value greater than or equal to 1")
	}
	switch {
	case period%60 == 0, period == 1, period == 5, period == 10, period == 20, period == 30:
		return nil
	}
	return invalidValue("The parameter %s must be a multiple of 60.", param)
}

// requestedDatapoints is how many periods [start, end) spans, counting a partial last period.
func requestedDatapoints(start, end time.Time, period int) int64 {
	return int64(math.Ceil(end.Sub(start).Seconds() / float64(period)))
}

// alignStart rounds start down as CloudWatch does for its age relative to now, and reports whether
// the period is usable for data that old (otherwise no datapoints are returned).
func alignStart(start, now time.Time, period int) (time.Time, bool) {
	age := now.Sub(start)
	var unit time.Duration
	switch {
	case age > 63*24*time.Hour:
		unit = time.Hour
	case age > 15*24*time.Hour:
		unit = 5 * time.Minute
	default:
		unit = time.Minute
	}
	if period < 60 {
		// High-resolution periods round to even divisions of the minute and reach back 3 hours.
		return start.Truncate(time.Duration(period) * time.Second), age <= 3*time.Hour
	}
	return start.Truncate(unit), period%int(unit/time.Second) == 0 || age <= 3*time.Hour
}

// GetMetricDataInput is GetMetricData's request.
type GetMetricDataInput struct {
	MetricDataQueries []MetricDataQuery
	StartTime         *time.Time
	EndTime           *time.Time
	NextToken         string
	ScanBy            string
	MaxDatapoints     *int32
}

// MetricDataQuery is one query of GetMetricData. Only MetricStat queries are supported; Expression
// (metric math and Metrics Insights) is rejected with a ValidationError saying so.
type MetricDataQuery struct {
	ID         string
	Expression string
	// Label names the result; empty means the metric name.
	Label      string
	MetricStat *MetricStat
	// Period applies to expressions only, so it is ignored.
	Period *int32
	// ReturnData false leaves the query's result out of the response.
	ReturnData *bool
	// AccountID selects a linked source account in cross-account observability; trailwatch has no
	// linked accounts, so it is ignored and the caller's own metrics are read.
	AccountID string
}

// MetricStat names a metric, a period, a statistic and optionally a unit.
type MetricStat struct {
	// Metric is nil when the request left it out.
	Metric *Metric
	Period *int32
	Stat   string
	Unit   string
}

// MetricDataResult is the answer to one query.
type MetricDataResult struct {
	ID         string
	Label      string
	StatusCode string
	Timestamps []time.Time
	Values     []float64
	// Messages says more about the data returned (for example MessageMultipleUnits); nil when
	// there is nothing to say, and then the member is not sent.
	Messages []MessageData
}

// MessageData is one message of a result: a code and a text.
type MessageData struct {
	Code  string
	Value string
}

// GetMetricDataOutput is GetMetricData's response.
type GetMetricDataOutput struct {
	MetricDataResults []MetricDataResult
	NextToken         string
}

// Status codes of a MetricDataResult.
const (
	StatusComplete    = "Complete"
	StatusPartialData = "PartialData"
)

var metricIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// GetMetricData answers MetricStat queries with the same period alignment as GetMetricStatistics.
// Datapoints with no data are absent, as in CloudWatch; a percentile that cannot be computed (see
// Aggregate.Value) leaves its period out.
//
// Pagination: the datapoints of all returned queries form one sequence (query order, each query's
// points in ScanBy order, newest first by default); a page holds at most MaxDatapoints of them. A
// query whose points continue on a later page has StatusCode PartialData and NextToken is set; the
// token is the position in that sequence, so the caller must repeat the same request with it.
func (s *Service) GetMetricData(ctx context.Context, scope Scope, in GetMetricDataInput) (GetMetricDataOutput, error) {
	if len(in.MetricDataQueries) == 0 {
		return GetMetricDataOutput{}, missing("MetricDataQueries")
	}
	if in.StartTime == nil {
		return GetMetricDataOutput{}, missing("StartTime")
	}
	if in.EndTime == nil {
		return GetMetricDataOutput{}, missing("EndTime")
	}
	if len(in.MetricDataQueries) > MaxMetricDataQueries {
		return GetMetricDataOutput{}, validation("The collection MetricDataQueries must not have a size greater than %d.", MaxMetricDataQueries)
	}
	ascending := false
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		ascending = true
	default:
		return GetMetricDataOutput{}, constraint(in.ScanBy, "scanBy", "Member must satisfy enum value set: [TimestampDescending, TimestampAscending]")
	}
	limit := DefaultMaxDatapoints
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 {
			return GetMetricDataOutput{}, validation("The parameter MaxDatapoints must be greater than 0.")
		}
		limit = int(*in.MaxDatapoints)
	}
	start, end := in.StartTime.UTC(), in.EndTime.UTC()
	if !start.Before(end) {
		return GetMetricDataOutput{}, validation("The parameter StartTime must be less than the parameter EndTime.")
	}
	offset, err := decodeDataToken(in.NextToken)
	if err != nil {
		return GetMetricDataOutput{}, err
	}
	stats, err := validateQueries(in.MetricDataQueries)
	if err != nil {
		return GetMetricDataOutput{}, err
	}

	type series struct {
		q        *MetricDataQuery
		ts       []time.Time
		values   []float64
		messages []MessageData
	}
	var all []series
	now := s.now()
	for i := range in.MetricDataQueries {
		q := &in.MetricDataQueries[i]
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		ms := q.MetricStat
		period := int(*ms.Period)
		sr := series{q: q}
		if aligned, ok := alignStart(start, now, period); ok {
			// Without a Unit the data of each unit stays apart and one unit is picked (pickUnit).
			buckets, err := s.buckets(ctx, scope, *ms.Metric, aligned, end, period, ms.Unit, ms.Unit == "")
			if err != nil {
				return GetMetricDataOutput{}, err
			}
			if ms.Unit == "" {
				buckets, sr.messages = pickUnit(buckets)
			}
			for j := range buckets {
				if v, ok := buckets[j].Value(stats[i]); ok {
					sr.ts = append(sr.ts, buckets[j].Time)
					sr.values = append(sr.values, v)
				}
			}
		}
		if !ascending {
			slices.Reverse(sr.ts)
			slices.Reverse(sr.values)
		}
		all = append(all, sr)
	}

	var out GetMetricDataOutput
	labels := defaultLabels(in.MetricDataQueries)
	pos, pageEnd := 0, offset+limit
	for _, sr := range all {
		res := MetricDataResult{ID: sr.q.ID, Label: labels[sr.q.ID], StatusCode: StatusComplete,
			Timestamps: []time.Time{}, Values: []float64{}, Messages: sr.messages}
		n := len(sr.ts)
		lo, hi := max(offset-pos, 0), min(pageEnd-pos, n)
		if lo < hi {
			res.Timestamps, res.Values = sr.ts[lo:hi], sr.values[lo:hi]
		}
		if pos+n > pageEnd {
			res.StatusCode = StatusPartialData
		}
		pos += n
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	if pos > pageEnd {
		out.NextToken = encodeDataToken(pageEnd)
	}
	return out, nil
}

// validateQueries checks every query and returns each one's parsed statistic. Like CloudWatch, it
// reports all problems at once, one per line, as a ValidationError (observed in telegraf#5420 and
// yet-another-cloudwatch-exporter#1435).
func validateQueries(queries []MetricDataQuery) ([]Stat, error) {
	var problems []string
	stats := make([]Stat, len(queries))
	seen := map[string]bool{}
	for i := range queries {
		q := &queries[i]
		p := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		switch {
		case q.ID == "":
			problems = append(problems, fmt.Sprintf("The parameter %s.Id is required.", p))
		case len(q.ID) > 255 || !metricIDPattern.MatchString(q.ID):
			problems = append(problems, fmt.Sprintf("The value %s for parameter %s.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$.", q.ID, p))
		case seen[q.ID]:
			problems = append(problems, fmt.Sprintf("The value %s for parameter %s.Id is duplicated.", q.ID, p))
		}
		seen[q.ID] = true
		if q.Expression != "" {
			problems = append(problems, fmt.Sprintf("The parameter %s.Expression is not supported: trailwatch does not implement metric math or Metrics Insights queries yet; use MetricStat.", p))
			continue
		}
		ms := q.MetricStat
		if ms == nil {
			problems = append(problems, fmt.Sprintf("The parameter %s.MetricStat is required.", p))
			continue
		}
		sp := p + ".MetricStat"
		switch {
		case ms.Metric == nil || ms.Metric.MetricName == "":
			problems = append(problems, fmt.Sprintf("The parameter %s.Metric.MetricName is required.", sp))
		case ms.Metric.Namespace == "":
			problems = append(problems, fmt.Sprintf("The parameter %s.Metric.Namespace is required.", sp))
		default:
			if err := validateDimensions(ms.Metric.Dimensions, sp+".Metric.Dimensions"); err != nil {
				problems = append(problems, err.(*Error).Message)
			}
		}
		if ms.Period == nil {
			problems = append(problems, fmt.Sprintf("The parameter %s.Period is required.", sp))
		} else if err := validatePeriod(int(*ms.Period), sp+".Period"); err != nil {
			problems = append(problems, fmt.Sprintf("The value %d for parameter %s.Period is not a valid period: it must be 1, 5, 10, 20, 30 or a multiple of 60.", *ms.Period, sp))
		}
		st, ok := ParseStat(ms.Stat)
		if !ok {
			problems = append(problems, fmt.Sprintf("The value for parameter %s.Stat is not a valid statistic.", sp))
		}
		stats[i] = st
		if err := validateUnit(ms.Unit, sp+".Unit"); err != nil {
			problems = append(problems, err.(*Error).Message)
		}
	}
	if len(problems) > 0 {
		return nil, validation("%s", strings.Join(problems, "\n"))
	}
	return stats, nil
}

const dataTokenPrefix = "twd1:"

func encodeDataToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(dataTokenPrefix + strconv.Itoa(offset)))
}

func decodeDataToken(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), dataTokenPrefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, &Error{Code: CodeInvalidNextToken, Message: "The NextToken is invalid."}
}
