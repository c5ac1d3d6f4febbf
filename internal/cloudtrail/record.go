package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// Record is one CloudTrail record ready to become a log event.
type Record struct {
	// Raw is the record's JSON as delivered; it becomes the log event's message unchanged.
	Raw []byte
	// Time is eventTime, the log event's timestamp.
	Time time.Time
	// EventID is CloudTrail's eventID; "" when the record has none.
	EventID string
	// AccountID is recipientAccountId (or the envelope's account); Region is awsRegion (or the
	// envelope's region).
	AccountID, Region string
}

// StreamName is the log stream CloudTrail delivers the record to: <accountId>_CloudTrail_<region>
// ("CloudTrail creates a log stream ... named <AccountID>_CloudTrail_<Region>", CloudTrail user guide,
// send-cloudtrail-events-to-cloudwatch-logs). An organization trail prefixes the organization id;
// trailwatch keeps the member-account form for every record.
func (r Record) StreamName() string {
	return r.AccountID + "_CloudTrail_" + r.Region
}

// DedupKey identifies the record for deduplication: "<account>/<eventID>", or "" when the record
// has no eventID.
func (r Record) DedupKey() string {
	if r.EventID == "" {
		return ""
	}
	return r.AccountID + "/" + r.EventID
}

// TimestampMillis is the log event timestamp: eventTime in epoch milliseconds.
func (r Record) TimestampMillis() int64 { return r.Time.UnixMilli() }

// Errors a record or an envelope can be rejected with.
var (
	// ErrNotRecords marks an input that is well formed but holds no CloudTrail records: a digest
	// file, a control message, an object without Records. Sources ignore such inputs.
	ErrNotRecords = errors.New("not a CloudTrail record file")
	errNotObject  = errors.New("record is not a JSON object")
	errNoTime     = errors.New("record has no valid eventTime")
)

// ParseRecord reads the fields trailwatch needs from one record. raw must be exactly one JSON
// object (with optional surrounding space); it is checked strictly, UTF-8 included, so a record's
// Raw is always a message CloudWatch Logs would accept and encoding/json would read. The record
// keeps raw, not a copy.
func ParseRecord(raw []byte) (Record, error) {
	r := Record{Raw: raw}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return r, errNotObject
	}
	end, f, err := scanRecord(raw, i, 0)
	if err != nil {
		return r, err
	}
	if skipSpace(raw, end) != len(raw) {
		return r, errSyntax
	}
	return f.record(r)
}

// timeLayouts are the eventTime spellings accepted: CloudTrail writes RFC 3339 in UTC
// ("2026-11-25T20:10:04Z"); test corpora (panther-analysis) also use a space for the T and omit the
// zone, which is read as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// stringValue returns the text of a JSON string value (quotes included in val), "" for any other
// value.
func stringValue(val []byte, escaped bool) string {
	if len(val) < 2 || val[0] != '"' {
		return ""
	}
	if !escaped {
		return string(val[1 : len(val)-1])
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return ""
	}
	return s
}

var errSyntax = errors.New("malformed JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i] ('"') and whether it
// contains a backslash escape. It jumps from quote to quote with bytes.IndexByte; a quote preceded
// by an odd number of backslashes is escaped.
func skipString(b []byte, i int) (int, bool, error) {
	escaped := false
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, errSyntax
		}
		q := j + k
		if !escaped && bytes.IndexByte(b[j:q], '\\') >= 0 {
			escaped = true
		}
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, escaped, nil
		}
		j = q + 1
	}
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		end, _, err := skipString(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}

// MaxRecordBytes is the largest record CloudTrail delivers to CloudWatch Logs: "events larger than
// 256 KB are not sent" (CloudTrail user guide, limitation of sending events to CloudWatch Logs); the
// CloudWatch Logs per-event limit counts 26 bytes of overhead.
const MaxRecordBytes = 262144 - 26
