// Package javafmt prints numbers the way Java does. AWS's services are written in Java and their
// messages, XML responses and alarm texts show doubles as Java's Double.toString prints them
// ("1.0", "1.0E7", "1.0E-4"), which no verb of Go's fmt or strconv reproduces; trailwatch has this one
// implementation so that every place that echoes a double agrees with AWS and with each other.
package javafmt

import (
	"math"
	"strconv"
	"strings"
)

// Double formats v as Java's Double.toString(double) does (Java 19 and later, whose digits are the
// shortest that round-trip; see the javadoc of java.lang.Double.toString(double),
// https://docs.oracle.com/en/java/javase/21/docs/api/java.base/java/lang/Double.html#toString(double)):
//
//   - NaN is "NaN", the infinities "Infinity" and "-Infinity", the zeros "0.0" and "-0.0".
//   - For 1e-3 <= |v| < 1e7, plain notation with at least one fractional digit: "1.0", "123456.789",
//     "9999999.0", "0.001".
//   - Otherwise computerized scientific notation: one digit before the point, at least one after it,
//     then "E" and the exponent without a plus sign or leading zeros: "1.0E7", "1.0E-4", "1.6E10".
//
// The digits are the fewest that identify v among doubles (the closest such decimal to v); where one
// digit would do, Java chooses the closest decimal of one or two digits, which matters only for a
// few subnormals (Double.MIN_VALUE prints "4.9E-324", not "5.0E-324").
func Double(v float64) string {
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
	// Shortest round-tripping digits in scientific form, "d.ddde±XX" or "de±XX".
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if len(strings.TrimPrefix(mant, "-")) == 1 {
		// One digit: Java takes the closest of the one- and two-digit decimals that round-trip.
		two := strconv.FormatFloat(v, 'e', 1, 64)
		if back, err := strconv.ParseFloat(two, 64); err == nil && back == v {
			mant, exp, _ = strings.Cut(two, "e")
			mant = strings.TrimSuffix(mant, "0")
			mant = strings.TrimSuffix(mant, ".")
		}
	}
	e, _ := strconv.Atoi(exp)
	neg := strings.HasPrefix(mant, "-")
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if abs := math.Abs(v); abs >= 1e-3 && abs < 1e7 {
		// Plain notation: e is between -3 and 6 here.
		switch {
		case e < 0:
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -e-1))
			b.WriteString(digits)
		case len(digits) > e+1:
			b.WriteString(digits[:e+1])
			b.WriteByte('.')
			b.WriteString(digits[e+1:])
		default:
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", e+1-len(digits)))
			b.WriteString(".0")
		}
		return b.String()
	}
	b.WriteString(digits[:1])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(e))
	return b.String()
}
