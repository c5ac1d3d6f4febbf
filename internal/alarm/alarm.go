package alarm

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trailwatch/trailwatch/internal/metricmath"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// MetricAlarm is the configuration of a metric alarm: every PutMetricAlarm parameter of the
// awscli 2.9.19 model except Tags, which belong to the resource store, not to evaluation.
// Optional numbers are pointers so that "absent" and "0" stay distinguishable, as AWS reports
// different errors for them and echoes DatapointsToAlarm only when it was set.
type MetricAlarm struct {
	AlarmName string
	// AlarmDescription "" means unset; SNS messages then carry null.
	AlarmDescription string
	// ActionsEnabled defaults to true in PutMetricAlarm; the API layer applies that default.
	ActionsEnabled          bool
	OKActions               []string
	AlarmActions            []string
	InsufficientDataActions []string

	// The single-metric form. Exactly one of it and Metrics is used.
	MetricName        string
	Namespace         string
	Dimensions        []metrics.Dimension
	Statistic         string
	ExtendedStatistic string
	Unit              string
	Period            *int32

	EvaluationPeriods *int32
	// DatapointsToAlarm is M of "M out of N"; nil means N-of-N and selects the legacy reason wording.
	DatapointsToAlarm  *int32
	Threshold          *float64
	ComparisonOperator ComparisonOperator
	// TreatMissingData "" means unset (behaves as "missing", echoed as "missing" in SNS).
	TreatMissingData                 string
	EvaluateLowSampleCountPercentile string

	// Metrics is the metric-math / multi-query form.
	Metrics           []MetricDataQuery
	ThresholdMetricId string
}

// MetricDataQuery is one entry of an alarm's Metrics list.
type MetricDataQuery struct {
	Id         string
	MetricStat *MetricStat
	Expression string
	Label      string
	// ReturnData nil means true; exactly one query of an alarm may return data.
	ReturnData *bool
	Period     *int32
	AccountId  string
}

// MetricStat names a metric and how to aggregate it within a MetricDataQuery.
type MetricStat struct {
	Namespace  string
	MetricName string
	Dimensions []metrics.Dimension
	Period     int32
	Stat       string
	Unit       string
}

// returns reports whether the query returns data (ReturnData defaults to true).
func (q MetricDataQuery) returns() bool { return q.ReturnData == nil || *q.ReturnData }

// WatchesExpression reports whether the alarm watches a metric math expression: its query that
// returns data is an Expression.
func (a *MetricAlarm) WatchesExpression() bool {
	for _, q := range a.Metrics {
		if q.returns() {
			return q.Expression != ""
		}
	}
	return false
}

// N returns EvaluationPeriods, or 0 when unset.
func (a *MetricAlarm) N() int {
	if a.EvaluationPeriods == nil {
		return 0
	}
	return int(*a.EvaluationPeriods)
}

// M returns DatapointsToAlarm, defaulting to EvaluationPeriods (N-of-N) when unset.
func (a *MetricAlarm) M() int {
	if a.DatapointsToAlarm == nil {
		return a.N()
	}
	return int(*a.DatapointsToAlarm)
}

// Treatment returns the effective TreatMissingData. Alarms on AWS/DynamoDB metrics always ignore
// missing data whatever they say [CWUG "alarms-and-missing-data"].
func (a *MetricAlarm) Treatment() string {
	if a.Namespace == "AWS/DynamoDB" {
		return TreatIgnore
	}
	if a.TreatMissingData == "" {
		return TreatMissing
	}
	return a.TreatMissingData
}

// PeriodSeconds returns the period of the evaluated series: Period, or the period of the query
// that returns data for a Metrics alarm (for an expression without Period, the shortest period of
// the list's metrics).
func (a *MetricAlarm) PeriodSeconds() int {
	if a.Period != nil {
		return int(*a.Period)
	}
	for _, q := range a.Metrics {
		if !q.returns() {
			continue
		}
		if q.MetricStat != nil {
			return int(q.MetricStat.Period)
		}
		if q.Period != nil {
			return int(*q.Period)
		}
	}
	// An expression without Period has the shortest period of the list's metrics, as
	// GetMetricData gives it (metrics' exprPeriod).
	p := 0
	for _, q := range a.Metrics {
		if q.MetricStat != nil && (p == 0 || int(q.MetricStat.Period) < p) {
			p = int(q.MetricStat.Period)
		}
	}
	return p
}

