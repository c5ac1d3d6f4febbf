package trail

import (
	"errors"
	"fmt"
)

// Error is an error shown to CloudTrail API clients (code and message verbatim).
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode is the AWS error code, e.g. TrailNotFoundException.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the text AWS sends with the code.
func (e *Error) ErrorMessage() string { return e.Message }

// Sentinels a Store returns (possibly wrapped); the service turns them into AWS errors naming
// the trail and account.
var (
	ErrNotFound = errors.New("trail not found")
	ErrExists   = errors.New("trail exists")
)

func notFound(sc Scope, name string) *Error {
	return &Error{"TrailNotFoundException", fmt.Sprintf("Unknown trail: %s for the user: %s", name, sc.AccountID)}
}

func alreadyExists(sc Scope, name string) *Error {
	return &Error{"TrailAlreadyExistsException", fmt.Sprintf("Trail %s already exists for customer: %s", name, sc.AccountID)}
}

func invalidName(msg string) *Error { return &Error{"InvalidTrailNameException", msg} }

// concurrentModification is CloudTrail's answer to an update that lost a race it cannot resolve
// (code and text from CloudTrail's service model, as botocore documents the exception).
func concurrentModification() *Error {
	return &Error{"ConcurrentModificationException", "You are trying to update a resource when another request is in progress. Allow sufficient wait time for the previous request to complete, then retry your request."}
}
