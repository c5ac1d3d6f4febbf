package alarm

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// javaDouble formats v the way Java's Double.toString does, which is how CloudWatch prints every
// value and threshold: plain notation with at least one fractional digit for 1e-3 <= |v| < 1e7
// ("1.0", "6.046241709654764"), otherwise computerized scientific notation ("1.6E10",
// "3.088453632E9", "1.0E-4") [§1.8, FINDSTR 57945354789]. The digits are the shortest that
// round-trip, as in Java 19 and later.
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if abs := math.Abs(v); abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// javaTime formats t as CloudWatch's JSON timestamps: "2022-09-25T18:50:37.811+0000" (UTC,
// milliseconds, numeric zone without a colon) [§1.9, §2.1].
func javaTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000") + "+0000"
}

// reasonTime formats a datapoint timestamp inside StateReason: day/month/two-digit year, UTC,
// "(25/09/22 18:49:00)" without the parentheses [§1.8, SREBOT].
func reasonTime(t time.Time) string { return t.UTC().Format("02/01/06 15:04:05") }

// longTime formats the human timestamp of emails and composite reasons:
// "Wednesday 10 July, 2024 16:24:03 UTC" [§2.2, FINDSTR 18284939227].
func longTime(t time.Time) string { return t.UTC().Format("Monday 02 January, 2006 15:04:05 UTC") }

// plural picks the singular or plural word for n ("datapoint"/"datapoints").
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
