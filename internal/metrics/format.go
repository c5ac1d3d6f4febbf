package metrics

import (
	"math"
	"strconv"
	"strings"
)

// formatNumber prints a double the way CloudWatch's (Java) validation messages do: grouped
// thousands and at most three fraction digits, e.g. "The value 179,769,313,486,231,570,000,...
// for parameter MetricData.member.1.Value is invalid." and "The value 0 for parameter ..." for
// a value too small to keep (observed in Netflix servo's CloudWatchValueTest.java). NaN prints as
// "NaN" (moto's tests) and infinities as "∞" and "-∞" (servo).
func formatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	}
	neg := math.Signbit(v)
	v = math.Abs(v)
	// Java prints 17 significant digits and pads with zeros.
	digits, exp := decimalDigits(v)
	var intPart, frac string
	switch {
	case exp >= len(digits):
		intPart = digits + strings.Repeat("0", exp-len(digits))
	case exp > 0:
		intPart, frac = digits[:exp], digits[exp:]
	default:
		intPart, frac = "0", strings.Repeat("0", -exp)+digits
	}
	if len(frac) > 3 {
		r, _ := strconv.ParseFloat("0."+frac, 64)
		r = math.Round(r*1000) / 1000
		if r >= 1 {
			n, _ := strconv.ParseUint(intPart, 10, 64)
			intPart = strconv.FormatUint(n+1, 10)
			frac = ""
		} else {
			frac = strings.TrimPrefix(strconv.FormatFloat(r, 'f', -1, 64), "0")
			frac = strings.TrimPrefix(frac, ".")
		}
	}
	frac = strings.TrimRight(frac, "0")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// decimalDigits returns v's first 17 significant decimal digits d (trailing zeros removed) and the
// exponent e with v ≈ 0.d × 10^e.
func decimalDigits(v float64) (string, int) {
	if v == 0 {
		return "0", 1
	}
	s := strconv.FormatFloat(v, 'e', 16, 64) // d.dddddddddddddddde±xx
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
	if digits == "" {
		digits = "0"
	}
	return digits, exp + 1
}
