package javafmt

import (
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The expected strings are what Java 25's Double.toString printed for these values.
func TestDouble(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
		{1, "1.0"},
		{-1, "-1.0"},
		{21.5, "21.5"},
		{0.1, "0.1"},
		{100, "100.0"},
		{1e-3, "0.001"},
		{0.00123, "0.00123"},
		{9.99e-4, "9.99E-4"},
		{1e-4, "1.0E-4"},
		{123456.789, "123456.789"},
		{9999999.0, "9999999.0"},
		{9999999.5, "9999999.5"},
		{1e7, "1.0E7"},
		{-1e7, "-1.0E7"},
		{12345678, "1.2345678E7"},
		{1e10, "1.0E10"},
		{1.6e10, "1.6E10"},
		{3.088453632e9, "3.088453632E9"},
		{6.046241709654764, "6.046241709654764"},
		{0.30000000000000004, "0.30000000000000004"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{math.SmallestNonzeroFloat64, "4.9E-324"},
		{2 * math.SmallestNonzeroFloat64, "9.9E-324"}, // the closest of 1E-323 and the two-digit decimals
		{2.2250738585072014e-308, "2.2250738585072014E-308"},
		{1e23, "1.0E23"},
		{2e-3, "0.002"},
	} {
		if got := Double(tc.in); got != tc.want {
			t.Errorf("Double(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if got := reference(tc.in); got != tc.want {
			t.Errorf("reference(%v) = %q, want %q (the test's own formulation is wrong)", tc.in, got, tc.want)
		}
	}
}

// TestDoubleMatchesJava compares Double and reference with what Java printed for 2,772 doubles:
// random bit patterns, values around 1e-3 and 1e7, powers of two and ten, subnormals, and short
// decimals (testdata/java25.txt, made by testdata/DoubleToString.java).
func TestDoubleMatchesJava(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "java25.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 1000 {
		t.Fatalf("testdata/java25.txt has %d lines", len(lines))
	}
	for _, line := range lines {
		hexBits, want, _ := strings.Cut(line, " ")
		bits, err := strconv.ParseUint(hexBits, 16, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		v := math.Float64frombits(bits)
		if got := Double(v); got != want {
			t.Errorf("Double(%v) = %q, Java says %q", v, got, want)
		}
		if got := reference(v); got != want {
			t.Errorf("reference(%v) = %q, Java says %q", v, got, want)
		}
	}
}

// FuzzDouble compares Double with reference, an independent formulation of the javadoc's rules, and
// checks that the output reads back as the same double.
func FuzzDouble(f *testing.F) {
	for _, v := range []float64{0, 1, 1e7, 9999999, 1e-3, 9.99e-4, 1e-4, 123456.789, 1e10, math.MaxFloat64,
		math.SmallestNonzeroFloat64, 3 * math.SmallestNonzeroFloat64, 0x1p-1022, 0x1p100, 0x1p-100} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		got := Double(v)
		if want := reference(v); got != want {
			t.Fatalf("Double(%v) = %q, reference says %q", v, got, want)
		}
		if math.IsNaN(v) {
			return
		}
		back, err := strconv.ParseFloat(strings.Replace(got, "Infinity", "Inf", 1), 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("Double(%v) = %q reads back as %v, %v", v, got, back, err)
		}
	})
}

// reference formats v from the javadoc's words, without Double's code path: among the decimals that
// round to v it takes those of the fewest digits (one or two digits when one would do), the closest
// of them to v (the even one on a tie), and lays it out with big.Rat.
func reference(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		if v < 0 {
			return "-Infinity"
		}
		return "Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	exact := new(big.Rat).SetFloat64(v)
	var best *decimal
	for n := 1; n <= 17 && best == nil; n++ {
		cands := candidates(v, n)
		if n == 1 {
			cands = append(cands, candidates(v, 2)...)
		}
		for _, c := range cands {
			if !c.roundTrips(v) {
				continue
			}
			if best == nil || c.closer(best, exact) {
				best = c
			}
		}
	}
	digits := strings.TrimRight(best.mant.String(), "0")
	exp10 := best.exp + len(best.mant.String()) - 1 // the exponent in d.ddd×10^exp10
	if v >= 1e-3 && v < 1e7 {
		frac := max(1, len(digits)-1-exp10)
		return sign + best.rat().FloatString(frac)
	}
	rest := digits[1:]
	if rest == "" {
		rest = "0"
	}
	return sign + digits[:1] + "." + rest + "E" + strconv.Itoa(exp10)
}

// decimal is mant×10^exp.
type decimal struct {
	mant *big.Int
	exp  int
}

func (d *decimal) rat() *big.Rat {
	r := new(big.Rat).SetInt(d.mant)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d.exp))), nil))
	if d.exp >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func (d *decimal) roundTrips(v float64) bool {
	f, _ := strconv.ParseFloat(d.mant.String()+"e"+strconv.Itoa(d.exp), 64)
	return f == v
}

// closer reports whether d is closer to x than e, or as close with an even last digit.
func (d *decimal) closer(e *decimal, x *big.Rat) bool {
	dd := new(big.Rat).Sub(d.rat(), x)
	de := new(big.Rat).Sub(e.rat(), x)
	c := dd.Abs(dd).Cmp(de.Abs(de))
	return c < 0 || c == 0 && d.mant.Bit(0) == 0 && e.mant.Bit(0) == 1
}

// candidates returns the n-digit decimals next to v: v rounded to n digits and its two neighbours.
func candidates(v float64, n int) []*decimal {
	m, e, _ := strings.Cut(strconv.FormatFloat(v, 'e', n-1, 64), "e")
	mant, _ := new(big.Int).SetString(strings.Replace(m, ".", "", 1), 10)
	exp, _ := strconv.Atoi(e)
	exp -= n - 1
	var out []*decimal
	for _, d := range []int64{-1, 0, 1} {
		c := new(big.Int).Add(mant, big.NewInt(d))
		if c.Sign() > 0 {
			out = append(out, &decimal{mant: c, exp: exp})
		}
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestAppendDouble: AppendDouble appends exactly Double's text after what b holds, and the common
// case allocates nothing (encoders print thousands of doubles per response).
func TestAppendDouble(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 30, 21.5, -1.6e10, 1e-4, 1.764183600123e9, math.NaN(), math.Inf(-1), 4.9e-324} {
		got := string(AppendDouble([]byte("x:"), v))
		if want := "x:" + Double(v); got != want {
			t.Errorf("AppendDouble(%v) = %q, want %q", v, got, want)
		}
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendDouble(buf[:0], 1.764183600123e9) }); n != 0 {
		t.Errorf("AppendDouble allocates %v times per call", n)
	}
}
