// Package javafmt prints numbers the way Java does. AWS's services are written in Java and their
// messages, XML responses and alarm texts show doubles as Java's Double.toString prints them
// ("1.0", "1.0E7", "1.0E-4"), which no verb of Go's fmt or strconv reproduces; trailwatch has this one
// implementation so that every place that echoes a double agrees with AWS and with each other.
package javafmt

import (
	"math"
	"strconv"
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
func Double(v float64) string { return string(AppendDouble(make([]byte, 0, 24), v)) }

// AppendDouble appends Double(v) to b without allocating (except in the rare one-digit case), for
// encoders that print many doubles, such as awsJson responses of GetMetricData.
func AppendDouble(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "Infinity"...)
	case math.IsInf(v, -1):
		return append(b, "-Infinity"...)
	case v == 0:
		if math.Signbit(v) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	neg := v < 0
	if neg {
		v = -v
	}
	// Shortest round-tripping digits in scientific form, "d.ddde±XX" or "de±XX".
	var buf [32]byte
	sci := strconv.AppendFloat(buf[:0], v, 'e', -1, 64)
	if sci[1] == 'e' {
		// One digit: Java takes the closest of the one- and two-digit decimals that round-trip.
		var buf2 [32]byte
		two := strconv.AppendFloat(buf2[:0], v, 'e', 1, 64)
		if back, err := strconv.ParseFloat(string(two), 64); err == nil && back == v {
			if two[2] == '0' { // "d.0e±XX": one digit after all
				sci = append(append(buf[:0], two[0]), two[3:]...)
			} else {
				sci = append(buf[:0], two...)
			}
		}
	}
	// Split into the digits (without the point) and the decimal exponent.
	ePos := 0
	for i, c := range sci {
		if c == 'e' {
			ePos = i
			break
		}
	}
	var digitBuf [24]byte
	digits := append(digitBuf[:0], sci[0])
	if ePos > 1 {
		digits = append(digits, sci[2:ePos]...)
	}
	e := 0
	expSign := sci[ePos+1]
	for _, c := range sci[ePos+2:] {
		e = e*10 + int(c-'0')
	}
	if expSign == '-' {
		e = -e
	}
	if neg {
		b = append(b, '-')
	}
	if v >= 1e-3 && v < 1e7 {
		// Plain notation: e is between -3 and 6 here.
		switch {
		case e < 0:
			b = append(b, "0."...)
			for range -e - 1 {
				b = append(b, '0')
			}
			return append(b, digits...)
		case len(digits) > e+1:
			b = append(b, digits[:e+1]...)
			b = append(b, '.')
			return append(b, digits[e+1:]...)
		default:
			b = append(b, digits...)
			for range e + 1 - len(digits) {
				b = append(b, '0')
			}
			return append(b, ".0"...)
		}
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(e), 10)
}
