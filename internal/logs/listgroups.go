package logs

import (
	"context"
	"fmt"
	"regexp"
)

// ListLogGroups' limits, from the API model (logs 2014-03-28): limit 1..1000, 50 by default;
// logGroupNamePattern 3..129 characters of at most five alternatives.
const (
	maxListGroupsLimit     = 1000
	defaultListGroupsLimit = 50
	listGroupsPageSize     = 1000
)

// logGroupNameRegexPattern is the model's pattern for ListLogGroups' logGroupNamePattern (shape
// LogGroupNameRegexPattern): up to five alternatives separated by "|", each an optional "^" and 3
// to 24 log-group-name characters.
const logGroupNameRegexPattern = `(\^?[\.\-_\/#A-Za-z0-9]{3,24})(\|\^?[\.\-_\/#A-Za-z0-9]{3,24}){0,4}`

var logGroupNameRegexRE = regexp.MustCompile(`^(?:` + logGroupNameRegexPattern + `)$`)

// ListLogGroupsInput is ListLogGroups' request. Cross-account members (includeLinkedAccounts,
// accountIdentifiers) have no linked accounts to reach here and are not part of it.
type ListLogGroupsInput struct {
	// LogGroupNamePattern is a regular expression matched anywhere in the name, case
	// sensitively: "^" anchors an alternative at the start, "|" separates alternatives, "."
	// matches any character (the API reference: "Use ^ to match log group names by prefix",
	// "To match multiple patterns, separate them with a |", "supports wildcard matching").
	LogGroupNamePattern string
	// LogGroupClass, when set, keeps only the groups of that class.
	LogGroupClass string
	NextToken     string
	Limit         *int
}

// ListLogGroupsOutput is ListLogGroups' response: the groups in name order.
type ListLogGroupsOutput struct {
	LogGroups []LogGroup
	NextToken string
}

// ListLogGroups lists the scope's log groups whose names match the pattern, in name order, a page
// at a time (the newer listing API next to DescribeLogGroups, whose logGroupNamePattern is a plain
// substring). Validation follows the model's constraints with Coral's messages; the pattern's
// grammar is a subset of RE2, so the validated pattern compiles as it is.
func (s *Service) ListLogGroups(ctx context.Context, sc Scope, in ListLogGroupsInput) (ListLogGroupsOutput, error) {
	var v violations
	var match *regexp.Regexp
	if in.LogGroupNamePattern != "" {
		checkLen(&v, "logGroupNamePattern", in.LogGroupNamePattern, 3, 129)
		var ok bool
		if match, ok = parseGroupNamePattern(in.LogGroupNamePattern); !ok {
			v.add(in.LogGroupNamePattern, "logGroupNamePattern", "Member must satisfy regular expression pattern: "+logGroupNameRegexPattern)
		}
	}
	if in.LogGroupClass != "" && !validLogGroupClass[in.LogGroupClass] {
		v.add(in.LogGroupClass, "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]")
	}
	checkLimit(&v, in.Limit, maxListGroupsLimit)
	if err := v.err(); err != nil {
		return ListLogGroupsOutput{}, err
	}
	limit := limitOr(in.Limit, defaultListGroupsLimit)
	q := GroupQuery{Limit: listGroupsPageSize}
	if in.NextToken != "" {
		parts, err := decodeKeyToken(in.NextToken, "L", 1)
		if err != nil {
			return ListLogGroupsOutput{}, err
		}
		q.After = parts[0]
	}
	var out ListLogGroupsOutput
	for {
		page, err := s.store.ListLogGroups(ctx, sc, q)
		if err != nil {
			return ListLogGroupsOutput{}, fmt.Errorf("list log groups: %w", err)
		}
		for _, g := range page {
			if match != nil && !match.MatchString(g.Name) {
				continue
			}
			if in.LogGroupClass != "" && g.LogGroupClass != in.LogGroupClass {
				continue
			}
			if len(out.LogGroups) == limit {
				// One more match exists: the page ends at the last group returned.
				out.NextToken = encodeKeyToken("L", out.LogGroups[limit-1].Name)
				return out, nil
			}
			out.LogGroups = append(out.LogGroups, g)
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.After = page[len(page)-1].Name
	}
}

// parseGroupNamePattern checks p against the model's grammar and compiles it. The grammar
// (literals of the log-group-name alphabet, "." and a leading "^" per alternative, "|" between
// them) is a subset of RE2, so a valid pattern always compiles; FuzzParseGroupNamePattern holds
// it to that.
func parseGroupNamePattern(p string) (*regexp.Regexp, bool) {
	if !logGroupNameRegexRE.MatchString(p) {
		return nil, false
	}
	re, err := regexp.Compile(p)
	return re, err == nil
}
