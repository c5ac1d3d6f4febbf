package metricmath

import "fmt"

// Error is a problem with an expression: a syntax error (Pos is the 0-based byte offset where it
// was found) or an evaluation error (Pos of the offending call or operator). The metrics package
// turns it into CloudWatch's ValidationError.
type Error struct {
	Pos int
	Msg string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s at position %d", e.Msg, e.Pos+1) }

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
