package metrics

import (
	"errors"
	"fmt"
)

// Error is an error shown to CloudWatch clients with AWS's code and message. Its method names match
// smithy-go's APIError so the transport can encode it without knowing this package.
type Error struct {
	Code    string
	Message string
}

// The error codes CloudWatch's metric operations return (from the 2010-08-01 model).
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeInvalidNextToken            = "InvalidNextToken"
	// CodeValidationError is what AWS's model validator (Coral) answers for length, range and enum
	// constraint violations, and what GetMetricData uses for its own query checks.
	CodeValidationError = "ValidationError"
)

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the AWS error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the AWS error message.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatusCode returns 400: every metric-operation error is the caller's fault.
func (e *Error) HTTPStatusCode() int { return 400 }

func invalidValue(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameterValue, Message: fmt.Sprintf(format, args...)}
}

func missing(param string) *Error {
	return &Error{Code: CodeMissingParameter, Message: fmt.Sprintf("The parameter %s is required.", param)}
}

func combination(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameterCombination, Message: fmt.Sprintf(format, args...)}
}

func validation(format string, args ...any) *Error {
	return &Error{Code: CodeValidationError, Message: fmt.Sprintf(format, args...)}
}

// constraint is the Coral model-validation message AWS returns for a violated length, range or enum
// constraint, e.g. "1 validation error detected: Value 'x' at 'namespace' failed to satisfy
// constraint: Member must have length less than or equal to 255" (shape observed in LocalStack's
// AWS snapshots, aws-alarms-sns-protocols.md §4.3).
func constraint(value, path, rule string) *Error {
	return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, path, rule)
}

// ErrInvalidCursor is returned by a Store given a ListMetrics cursor it did not produce.
var ErrInvalidCursor = errors.New("invalid list cursor")
