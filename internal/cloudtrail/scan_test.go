package cloudtrail

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// strictValid is the scanner's verdict on a whole input: one JSON value with optional space around.
func strictValid(b []byte) bool {
	i := skipSpace(b, 0)
	end, err := scanValue(b, i, 0)
	return err == nil && skipSpace(b, end) == len(b)
}

// TestScanValue pins the strict scanner to RFC 8259 plus UTF-8, case by case; FuzzScanValue checks
// it against encoding/json.Valid and utf8.Valid on any input.
func TestScanValue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true}, {`[]`, true}, {` {"a" : [1, -2.5e+3, true, false, null, "x"] } `, true},
		{`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"`, true},
		{`"plain text longer than eight bytes, with ünïcode and 😀"`, true},
		{`0`, true}, {`-0`, true}, {`1.0E-7`, true}, {`123456789`, true},
		{`01`, false}, {`1.`, false}, {`.5`, false}, {`+1`, false}, {`1e`, false}, {`-`, false}, {`1.e3`, false},
		{`"\x"`, false}, {`"\u12"`, false}, {`"\u12G4"`, false}, {"\"tab\there\"", false}, {"\"nl\n\"", false},
		{"\"bad \xff utf8\"", false}, {"\"overlong \xc0\xaf\"", false}, {"\"surrogate \xed\xa0\x80\"", false},
		{`"unterminated`, false}, {`"escaped quote at end\"`, false},
		{`{"a":1,}`, false}, {`[1,]`, false}, {`{"a" 1}`, false}, {`{a:1}`, false}, {`{"a":1 "b":2}`, false},
		{`tru`, false}, {`nulll`, false}, {`True`, false}, {`[1] [2]`, false}, {``, false}, {` `, false},
		{"\xef\xbb\xbf{}", false}, // a byte order mark is not JSON
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), true},
		{strings.Repeat("[", 10001) + strings.Repeat("]", 10001), false},
	}
	for _, tt := range tests {
		if got := strictValid([]byte(tt.in)); got != tt.want {
			t.Errorf("strictValid(%.40q) = %v, want %v", tt.in, got, tt.want)
		}
		if want := json.Valid([]byte(tt.in)) && utf8.ValidString(tt.in); want != tt.want {
			t.Errorf("case %.40q: encoding/json and utf8 say %v; the table is wrong", tt.in, want)
		}
	}
}

// TestPlainRun checks the eight-byte fast path against the byte-by-byte rule for every byte value
// in every position.
func TestPlainRun(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			x := uint64(0)
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(b[i])
			}
			special := c < 0x20 || c >= 0x80 || c == '"' || c == '\\'
			if plainRun(x) == special {
				t.Fatalf("plainRun with byte %#x at %d = %v", c, pos, plainRun(x))
			}
		}
	}
}

// FuzzScanValue: the strict scanner accepts exactly what encoding/json.Valid and utf8.Valid both
// accept.
func FuzzScanValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\u0041",{"b":null}]}`, `"\ud83d\ude00"`, "\"\xe2\x82\xac\"", `-0.0e-0`, `[`, `{"a":}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b) && utf8.Valid(b)
		if got := strictValid(b); got != want {
			t.Fatalf("strictValid(%q) = %v, encoding/json and utf8 say %v", b, got, want)
		}
	})
}