// StatisticName returns the statistic the caller must fetch datapoints with: Statistic,
// ExtendedStatistic or the returning query's Stat.
func (a *MetricAlarm) StatisticName() string {
	switch {
	case a.Statistic != "":
		return a.Statistic
	case a.ExtendedStatistic != "":
		return a.ExtendedStatistic
	}
	for _, q := range a.Metrics {
		if q.returns() && q.MetricStat != nil {
			return q.MetricStat.Stat
		}
	}
	return ""
}

// metricIDPattern is the pattern of MetricDataQuery.Id in the API model.
var metricIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// validStatistics is the Statistic enum in the order AWS prints it in constraint messages
// (unverified: Java set order; the model order is SampleCount, Average, Sum, Minimum, Maximum).
var validStatistics = []string{StatSampleCount, StatAverage, StatSum, StatMinimum, StatMaximum}

// standardUnits is the StandardUnit enum of the model.
var standardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// constraints collects Smithy-style member-constraint violations, which AWS reports together as
// "N validation error(s) detected: ...; ..." before any semantic check runs.
type constraints []string

func (c *constraints) add(format string, args ...any) { *c = append(*c, fmt.Sprintf(format, args...)) }

func (c *constraints) null(member string) {
	c.add("Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func (c *constraints) length(member, v string, lo, hi int) {
	n := utf8.RuneCountInString(v)
	if n < lo {
		c.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", v, member, lo)
	}
	if n > hi {
		c.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, member, hi)
	}
}

func (c *constraints) min(member string, v int64, lo int64) {
	if v < lo {
		c.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", v, member, lo)
	}
}

func (c *constraints) enum(member, v string, set []string) {
	for _, s := range set {
		if s == v {
			return
		}
	}
	c.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, member, strings.Join(set, ", "))
}

func (c *constraints) list(member string, l []string, maxLen int) {
	if len(l) > maxLen {
		c.add("Value '[%s]' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", strings.Join(l, ", "), member, maxLen)
	}
	for i, s := range l {
		c.length(fmt.Sprintf("%s.%d.member", member, i+1), s, 1, 1024)
	}
}

func (c constraints) err() error {
	switch len(c) {
	case 0:
		return nil
	case 1:
		return &Error{Code: CodeValidationError, Message: "1 validation error detected: " + c[0]}
	}
	return &Error{Code: CodeValidationError, Message: fmt.Sprintf("%d validation errors detected: %s", len(c), strings.Join(c, "; "))}
}

// Validate reproduces PutMetricAlarm's validation: first the model's member constraints (all
// reported in one message), then the semantic rules, first failure wins. Messages quoted from
// real AWS output are marked with their source; the others follow AWS's style but are
// unverified (see the package Decisions).
func (a *MetricAlarm) Validate() error {
	var c constraints
	if a.AlarmName == "" {
		c.null("alarmName")
	} else {
		c.length("alarmName", a.AlarmName, 1, 255)
	}
	c.length("alarmDescription", a.AlarmDescription, 0, 1024)
	c.list("oKActions", a.OKActions, 5)
	c.list("alarmActions", a.AlarmActions, 5)
	c.list("insufficientDataActions", a.InsufficientDataActions, 5)
	if a.MetricName != "" {
		c.length("metricName", a.MetricName, 1, 255)
	}
	if a.Namespace != "" {
		c.length("namespace", a.Namespace, 1, 255)
		if strings.HasPrefix(a.Namespace, ":") {
			c.add("Value '%s' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*", a.Namespace)
		}
	}
	if a.Statistic != "" {
		c.enum("statistic", a.Statistic, validStatistics)
	}
	if len(a.Dimensions) > 30 {
		c.add("Value '%v' at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30", a.Dimensions)
	}
	if a.Period != nil {
		c.min("period", int64(*a.Period), 1)
	}
	if a.Unit != "" {
		c.enum("unit", a.Unit, standardUnits)
	}
	if a.EvaluationPeriods == nil {
		c.null("evaluationPeriods")
	} else {
		c.min("evaluationPeriods", int64(*a.EvaluationPeriods), 1)
	}
	if a.DatapointsToAlarm != nil {
		c.min("datapointsToAlarm", int64(*a.DatapointsToAlarm), 1)
	}
	if a.ComparisonOperator == "" {
		c.null("comparisonOperator")
	} else {
		ops := make([]string, len(comparisonOperators))
		for i, op := range comparisonOperators {
			ops[i] = string(op)
		}
		c.enum("comparisonOperator", string(a.ComparisonOperator), ops)
	}
	if a.TreatMissingData != "" {
		c.length("treatMissingData", a.TreatMissingData, 1, 255)
	}
	if a.EvaluateLowSampleCountPercentile != "" {
		c.length("evaluateLowSampleCountPercentile", a.EvaluateLowSampleCountPercentile, 1, 255)
	}
	if a.ThresholdMetricId != "" {
		c.length("thresholdMetricId", a.ThresholdMetricId, 1, 255)
	}
	if err := c.err(); err != nil {
		return err
	}
	return a.validateSemantics()
}

