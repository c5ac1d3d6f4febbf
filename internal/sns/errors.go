package sns

import "net/http"

// Error is an SNS error as AWS clients see it: the awsQuery code, message and status.
type Error struct {
	Code    string
	Message string
	Status  int
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the AWS error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the message shown to the client.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatusCode returns the HTTP status of the error.
func (e *Error) HTTPStatusCode() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// invalid is InvalidParameter with AWS's "Invalid parameter: " prefix.
func invalid(msg string) *Error {
	return &Error{Code: "InvalidParameter", Message: "Invalid parameter: " + msg, Status: http.StatusBadRequest}
}

// errTopicNotFound is AWS's answer for a topic that does not exist [§3.1].
func errTopicNotFound() *Error {
	return &Error{Code: "NotFound", Message: "Topic does not exist", Status: http.StatusNotFound}
}

func errSubscriptionNotFound() *Error {
	return &Error{Code: "NotFound", Message: "Subscription does not exist", Status: http.StatusNotFound}
}

func errResourceNotFound() *Error {
	return &Error{Code: "ResourceNotFound", Message: "Resource does not exist", Status: http.StatusNotFound}
}

func errAuthorization(msg string) *Error {
	return &Error{Code: "AuthorizationError", Message: msg, Status: http.StatusForbidden}
}
