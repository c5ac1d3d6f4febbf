package alarm

// Error codes this package returns, as AWS spells them in the query protocol's <Code> element.
const (
	CodeValidationError             = "ValidationError"
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeMissingParameter            = "MissingParameter"
	CodeInvalidFormat               = "InvalidFormat"
)

// Error is a client-facing CloudWatch error. The transport sends it with its code and message
// (see docs/ARCHITECTURE.md, "Errors shown to AWS clients"); every code this package produces
// is a 400.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the AWS error code, e.g. "ValidationError".
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the AWS error message verbatim.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatusCode is 400 for every error of this package.
func (e *Error) HTTPStatusCode() int { return 400 }
