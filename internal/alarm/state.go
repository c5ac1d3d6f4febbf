package alarm

import "fmt"

// State is the value of an alarm: OK, ALARM or INSUFFICIENT_DATA. The zero value is not a valid
// state, so a forgotten assignment is caught by Valid instead of silently meaning "OK".
type State uint8

// The three alarm states, in the order the AWS model lists them.
const (
	StateOK State = iota + 1
	StateAlarm
	StateInsufficientData
)

// String returns the wire name of the state ("OK", "ALARM", "INSUFFICIENT_DATA").
func (s State) String() string {
	switch s {
	case StateOK:
		return "OK"
	case StateAlarm:
		return "ALARM"
	case StateInsufficientData:
		return "INSUFFICIENT_DATA"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Valid reports whether s is one of the three alarm states.
func (s State) Valid() bool { return s >= StateOK && s <= StateInsufficientData }

// ParseState turns a wire name into a State. It is case-sensitive like AWS; the error carries the
// message SetAlarmState returns for a bad stateValue ([LS-CW-SNAP], 2025-09).
func ParseState(s string) (State, error) {
	switch s {
	case "OK":
		return StateOK, nil
	case "ALARM":
		return StateAlarm, nil
	case "INSUFFICIENT_DATA":
		return StateInsufficientData, nil
	}
	return 0, &Error{Code: CodeValidationError, Message: fmt.Sprintf(
		"1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: "+
			"Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", s)}
}

// ComparisonOperator is how the statistic (the left operand) is compared with the threshold.
type ComparisonOperator string

// The seven comparison operators of the PutMetricAlarm model. The last three only make sense for
// anomaly-detection alarms, whose band this package does not compute.
const (
	GreaterThanOrEqualToThreshold            ComparisonOperator = "GreaterThanOrEqualToThreshold"
	GreaterThanThreshold                     ComparisonOperator = "GreaterThanThreshold"
	LessThanThreshold                        ComparisonOperator = "LessThanThreshold"
	LessThanOrEqualToThreshold               ComparisonOperator = "LessThanOrEqualToThreshold"
	LessThanLowerOrGreaterThanUpperThreshold ComparisonOperator = "LessThanLowerOrGreaterThanUpperThreshold"
	LessThanLowerThreshold                   ComparisonOperator = "LessThanLowerThreshold"
	GreaterThanUpperThreshold                ComparisonOperator = "GreaterThanUpperThreshold"
)

// comparisonOperators lists every operator, in model order, for validation.
var comparisonOperators = []ComparisonOperator{
	GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold,
	LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold,
}

// static reports whether the operator compares against a static Threshold.
func (op ComparisonOperator) static() bool {
	switch op {
	case GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold:
		return true
	}
	return false
}

// breaches reports whether value crosses threshold under a static operator.
func (op ComparisonOperator) breaches(value, threshold float64) bool {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return value >= threshold
	case GreaterThanThreshold:
		return value > threshold
	case LessThanThreshold:
		return value < threshold
	case LessThanOrEqualToThreshold:
		return value <= threshold
	}
	return false
}

// words is the phrase StateReason uses for the operator ("greater than or equal to"); the negated
// form used on recovery is "not " + words [§1.8].
func (op ComparisonOperator) words() string {
	switch op {
	case GreaterThanOrEqualToThreshold:
		return "greater than or equal to"
	case GreaterThanThreshold:
		return "greater than"
	case LessThanThreshold:
		return "less than"
	case LessThanOrEqualToThreshold:
		return "less than or equal to"
	}
	return string(op)
}

// Missing-data treatments accepted by PutMetricAlarm; "" means the default, TreatMissing.
const (
	TreatBreaching    = "breaching"
	TreatNotBreaching = "notBreaching"
	TreatIgnore       = "ignore"
	TreatMissing      = "missing"
)

// Values of EvaluateLowSampleCountPercentile.
const (
	LowSampleEvaluate = "evaluate"
	LowSampleIgnore   = "ignore"
)

// Simple statistics accepted as Statistic.
const (
	StatSampleCount = "SampleCount"
	StatAverage     = "Average"
	StatSum         = "Sum"
	StatMinimum     = "Minimum"
	StatMaximum     = "Maximum"
)
