package awsapi

import (
	"errors"
	"net/http"
)

// Error is a ready-made AWS error. Handlers may return it or any error with ErrorCode() and
// ErrorMessage() methods (and optionally HTTPStatusCode() int and ErrorFault() string); such
// errors are sent to the client with that code and message. Any other error becomes
// InternalFailure (500), is logged, and its text is not shown to the client.
type Error struct {
	// Code is the AWS error code. For query-compatible services it is the awsQuery code (the one
	// the aws CLI prints), mapped to the JSON/CBOR shape name through Service.ErrorShapes.
	Code    string
	Message string
	// Status is the HTTP status; 0 means 400.
	Status int
	// Sender reports a client fault (<Type>Sender</Type>); false means a Receiver (server) fault.
	// Almost every modeled error is a client fault, so set it; domain error types that have no
	// ErrorFault method are classified by status instead (Sender below 500).
	Sender bool
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// ErrorCode returns the AWS error code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the message shown to the client.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatusCode returns the status, 400 when unset.
func (e *Error) HTTPStatusCode() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// ErrorFault returns "client" or "server", the smithy-go names for Sender and Receiver.
func (e *Error) ErrorFault() string {
	if e.Sender {
		return "client"
	}
	return "server"
}

// apiError is the contract of ARCHITECTURE.md for errors shown to AWS clients.
type apiError interface {
	ErrorCode() string
	ErrorMessage() string
}

// wireError is an error resolved for rendering.
type wireError struct {
	code    string // awsQuery code / handler code
	message string
	status  int
	sender  bool
	// jsonCode overrides the code in JSON/CBOR bodies (awsJson spelling of auth errors).
	jsonCode string
	// jsonStatus overrides the status on JSON/CBOR.
	jsonStatus int
	// noMessage omits the message member entirely.
	noMessage bool
	// coral marks errors raised by the framework (AWS's Coral front end) rather than by the
	// service model: their JSON/CBOR __type is in the com.amazon.coral.service namespace when the
	// service uses namespaced types, as in {"__type":"com.amazon.coral.service#UnknownOperationException"}.
	coral bool
}

// resolveError turns a handler error into a wireError; ok is false for errors that are not API
// errors (internal failures).
func resolveError(err error) (wireError, bool) {
	var ae apiError
	if !errors.As(err, &ae) {
		return wireError{}, false
	}
	// An error without a message is sent without the member, as AWS sends ResourceNotFound for
	// SetAlarmState of an unknown alarm (<Error><Type>Sender</Type><Code>ResourceNotFound</Code></Error>),
	// not with an empty one.
	we := wireError{code: ae.ErrorCode(), message: ae.ErrorMessage(), status: http.StatusBadRequest, sender: true,
		noMessage: ae.ErrorMessage() == ""}
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		if s := st.HTTPStatusCode(); s >= 400 && s <= 599 {
			we.status = s
		}
	}
	var ft interface{ ErrorFault() string }
	if errors.As(err, &ft) {
		we.sender = ft.ErrorFault() != "server"
	} else {
		we.sender = we.status < 500
	}
	return we, true
}

// internalFailure is what clients see for errors that are not API errors.
var internalFailure = wireError{
	code: "InternalFailure", message: "The request processing has failed because of an unknown error, exception or failure.",
	status: http.StatusInternalServerError, sender: false, coral: true,
}

// Errors raised by the framework itself. Auth errors carry both spellings: the awsQuery code and
// the awsJson one (jsonCode).
func errMissingAuth() wireError {
	return wireError{
		code: "MissingAuthenticationToken", message: "Request is missing Authentication Token", status: http.StatusForbidden, sender: true,
		jsonCode: "MissingAuthenticationTokenException", jsonStatus: http.StatusBadRequest, coral: true,
	}
}

func errIncompleteSignature(msg string) wireError {
	return wireError{
		code: "IncompleteSignature", message: msg, status: http.StatusBadRequest, sender: true,
		jsonCode: "IncompleteSignatureException", coral: true,
	}
}

func errUnknownKey() wireError {
	return wireError{
		code: "InvalidClientTokenId", message: "The security token included in the request is invalid.", status: http.StatusForbidden, sender: true,
		jsonCode: "UnrecognizedClientException", jsonStatus: http.StatusBadRequest, coral: true,
	}
}

const badSignatureMessage = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func errSignature(msg string) wireError {
	return wireError{
		code: "SignatureDoesNotMatch", message: msg, status: http.StatusForbidden, sender: true,
		jsonCode: "InvalidSignatureException", jsonStatus: http.StatusBadRequest, coral: true,
	}
}

func errSerialization(msg string) wireError {
	return wireError{code: "SerializationException", message: msg, status: http.StatusBadRequest, sender: true, coral: true}
}
