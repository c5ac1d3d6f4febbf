package awsapi

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/trailwatch/trailwatch/internal/javafmt"
)

// isoSeconds and isoMillis are how AWS prints timestamps in awsQuery XML: UTC, with three fraction
// digits only when the milliseconds are not zero. CloudWatch's datapoints (whole minutes) read
// <Timestamp>2025-11-26T19:00:00Z</Timestamp>, its alarms' state times
// <StateUpdatedTimestamp>2025-11-26T19:00:27.473Z</StateUpdatedTimestamp>.
const (
	isoSeconds = "2006-01-02T15:04:05Z"
	isoMillis  = "2006-01-02T15:04:05.000Z"
)

// formatISO renders t as AWS does in XML.
func formatISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1e6 == 0 {
		return t.Format(isoSeconds)
	}
	return t.Format(isoMillis)
}

// isoLayouts are the ISO 8601 spellings accepted in query forms: botocore sends
// 2025-11-26T19:00:00Z or with a fraction, other tools send offsets or omit the zone (read as UTC).
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"20060102T150405Z",
	"2006-01-02",
}

// parseTimestamp reads a query-form timestamp: ISO 8601 or epoch seconds.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return epochSeconds(f)
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 timestamp", s)
}

// epochSeconds converts fractional epoch seconds, keeping millisecond precision exact.
func epochSeconds(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f > 1e13 || f < -1e13 {
		return time.Time{}, fmt.Errorf("timestamp %v out of range", f)
	}
	sec, frac := math.Modf(f)
	ns := math.Round(frac*1e6) * 1e3 // microsecond rounding hides float noise such as .123000001
	return time.Unix(int64(sec), int64(ns)).UTC(), nil
}

// appendEpoch appends t as AWS's awsJson services send timestamps: epoch seconds (to the
// millisecond) as a double, printed by Java's Double.toString, so "1.764183600123E9" and, for whole
// seconds, "1.7641836E9" (recorded DynamoDB and CloudWatch answers carry
// "CreationDateTime":1.562054355238E9). The number always has a fraction or an exponent.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 1e10 || ms >= 1e15 {
		return javafmt.AppendDouble(b, epochOf(t)) // before 1970-04-26 or after year 33658
	}
	// Fast path for every real timestamp: between 1e7 and 1e12 seconds Java prints scientific
	// notation, and the shortest digits of ms/1000d are the millisecond digits without trailing
	// zeros (13 to 15 significant digits, which a double tells apart), so the text is built from
	// the integer directly. TestAppendEpochFastPath checks it against the general path.
	var digits [16]byte
	d := strconv.AppendInt(digits[:0], ms, 10)
	exp := len(d) - 4 // digits of the whole seconds, minus one
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	b = append(b, d[0], '.')
	if len(d) > 1 {
		b = append(b, d[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// epochOf is t's epoch seconds to the millisecond, computed as Java's millis / 1000d.
func epochOf(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// MarshalJSON encodes the time as epoch seconds.
func (t Time) MarshalJSON() ([]byte, error) { return appendEpoch(nil, t.Time), nil }

// UnmarshalJSON accepts epoch seconds (integer or fraction) and, leniently, an ISO 8601 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("invalid timestamp %s", s)
		}
		v, err := parseTimestamp(u)
		if err != nil {
			return err
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("invalid timestamp %s", s)
	}
	v, err := epochSeconds(f)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalCBOR encodes the time as tag 1 around a float64 of epoch seconds, as AWS's RPC v2 CBOR
// services send every timestamp (whole seconds too: 0xc1 0xfb ...).
func (t Time) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: epochOf(t.Time)})
}

// UnmarshalCBOR accepts tag 1 around an integer or a float (botocore sends integers, Java SDKs
// floats) and, leniently, an untagged number.
func (t *Time) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	content := b
	if err := cbor.Unmarshal(b, &raw); err == nil {
		if raw.Number != 1 {
			return fmt.Errorf("timestamp has CBOR tag %d, want 1", raw.Number)
		}
		content = raw.Content
	}
	var v any
	if err := cbor.Unmarshal(content, &v); err != nil {
		return err
	}
	var f float64
	switch n := v.(type) {
	case uint64:
		f = float64(n)
	case int64:
		f = float64(n)
	case float64:
		f = n
	case nil:
		return nil
	default:
		return errors.New("timestamp is not a number")
	}
	tt, err := epochSeconds(f)
	if err != nil {
		return err
	}
	t.Time = tt
	return nil
}
