package awsapi

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/trailwatch/trailwatch/internal/javafmt"
)

// cborDec decodes RPC v2 CBOR bodies. Member names match case-sensitively, definite and
// indefinite lengths are accepted, and the library's nesting and size limits bound the work.
var cborDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		MaxNestedLevels:   32,
		MaxArrayElements:  1 << 17,
		MaxMapPairs:       1 << 17,
		IndefLength:       cbor.IndefLengthAllowed,
		TagsMd:            cbor.TagsAllowed,
		DupMapKey:         cbor.DupMapKeyQuiet,
	}.DecMode()
	if err != nil {
		panic(err) // constant options: a failure is a programming error caught by any test
	}
	return dm
}()

// cborEnc encodes error bodies and documents (any-typed members); shapes go through cborWriter.
var cborEnc = func() cbor.EncMode {
	em, err := cbor.EncOptions{
		NilContainers: cbor.NilContainerAsEmpty,
		Time:          cbor.TimeUnix,
	}.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// decodeCBOR fills out from an RPC v2 CBOR body. An empty body is the empty input.
func decodeCBOR(body []byte, out any) error {
	if len(body) == 0 {
		return nil
	}
	return cborDec.Unmarshal(body, out)
}

// appendJSONFloat prints a double as AWS's awsJson services do: they are Java services whose JSON
// writer prints a double with Double.toString, so a double always carries a fraction or an
// exponent ("30.0", "1.0E-4", "1.6E10"), and a client that keeps JSON's number types (Python's json,
// botocore) decodes it as a float, never as an int. NaN and the infinities are AWS's strings.
// float32 members (none in the AWS models trailwatch serves) keep the shortest float32 digits.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	if bits == 64 {
		return javafmt.AppendDouble(b, f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, bits)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes that appendJSONString copies as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString quotes s; invalid UTF-8 becomes U+FFFD. Unlike encoding/json it does not
// escape <, > and &, matching AWS.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