func invalid(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (a *MetricAlarm) validateSemantics() error {
	if strings.ContainsFunc(a.AlarmName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		// [CWUG]: "Alarm names must contain only UTF-8 characters, and can't contain ASCII control characters".
		return invalid(CodeValidationError, "AlarmName must not contain ASCII control characters.")
	}
	if len(a.Metrics) > 0 {
		// [TROPO-1276] observed "Statistic should not be set if list of Metrics is set."; the
		// same sentence is used for the other single-metric parameters [API PutMetricAlarm:
		// "you cannot include the MetricName, Dimensions, Period, Namespace, Statistic, or
		// ExtendedStatistic parameters"].
		for _, p := range []struct {
			name string
			set  bool
		}{
			{"MetricName", a.MetricName != ""}, {"Namespace", a.Namespace != ""},
			{"Dimensions", len(a.Dimensions) > 0}, {"Period", a.Period != nil},
			{"Statistic", a.Statistic != ""}, {"ExtendedStatistic", a.ExtendedStatistic != ""},
		} {
			if p.set {
				return invalid(CodeValidationError, "%s should not be set if list of Metrics is set.", p.name)
			}
		}
		if err := a.validateQueries(); err != nil {
			return err
		}
	} else {
		if a.MetricName == "" {
			// Observed: "MetricName must not be null" (aws-cloformation/cfn-lint#771).
			return invalid(CodeValidationError, "MetricName must not be null")
		}
		if a.Namespace == "" {
			return invalid(CodeValidationError, "Namespace must not be null")
		}
		if a.Statistic != "" && a.ExtendedStatistic != "" {
			return invalid(CodeInvalidParameterCombination, "Statistic and ExtendedStatistic must not both be set.")
		}
		if a.Statistic == "" && a.ExtendedStatistic == "" {
			return invalid(CodeMissingParameter, "The parameter Statistic or the parameter ExtendedStatistic must be specified.")
		}
		if a.ExtendedStatistic != "" {
			if _, ok := percentile(a.ExtendedStatistic); !ok {
				return invalid(CodeInvalidParameterValue, "The value %s for parameter ExtendedStatistic is not supported.", a.ExtendedStatistic)
			}
		}
		if a.Period == nil {
			return invalid(CodeMissingParameter, "The parameter Period must be specified.")
		}
		if err := validPeriod(int(*a.Period)); err != nil {
			return err
		}
	}
	n := a.N()
	if a.DatapointsToAlarm != nil && int(*a.DatapointsToAlarm) > n {
		// Observed verbatim [TF-24070].
		return invalid(CodeValidationError, "DatapointsToAlarm must be less than or equal to EvaluationPeriods")
	}
	if p := a.PeriodSeconds(); p > 0 {
		total := int64(p) * int64(n)
		if p < 3600 && total > 86400 {
			// Eucalyptus' clone of the AWS text; the one-day limit applies below one-hour periods.
			return invalid(CodeInvalidParameterCombination, "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).")
		}
		if total > 604800 {
			return invalid(CodeInvalidParameterCombination, "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800).")
		}
	}
	switch a.TreatMissingData {
	case "", TreatBreaching, TreatNotBreaching, TreatIgnore, TreatMissing:
	default:
		return invalid(CodeValidationError, "The value %s is not supported for TreatMissingData parameter. Supported values are [breaching, notBreaching, ignore, missing].", a.TreatMissingData)
	}
	switch a.EvaluateLowSampleCountPercentile {
	case "", LowSampleEvaluate, LowSampleIgnore:
	default:
		return invalid(CodeValidationError, "Option %s is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.", a.EvaluateLowSampleCountPercentile)
	}
	if a.ComparisonOperator.static() {
		if a.ThresholdMetricId != "" {
			return invalid(CodeValidationError, "ThresholdMetricId should not be set for a static threshold alarm.")
		}
		if a.Threshold == nil {
			return invalid(CodeValidationError, "Threshold must be set for a static threshold alarm.")
		}
	} else {
		if a.Threshold != nil {
			return invalid(CodeValidationError, "Threshold should not be set for an anomaly detection alarm.")
		}
		if a.ThresholdMetricId == "" {
			return invalid(CodeValidationError, "ThresholdMetricId must be set for an anomaly detection alarm.")
		}
	}
	return nil
}

// validPeriod accepts 10, 20, 30 and multiples of 60 (the newest model documentation).
func validPeriod(p int) error {
	if p == 10 || p == 20 || p == 30 || (p > 0 && p%60 == 0) {
		return nil
	}
	return invalid(CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60")
}

func (a *MetricAlarm) validateQueries() error {
	if len(a.Metrics) > 20 {
		return invalid(CodeValidationError, "The maximum number of metrics in a metric math alarm is 20.")
	}
	returning := 0
	ids := map[string]bool{}
	for _, q := range a.Metrics {
		if q.Id == "" {
			return invalid(CodeValidationError, "Id must not be null")
		}
		if !metricIDPattern.MatchString(q.Id) {
			// [CWUG]: the Id "must start with a lowercase letter"; cfn-lint#1944 records AWS's
			// "Invalid metrics list" for an Id that does not.
			return invalid(CodeValidationError, "Invalid metrics list: the Id %s must start with a lower-case letter and hold only letters, digits and underscores.", q.Id)
		}
		if ids[q.Id] {
			return invalid(CodeValidationError, "The value %s for parameter Metrics.Id is not unique.", q.Id)
		}
		ids[q.Id] = true
		if (q.MetricStat == nil) == (q.Expression == "") {
			return invalid(CodeValidationError, "Exactly one element of the metrics list should specify either an expression or a metric stat.")
		}
		if q.MetricStat != nil {
			if err := validPeriod(int(q.MetricStat.Period)); err != nil {
				return err
			}
		}
		if q.Expression != "" && q.Period != nil {
			if err := validPeriod(int(*q.Period)); err != nil {
				return err
			}
		}
		if q.returns() {
			returning++
		}
	}
	if returning != 1 {
		return invalid(CodeValidationError, "Exactly one element of the metrics list should return data.")
	}
	return a.checkExpressions()
}

// checkExpressions checks the expressions of a Metrics alarm before any data exists
// (metricmath.Check): each parses, names only Ids of the list, takes part in no cycle and calls
// its functions correctly, SEARCH is refused ([CWUG "using-metric-math": "You can't create an
// alarm based on a SEARCH expression"]), and the query that returns data produces one time
// series ("an alarm based on a math expression can watch only one time series"). The texts start
// with "Invalid metrics list", the error CloudFormation relays from PutMetricAlarm for a bad
// Metrics list (aws-cloudformation/cfn-lint#1944); what follows is trailwatch's (unverified).
func (a *MetricAlarm) checkExpressions() error {
	batch := make([]metricmath.Query, len(a.Metrics))
	returned := -1
	for i, q := range a.Metrics {
		batch[i].ID = q.Id
		if q.returns() {
			returned = i
		}
		if q.Expression == "" {
			continue
		}
		e, err := metricmath.Parse(q.Expression)
		if err != nil {
			return invalid(CodeValidationError, "Invalid metrics list: the expression of Id %s in Metrics is not a valid metric math expression: %v.", q.Id, err)
		}
		batch[i].Expr = e
	}
	kinds, err := metricmath.Check(batch)
	var unknown *metricmath.UnknownRefError
	var cycle *metricmath.CycleError
	var qe *metricmath.QueryError
	switch {
	case errors.As(err, &unknown):
		return invalid(CodeValidationError, "Invalid metrics list: the expression of Id %s in Metrics refers to %s, which is not the Id of any element of Metrics.", unknown.ID, unknown.Ref)
	case errors.As(err, &cycle):
		return invalid(CodeValidationError, "Invalid metrics list: the expressions in Metrics depend on each other in a cycle: %s.", strings.Join(cycle.Path, " -> "))
	case errors.As(err, &qe):
		return invalid(CodeValidationError, "Invalid metrics list: error in the expression of Id %s in Metrics: %v.", a.Metrics[qe.Index].Id, qe.Err)
	case err != nil:
		return invalid(CodeValidationError, "Invalid metrics list: %v.", err)
	}
	if returned >= 0 && kinds[returned] != metricmath.KindSeries {
		return invalid(CodeValidationError, "Invalid metrics list: the expression of Id %s returns an array of time series, but an alarm watches a single time series.", a.Metrics[returned].Id)
	}
	return nil
}

// percentile parses an extended statistic "pNN[.NN]" into a fraction in [0, 1].
func percentile(s string) (float64, bool) {
	if len(s) < 2 || s[0] != 'p' {
		return 0, false
	}
	v, err := strconv.ParseFloat(s[1:], 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 100 || strings.ContainsAny(s[1:], "eE+-") {
		return 0, false
	}
	return v / 100, true
}
