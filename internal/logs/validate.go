package logs

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Model constraints of the CloudWatch Logs API (logs-2014-03-28 service model).
const (
	maxNameLen         = 512  // LogGroupName, LogStreamName, FilterName
	maxPatternLen      = 1024 // FilterPattern
	maxMetricNameLen   = 255  // MetricName, MetricNamespace
	maxTags            = 50
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
	maxKMSKeyIDLen     = 256
	maxDescribeLimit   = 50
	maxEventsLimit     = 10000
	maxTestMessages    = 50
	logGroupNameRegexp = `[\.\-_/#A-Za-z0-9]+`
)

// nameTooLong is what AWS answers for an over-long log group or stream name, instead of the
// generic validation text (LocalStack snapshot test_logs_groups "error-invalid-name-length",
// test_logs_metric_filters "error-invalid-log-group-name").
var errNameTooLong = invalidParameter("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")

func isLogGroupNameChar(r rune) bool {
	return r == '.' || r == '-' || r == '_' || r == '/' || r == '#' ||
		(r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
}

// checkLogGroupName validates a log group name: 1..512 characters of [\.\-_/#A-Za-z0-9].
func checkLogGroupName(v *violations, member, name string) error {
	n := utf8.RuneCountInString(name)
	if n > maxNameLen {
		return errNameTooLong
	}
	if n < 1 {
		v.add(name, member, "Member must have length greater than or equal to 1")
		return nil
	}
	for _, r := range name {
		if !isLogGroupNameChar(r) {
			v.add(name, member, "Member must satisfy regular expression pattern: "+logGroupNameRegexp)
			break
		}
	}
	return nil
}

// checkLogStreamName validates a log stream name: 1..512 characters, no ':' or '*'.
func checkLogStreamName(v *violations, member, name string) error {
	n := utf8.RuneCountInString(name)
	if n > maxNameLen {
		return errNameTooLong
	}
	if n < 1 {
		v.add(name, member, "Member must have length greater than or equal to 1")
		return nil
	}
	checkNoColonStar(v, member, name, "[^:*]*")
	return nil
}

func checkNoColonStar(v *violations, member, s, re string) {
	for _, r := range s {
		if r == ':' || r == '*' {
			v.add(s, member, "Member must satisfy regular expression pattern: "+re)
			return
		}
	}
}

// checkLen validates a string length in characters.
func checkLen(v *violations, member, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < min:
		v.add(s, member, "Member must have length greater than or equal to "+strconv.Itoa(min))
	case n > max:
		v.add(s, member, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

// checkLimit validates an optional limit.
func checkLimit(v *violations, p *int, max int) {
	if p == nil {
		return
	}
	limit := *p
	if limit < 1 {
		v.add(limit, "limit", "Member must have value greater than or equal to 1")
	} else if limit > max {
		v.add(limit, "limit", "Member must have value less than or equal to "+strconv.Itoa(max))
	}
}

func isTagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Z, r) || unicode.IsNumber(r) ||
		r == '_' || r == '.' || r == ':' || r == '/' || r == '=' || r == '+' || r == '-' || r == '@'
}

// checkTags validates a tag map: at most 50 tags, keys 1..128 and values 0..256 characters of
// [\p{L}\p{Z}\p{N}_.:/=+\-@].
func checkTags(v *violations, member string, tags map[string]string) {
	if len(tags) > maxTags {
		v.add(len(tags), member, "Member must have length less than or equal to 50")
	}
	for k, val := range tags {
		n := utf8.RuneCountInString(k)
		if n < 1 || n > maxTagKeyLen {
			v.add(k, member+".key", "Member must have length less than or equal to 128")
			continue
		}
		for _, r := range k {
			if !isTagChar(r) {
				v.add(k, member+".key", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
				break
			}
		}
		if utf8.RuneCountInString(val) > maxTagValueLen {
			v.add(val, member+".value", "Member must have length less than or equal to 256")
			continue
		}
		for _, r := range val {
			if !isTagChar(r) {
				v.add(val, member+".value", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
				break
			}
		}
	}
}

// validRetention lists the retentionInDays values PutRetentionPolicy accepts (aws-sdk-go-v2
// cloudwatchlogs api_op_PutRetentionPolicy.go: "Possible values are: 1, 3, 5, ... 3653").
var validRetention = map[int]bool{
	1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true, 150: true,
	180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true,
	2557: true, 2922: true, 3288: true, 3653: true,
}

// validLogGroupClass lists the LogGroupClass enum values (aws-sdk-go-v2 types/enums.go).
var validLogGroupClass = map[string]bool{
	"STANDARD": true, "INFREQUENT_ACCESS": true, "DELIVERY": true, "ESSENTIALS": true,
}

// limitOr returns the requested limit, or def when none was given.
func limitOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
