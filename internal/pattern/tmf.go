package pattern

import (
	"strings"
	"unicode/utf8"
)

// MaxTestMessages is TestMetricFilter's limit on logEventMessages (API reference: 1..50 items,
// each at least 1 character; §8).
const MaxTestMessages = 50

// MatchRecord is one element of TestMetricFilter's matches (the API's MetricFilterMatchRecord).
type MatchRecord struct {
	// EventNumber is the 1-based position of the message in the request (decision on §11
	// item 13: the aws-cli example numbers from 1).
	EventNumber int64
	// EventMessage is the message as sent.
	EventMessage string
	// ExtractedValues is empty for term and JSON patterns, and holds $name / $n fields for
	// space-delimited patterns (§5.4). It is never nil.
	ExtractedValues map[string]string
}

// Test evaluates the pattern against messages the way TestMetricFilter does, without its
// limit on the number of messages: only matching messages are listed, in order.
func (p *Pattern) Test(messages []string) []MatchRecord {
	out := []MatchRecord{}
	for i, m := range messages {
		ev, ok := p.Extract([]byte(m))
		if !ok {
			continue
		}
		out = append(out, MatchRecord{EventNumber: int64(i + 1), EventMessage: m, ExtractedValues: ev})
	}
	return out
}

// RunTestMetricFilter implements the TestMetricFilter operation: it validates the request as
// AWS does (the pattern, and 1 to 50 messages of at least one character each) and returns the
// matches. Errors are *Error values worded for SurfaceMetricFilter.
func RunTestMetricFilter(filterPattern string, messages []string) ([]MatchRecord, error) {
	p, err := compile(filterPattern)
	if err != nil {
		return nil, err
	}
	if len(messages) < 1 || len(messages) > MaxTestMessages {
		constraint := "Member must have length greater than or equal to 1"
		if len(messages) > MaxTestMessages {
			constraint = "Member must have length less than or equal to 50"
		}
		return nil, otherErr("1 validation error detected: Value '["+strings.Join(messages, ", ")+
			"]' at 'logEventMessages' failed to satisfy constraint: "+constraint, "")
	}
	for _, m := range messages {
		if utf8.RuneCountInString(m) < 1 {
			return nil, otherErr("1 validation error detected: Value '["+strings.Join(messages, ", ")+
				"]' at 'logEventMessages' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]", "")
		}
	}
	return p.Test(messages), nil
}
