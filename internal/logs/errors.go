package logs

import (
	"fmt"
	"strings"
)

// Error is an error shown to AWS clients: Code and Message are sent verbatim. Its method names
// match smithy-go's APIError so the transport needs no knowledge of this package.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode is the AWS error code, e.g. ResourceNotFoundException.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the human-readable text AWS sends with the code.
func (e *Error) ErrorMessage() string { return e.Message }

// The AWS error codes this service returns.
const (
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeInvalidParameter      = "InvalidParameterException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeValidation            = "ValidationException"
)

// Sentinel errors a Store returns (possibly wrapped); the service passes them through to clients,
// so they carry AWS's exact texts (recorded against AWS in LocalStack's snapshot tests
// tests/aws/services/logs/test_logs_{groups,streams,events}.snapshot.json).
var (
	ErrLogGroupNotFound  = &Error{CodeResourceNotFound, "The specified log group does not exist."}
	ErrLogStreamNotFound = &Error{CodeResourceNotFound, "The specified log stream does not exist."}
	ErrLogGroupExists    = &Error{CodeResourceAlreadyExists, "The specified log group already exists"}
	ErrLogStreamExists   = &Error{CodeResourceAlreadyExists, "The specified log stream already exists"}
	// ErrMetricFilterNotFound: the code is AWS's (DeleteMetricFilter API reference); the message
	// is ours, AWS's text for a missing filter is not recorded anywhere we could find.
	ErrMetricFilterNotFound = &Error{CodeResourceNotFound, "The specified metric filter does not exist."}
	// ErrMetricFilterLimit is returned by Store.PutMetricFilter when a new filter would exceed the
	// per-group quota (100, "cannot be changed": filter-patterns.md §8).
	ErrMetricFilterLimit = &Error{CodeLimitExceeded, "Resource limit exceeded."}
)

func invalidParameter(format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParameter, Message: fmt.Sprintf(format, args...)}
}

// errInvalidToken is AWS's answer to a nextToken it did not issue (LocalStack snapshot
// test_logs_events / test_logs_filter_events "invalid-token").
var errInvalidToken = &Error{CodeInvalidParameter, "The specified nextToken is invalid."}

// violations collects Coral-style constraint violations and renders them the way AWS does:
// "1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: Member must
// ...", with "N validation errors detected:" and "; " between entries when there are several.
type violations []string

func (v *violations) add(value any, member, constraint string) {
	var shown string
	switch x := value.(type) {
	case nil:
		shown = "null"
	case string:
		shown = "'" + x + "'"
	default:
		shown = fmt.Sprintf("'%v'", x)
	}
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown, member, constraint))
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	noun := "error"
	if len(v) > 1 {
		noun = "errors"
	}
	return &Error{Code: CodeInvalidParameter,
		Message: fmt.Sprintf("%d validation %s detected: %s", len(v), noun, strings.Join(v, "; "))}
}
