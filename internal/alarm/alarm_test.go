package alarm

import (
	"errors"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// cisRootAlarm is the CIS root-usage alarm of the cloudposse/nozaq Terraform modules
// (peers-and-user-needs §(i)): Sum >= 1 over 300 s, one period, notBreaching.
func cisRootAlarm() *MetricAlarm {
	return &MetricAlarm{
		AlarmName: "root-usage", ActionsEnabled: true, AlarmActions: []string{"arn:aws:sns:us-east-1:123456789012:alerts"},
		MetricName: "RootAccountUsage", Namespace: "CISBenchmark", Statistic: StatSum,
		Period: ptr(int32(300)), EvaluationPeriods: ptr(int32(1)), Threshold: ptr(1.0),
		ComparisonOperator: GreaterThanOrEqualToThreshold, TreatMissingData: TreatNotBreaching,
	}
}

func TestValidate(t *testing.T) {
	if err := cisRootAlarm().Validate(); err != nil {
		t.Fatalf("valid alarm rejected: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(a *MetricAlarm)
		code   string
		msg    string
	}{
		{"§1.2 DatapointsToAlarm > EvaluationPeriods [TF-24070]", func(a *MetricAlarm) { a.DatapointsToAlarm = ptr(int32(2)) },
			CodeValidationError, "DatapointsToAlarm must be less than or equal to EvaluationPeriods"},
		{"§1.2 Statistic with Metrics [TROPO-1276]", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period = "", "", nil
			a.Metrics = []MetricDataQuery{{Id: "m1", MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}}
		}, CodeValidationError, "Statistic should not be set if list of Metrics is set."},
		{"MetricName missing (cfn-lint#771)", func(a *MetricAlarm) { a.MetricName = "" }, CodeValidationError, "MetricName must not be null"},
		{"model: evaluationPeriods null", func(a *MetricAlarm) { a.EvaluationPeriods = nil }, CodeValidationError,
			"1 validation error detected: Value null at 'evaluationPeriods' failed to satisfy constraint: Member must not be null"},
		{"model: two constraint violations reported together", func(a *MetricAlarm) {
			a.EvaluationPeriods = ptr(int32(0))
			a.ComparisonOperator = "Bigger"
		}, CodeValidationError, "2 validation errors detected: Value '0' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
			"Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]"},
		{"model: alarmName too long", func(a *MetricAlarm) { a.AlarmName = strings.Repeat("a", 256) }, CodeValidationError,
			"1 validation error detected: Value '" + strings.Repeat("a", 256) + "' at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"model: six alarm actions", func(a *MetricAlarm) { a.AlarmActions = []string{"a", "b", "c", "d", "e", "f"} }, CodeValidationError,
			"1 validation error detected: Value '[a, b, c, d, e, f]' at 'alarmActions' failed to satisfy constraint: Member must have length less than or equal to 5"},
		{"model: statistic enum", func(a *MetricAlarm) { a.Statistic = "Avg" }, CodeValidationError,
			"1 validation error detected: Value 'Avg' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]"},
		{"model: namespace pattern", func(a *MetricAlarm) { a.Namespace = ":x" }, CodeValidationError,
			"1 validation error detected: Value ':x' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*"},
		{"period not 10/20/30/60k", func(a *MetricAlarm) { a.Period = ptr(int32(45)) }, CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60"},
		{"one day below one-hour periods", func(a *MetricAlarm) { a.Period, a.EvaluationPeriods = ptr(int32(60)), ptr(int32(1441)) },
			CodeInvalidParameterCombination, "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."},
		{"seven days for hourly periods", func(a *MetricAlarm) { a.Period, a.EvaluationPeriods = ptr(int32(3600)), ptr(int32(169)) },
			CodeInvalidParameterCombination, "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800)."},
		{"TreatMissingData value [LS-CW-V2]", func(a *MetricAlarm) { a.TreatMissingData = "zero" }, CodeValidationError,
			"The value zero is not supported for TreatMissingData parameter. Supported values are [breaching, notBreaching, ignore, missing]."},
		{"EvaluateLowSampleCountPercentile value [LS-CW-V2]", func(a *MetricAlarm) { a.EvaluateLowSampleCountPercentile = "skip" }, CodeValidationError,
			"Option skip is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore."},
		{"ExtendedStatistic value [LS-CW-V2]", func(a *MetricAlarm) { a.Statistic, a.ExtendedStatistic = "", "p101" }, CodeInvalidParameterValue,
			"The value p101 for parameter ExtendedStatistic is not supported."},
		{"Statistic and ExtendedStatistic", func(a *MetricAlarm) { a.ExtendedStatistic = "p99" }, CodeInvalidParameterCombination,
			"Statistic and ExtendedStatistic must not both be set."},
		{"no statistic", func(a *MetricAlarm) { a.Statistic = "" }, CodeMissingParameter,
			"The parameter Statistic or the parameter ExtendedStatistic must be specified."},
		{"static threshold missing", func(a *MetricAlarm) { a.Threshold = nil }, CodeValidationError, "Threshold must be set for a static threshold alarm."},
		{"control character in name", func(a *MetricAlarm) { a.AlarmName = "a\tb" }, CodeValidationError, "AlarmName must not contain ASCII control characters."},
		{"math: two returning queries", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{
				{Id: "m1", MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}},
				{Id: "e1", Expression: "m1*2"},
			}
		}, CodeValidationError, "Exactly one element of the metrics list should return data."},
		// Metric math alarms (issue 18): the expressions are checked before any data exists.
		{"math: an Id not starting with a lower-case letter", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "5xxErrors", MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}}
		}, CodeValidationError, "Invalid metrics list: the Id 5xxErrors must start with a lower-case letter and hold only letters, digits and underscores."},
		{"math: an expression's period", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "e1", Expression: "TIME_SERIES(1)", Period: ptr(int32(45))}}
		}, CodeValidationError, "Period must be 10, 20, 30 or a multiple of 60"},
		{"math: the returned expression does not parse", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}, {Id: "e1", Expression: "m1*"}}
		}, CodeValidationError, "Invalid metrics list: the expression of Id e1 in Metrics is not a valid metric math expression: Unexpected end of expression at position 4."},
		{"math: an expression names an unknown Id", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}, {Id: "e1", Expression: "m1/m2"}}
		}, CodeValidationError, "Invalid metrics list: the expression of Id e1 in Metrics refers to m2, which is not the Id of any element of Metrics."},
		{"math: expressions in a cycle", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "e2", ReturnData: ptr(false), Expression: "e1+1"}, {Id: "e1", Expression: "e2*2"}}
		}, CodeValidationError, "Invalid metrics list: the expressions in Metrics depend on each other in a cycle: e2 -> e1 -> e2."},
		{"math: SEARCH", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "e1", Expression: "SUM(SEARCH('{n} m', 'Sum', 60))", Period: ptr(int32(60))}}
		}, CodeValidationError, "Invalid metrics list: error in the expression of Id e1 in Metrics: SEARCH cannot be used here: an alarm watches one time series, and a search returns an array at position 5."},
		{"math: a function of another service", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}, {Id: "e1", Expression: "SERVICE_QUOTA(m1)"}}
		}, CodeValidationError, "Invalid metrics list: error in the expression of Id e1 in Metrics: The function SERVICE_QUOTA is not supported by trailwatch: it needs Service Quotas at position 1."},
		{"math: a scalar result", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}, {Id: "e1", Expression: "MAX(m1)"}}
		}, CodeValidationError, "Invalid metrics list: error in the expression of Id e1 in Metrics: The expression produces a scalar; its result must be a time series or an array of time series at position 1."},
		{"math: an array result", func(a *MetricAlarm) {
			a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
			a.Metrics = []MetricDataQuery{{Id: "m1", ReturnData: ptr(false), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}, {Id: "e1", Expression: "METRICS()*2"}}
		}, CodeValidationError, "Invalid metrics list: the expression of Id e1 returns an array of time series, but an alarm watches a single time series."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := cisRootAlarm()
			tc.mutate(a)
			err := a.Validate()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.ErrorCode() != tc.code || e.ErrorMessage() != tc.msg || e.HTTPStatusCode() != 400 {
				t.Fatalf("got %s %q, want %s %q", e.ErrorCode(), e.ErrorMessage(), tc.code, tc.msg)
			}
		})
	}
	// Metrics lists whose returned query is a MetricStat are evaluated, so they stay accepted,
	// with or without expressions that return nothing.
	for name, qs := range map[string][]MetricDataQuery{
		"lone MetricStat": {{Id: "m1", MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}}},
		"MetricStat returns, expression does not": {
			{Id: "m1", ReturnData: ptr(true), MetricStat: &MetricStat{Namespace: "n", MetricName: "m", Period: 60, Stat: StatSum}},
			{Id: "e1", Expression: "m1*2", ReturnData: ptr(false)},
		},
	} {
		a := cisRootAlarm()
		a.MetricName, a.Namespace, a.Period, a.Statistic = "", "", nil, ""
		a.Metrics = qs
		if err := a.Validate(); err != nil {
			t.Errorf("%s: rejected: %v", name, err)
		}
	}
	ok := cisRootAlarm()
	ok.Dimensions = []metrics.Dimension{{Name: "a", Value: "b"}}
	for _, p := range []int32{10, 20, 30, 60, 86400} {
		ok.Period = ptr(p)
		if err := ok.Validate(); err != nil {
			t.Errorf("period %d rejected: %v", p, err)
		}
	}
}

func TestParseState(t *testing.T) {
	for _, s := range []State{StateOK, StateAlarm, StateInsufficientData} {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%s) = %v, %v", s, got, err)
		}
	}
	_, err := ParseState("INVALID")
	want := "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
	var e *Error
	if !errors.As(err, &e) || e.ErrorMessage() != want {
		t.Fatalf("got %v, want %q [§1.2 LS-CW-SNAP]", err, want)
	}
	if State(0).Valid() || State(9).String() != "State(9)" {
		t.Fatal("zero State must be invalid")
	}
}
