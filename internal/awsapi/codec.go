package awsapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
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

// jsonWriter renders awsJson bodies. It is a small reflective encoder rather than encoding/json
// because AWS JSON differs in three ways: nil lists are sent as [] when the member is not
// omitempty, nil pointers are never sent as null, and NaN/Infinity are the strings "NaN",
// "Infinity" and "-Infinity".
type jsonWriter struct {
	buf []byte
}

// encodeJSON renders v (a pointer to a struct) as an awsJson body.
func encodeJSON(v any) ([]byte, error) { return appendJSON(make([]byte, 0, 256), v) }

// appendJSON renders v into buf, which may come from bufPool.
func appendJSON(buf []byte, v any) ([]byte, error) {
	w := jsonWriter{buf: buf}
	if err := w.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return w.buf, nil
}

func (w *jsonWriter) value(v reflect.Value) error {
	t := v.Type()
	switch {
	case t == timeType:
		w.buf = appendEpoch(w.buf, timeOf(v).Time)
		return nil
	case t == bytesType:
		w.buf = append(w.buf, '"')
		w.buf = base64.StdEncoding.AppendEncode(w.buf, v.Bytes())
		w.buf = append(w.buf, '"')
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		return w.value(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		w.buf = append(w.buf, b...)
	case reflect.String:
		w.buf = appendJSONString(w.buf, v.String())
	case reflect.Bool:
		w.buf = strconv.AppendBool(w.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.buf = strconv.AppendInt(w.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.buf = strconv.AppendUint(w.buf, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		w.buf = appendJSONFloat(w.buf, v.Float(), t.Bits())
	case reflect.Struct:
		return w.object(v)
	case reflect.Slice:
		w.buf = append(w.buf, '[')
		for i := range v.Len() {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.value(v.Index(i)); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		w.buf = append(w.buf, '{')
		for i, k := range keys {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = appendJSONString(w.buf, k.String())
			w.buf = append(w.buf, ':')
			if err := w.value(v.MapIndex(k)); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	default:
		return fmt.Errorf("encode %v: unsupported type", t)
	}
	return nil
}

func (w *jsonWriter) object(v reflect.Value) error {
	w.buf = append(w.buf, '{')
	first := true
	sh := shapeOf(v.Type())
	for i := range sh.fields {
		f := &sh.fields[i]
		fv := v.FieldByIndex(f.index)
		if !sendMember(f, fv) {
			continue
		}
		if !first {
			w.buf = append(w.buf, ',')
		}
		first = false
		w.buf = append(w.buf, f.jsonKey...)
		if err := w.value(fv); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, '}')
	return nil
}

// appendJSONFloat prints like encoding/json, with AWS's strings for the special values.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
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
