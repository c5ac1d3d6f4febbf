package pattern

import (
	"fmt"
	"strconv"
	"strings"
)

// ErrorCode is the AWS error code of every pattern and transformation error: CloudWatch Logs
// answers all of them with HTTP 400 InvalidParameterException (§9 of the reference).
const ErrorCode = "InvalidParameterException"

// Generic messages AWS uses for a malformed pattern. Which one a client sees depends on the
// operation (§9): the metric-filter operations say "metric filter", FilterLogEvents does not.
const (
	msgInvalidMetricPattern = "Invalid metric filter pattern"
	msgInvalidFilterPattern = "Invalid filter pattern"
)

// Surface names the API operation family an error is shown on, because AWS words the generic
// "malformed pattern" error differently on each.
type Surface int

const (
	// SurfaceMetricFilter is PutMetricFilter, TestMetricFilter and PutSubscriptionFilter:
	// "Invalid metric filter pattern". It is the default.
	SurfaceMetricFilter Surface = iota
	// SurfaceFilterLogEvents is FilterLogEvents and StartLiveTail: every syntax error reads
	// "Invalid filter pattern" there, including the "Invalid character(s) in term" ones (§3.2).
	SurfaceFilterLogEvents
)

// errKind classifies an Error so that the surface can choose the wording.
type errKind int

const (
	kindSyntax    errKind = iota // generic malformed pattern
	kindCharacter                // "Invalid character(s) in term '<x>'"
	kindLength                   // request validation: pattern longer than 1024 characters
	kindOther                    // transformation errors, worded the same on every surface
)

// Error is a rejected pattern or metric transformation. It carries AWS's code and message for
// clients, and a byte position and detail for humans, because AWS's own messages rarely say
// where the problem is.
type Error struct {
	// Pos is the byte offset in the pattern where the problem was found, or -1 when the error is
	// not about one place (length, transformation errors).
	Pos int
	// Detail says what is wrong in our own words, e.g. "expected a value after '='".
	Detail string

	kind    errKind
	msg     string // the AWS message for SurfaceMetricFilter
	surface Surface
}

// ErrorCode returns "InvalidParameterException"; with ErrorMessage it makes Error an AWS API
// error for the transport layer (see ARCHITECTURE.md).
func (e *Error) ErrorCode() string { return ErrorCode }

// ErrorMessage returns the message exactly as AWS words it on the error's surface.
func (e *Error) ErrorMessage() string {
	if e.surface == SurfaceFilterLogEvents && (e.kind == kindSyntax || e.kind == kindCharacter) {
		return msgInvalidFilterPattern
	}
	return e.msg
}

// Error returns the AWS message followed by the position and detail, for logs and the CLI.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(ErrorCode)
	b.WriteString(": ")
	b.WriteString(e.ErrorMessage())
	if e.Detail != "" || e.Pos >= 0 {
		b.WriteString(" (")
		if e.Pos >= 0 {
			b.WriteString("at offset ")
			b.WriteString(strconv.Itoa(e.Pos))
			if e.Detail != "" {
				b.WriteString(": ")
			}
		}
		b.WriteString(e.Detail)
		b.WriteString(")")
	}
	return b.String()
}

// Surface reports which operation family the message is worded for.
func (e *Error) Surface() Surface { return e.surface }

// ForSurface returns a copy of e worded for surface s. Compile always words errors for
// SurfaceMetricFilter; FilterLogEvents calls ForSurface(SurfaceFilterLogEvents).
func (e *Error) ForSurface(s Surface) *Error {
	c := *e
	c.surface = s
	return &c
}

// ForFilterLogEvents is ForSurface(SurfaceFilterLogEvents).
func (e *Error) ForFilterLogEvents() *Error { return e.ForSurface(SurfaceFilterLogEvents) }

// syntaxErr is a generic malformed-pattern error at pos.
func syntaxErr(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Detail: fmt.Sprintf(format, args...), kind: kindSyntax, msg: msgInvalidMetricPattern}
}

// charErr is AWS's "Invalid character(s) in term '<text>'" at pos. AWS echoes characters
// outside ASCII as '?' (observed for U+201C, §3.2), and so do we.
func charErr(pos int, text, detail string) *Error {
	return &Error{
		Pos:    pos,
		Detail: detail,
		kind:   kindCharacter,
		msg:    "Invalid character(s) in term '" + asciiEcho(text) + "'",
	}
}

// otherErr is an error whose message does not depend on the surface.
func otherErr(msg, detail string) *Error {
	return &Error{Pos: -1, Detail: detail, kind: kindOther, msg: msg}
}

func lengthErr(src string) *Error {
	return &Error{
		Pos:    -1,
		Detail: "patterns are limited to 1024 characters",
		kind:   kindLength,
		msg: "1 validation error detected: Value '" + src +
			"' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024",
	}
}

func asciiEcho(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0x80 {
			b.WriteByte('?')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
