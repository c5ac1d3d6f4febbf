package awsapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonDecoder reads awsJson request bodies into shape structs. It replaces encoding/json for three
// reasons: member names match case-sensitively (as AWS does; encoding/json folds case), doubles
// accept the strings "NaN", "Infinity" and "-Infinity" that botocore and smithy clients send for
// non-finite values, and type mismatches are reported with the messages of AWS's Coral JSON
// deserializer (recorded against Kinesis by kinesalite and against DynamoDB by dynalite), e.g.
// "class java.lang.String can not be converted to an Integer".
type jsonDecoder struct {
	data    []byte
	pos     int
	depth   int
	scratch []byte // reused for strings with escapes
}

// maxJSONDepth bounds nesting; AWS shapes are far shallower.
const maxJSONDepth = 64

// jsonSyntaxError is malformed JSON. AWS answers it with a SerializationException that has no
// message.
type jsonSyntaxError struct{ offset int }

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("syntax error at offset %d", e.offset) }

// jsonTypeError is a well-formed value of the wrong type; msg is Coral's wording.
type jsonTypeError struct{ msg string }

func (e *jsonTypeError) Error() string { return e.msg }

// decodeJSON fills out (a pointer to a struct) from an awsJson body. An empty body is the empty
// input.
func decodeJSON(body []byte, out any) error {
	d := jsonDecoder{data: body}
	d.skipWS()
	switch d.peek() {
	case 0:
		if d.pos == len(d.data) {
			return nil
		}
	case '{', 'n':
	case '[':
		return &jsonTypeError{"Start of list found where not expected"}
	default:
		return d.syntax() // a bare scalar: AWS answers without a message
	}
	if err := d.value(reflect.ValueOf(out).Elem()); err != nil {
		return err
	}
	d.skipWS()
	if d.pos != len(d.data) {
		return d.syntax()
	}
	return nil
}

func (d *jsonDecoder) syntax() error { return &jsonSyntaxError{offset: d.pos} }

func (d *jsonDecoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the byte at the cursor, or 0 at the end of the body.
func (d *jsonDecoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// coralClass names a JSON scalar the way Coral's messages do.
func coralClass(c byte) string {
	switch c {
	case '"':
		return "class java.lang.String"
	case 't', 'f':
		return "class java.lang.Boolean"
	default:
		return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	}
}

func (d *jsonDecoder) mismatch(c byte, target string) error {
	switch c {
	case '[':
		return &jsonTypeError{"Start of list found where not expected"}
	case '{':
		return &jsonTypeError{"Start of structure or map found where not expected."}
	}
	return &jsonTypeError{coralClass(c) + " can not be converted to " + target}
}

func (d *jsonDecoder) value(v reflect.Value) error {
	d.skipWS()
	c := d.peek()
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		v.SetZero()
		return nil
	}
	t := v.Type()
	switch {
	case t == timeType:
		return d.timestamp(v, c)
	case t == bytesType:
		if c != '"' {
			if err := d.skip(); err != nil {
				return err
			}
			return d.mismatch(c, "a Blob")
		}
		s, err := d.string()
		if err != nil {
			return err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return &jsonTypeError{fmt.Sprintf("'%s' can not be converted to a Blob: %v", truncate(s, 64), err)}
		}
		v.SetBytes(b)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		start := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(d.data[start:d.pos], &doc); err != nil {
			return &jsonSyntaxError{offset: start}
		}
		if doc != nil {
			v.Set(reflect.ValueOf(doc))
		}
		return nil
	case reflect.String:
		if c != '"' {
			if err := d.skip(); err != nil {
				return err
			}
			return d.mismatch(c, "an String")
		}
		s, err := d.string()
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch c {
		case 't':
			v.SetBool(true)
			return d.literal("true")
		case 'f':
			v.SetBool(false)
			return d.literal("false")
		case '"':
			s, err := d.string()
			if err != nil {
				return err
			}
			return &jsonTypeError{fmt.Sprintf("'%s' can not be converted to an Boolean", truncate(s, 64))}
		}
		if err := d.skip(); err != nil {
			return err
		}
		return d.mismatch(c, "an Boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return d.integer(v, c)
	case reflect.Float32, reflect.Float64:
		return d.float(v, c)
	case reflect.Struct:
		if c != '{' {
			if err := d.skip(); err != nil {
				return err
			}
			if c == '[' {
				return d.mismatch(c, "")
			}
			return &jsonTypeError{"Expected null"}
		}
		return d.object(v)
	case reflect.Slice:
		if c != '[' {
			if err := d.skip(); err != nil {
				return err
			}
			if c == '{' {
				return d.mismatch(c, "")
			}
			return &jsonTypeError{"Expected list or null"}
		}
		return d.array(v)
	case reflect.Map:
		if c != '{' {
			if err := d.skip(); err != nil {
				return err
			}
			if c == '[' {
				return d.mismatch(c, "")
			}
			return &jsonTypeError{"Expected map or null"}
		}
		return d.mapValue(v)
	}
	return fmt.Errorf("decode %v: unsupported type", t)
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.syntax()
	}
	d.pos += len(lit)
	return nil
}

// number returns the raw text of a JSON number at the cursor.
func (d *jsonDecoder) number() (string, error) {
	start := d.pos
	if d.peek() == '-' {
		d.pos++
	}
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.peek() == '0' {
		d.pos++
	} else if digits() == 0 {
		return "", d.syntax()
	}
	if d.peek() == '.' {
		d.pos++
		if digits() == 0 {
			return "", d.syntax()
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if digits() == 0 {
			return "", d.syntax()
		}
	}
	return string(d.data[start:d.pos]), nil
}

// plainInt reads an integer without fraction or exponent that fits in int64 (up to 18 digits), the
// common case of timestamps and counts, without allocating; ok is false otherwise and the cursor
// is then undefined.
func (d *jsonDecoder) plainInt() (int64, bool) {
	neg := d.peek() == '-'
	if neg {
		d.pos++
	}
	start := d.pos
	var n int64
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' && d.pos-start < 18 {
		n = n*10 + int64(d.data[d.pos]-'0')
		d.pos++
	}
	digits := d.pos - start
	if digits == 0 || digits > 1 && d.data[start] == '0' {
		return 0, false
	}
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

func isNumberStart(c byte) bool { return c == '-' || c >= '0' && c <= '9' }

func (d *jsonDecoder) integer(v reflect.Value, c byte) error {
	target := "an Integer"
	if v.Kind() == reflect.Int64 || v.Kind() == reflect.Uint64 || v.Kind() == reflect.Int {
		target = "an Long"
	}
	if !isNumberStart(c) {
		if err := d.skip(); err != nil {
			return err
		}
		return d.mismatch(c, target)
	}
	start := d.pos
	if i, ok := d.plainInt(); ok {
		if v.CanInt() && !v.OverflowInt(i) {
			v.SetInt(i)
			return nil
		}
		if !v.CanInt() && i >= 0 && !v.OverflowUint(uint64(i)) {
			v.SetUint(uint64(i))
			return nil
		}
	}
	d.pos = start
	s, err := d.number()
	if err != nil {
		return err
	}
	if v.CanInt() {
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return d.intFallback(v, s, target)
		}
		v.SetInt(i)
		return nil
	}
	u, err := strconv.ParseUint(s, 10, v.Type().Bits())
	if err != nil {
		return d.intFallback(v, s, target)
	}
	v.SetUint(u)
	return nil
}

// intFallback accepts integral values written with a fraction or exponent (1.0, 1e3), as Coral's
// TruncatingBigNumber does, and rejects the rest.
func (d *jsonDecoder) intFallback(v reflect.Value, s, target string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return &jsonTypeError{fmt.Sprintf("Number %s can not be converted to %s", truncate(s, 64), target)}
	}
	if v.CanInt() {
		if f < math.MinInt64 || f >= math.MaxInt64 || v.OverflowInt(int64(f)) {
			return &jsonTypeError{fmt.Sprintf("Number %s can not be converted to %s", truncate(s, 64), target)}
		}
		v.SetInt(int64(f))
		return nil
	}
	if f < 0 || f >= math.MaxUint64 || v.OverflowUint(uint64(f)) {
		return &jsonTypeError{fmt.Sprintf("Number %s can not be converted to %s", truncate(s, 64), target)}
	}
	v.SetUint(uint64(f))
	return nil
}

func (d *jsonDecoder) float(v reflect.Value, c byte) error {
	switch {
	case isNumberStart(c):
		s, err := d.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return d.syntax()
		}
		v.SetFloat(f) // out of range: ±Inf, as Java's Double.parseDouble gives
		return nil
	case c == '"':
		s, err := d.string()
		if err != nil {
			return err
		}
		switch s {
		case "NaN":
			v.SetFloat(math.NaN())
		case "Infinity":
			v.SetFloat(math.Inf(1))
		case "-Infinity":
			v.SetFloat(math.Inf(-1))
		default:
			return &jsonTypeError{"class java.lang.String can not be converted to an Double"}
		}
		return nil
	}
	if err := d.skip(); err != nil {
		return err
	}
	return d.mismatch(c, "an Double")
}

func (d *jsonDecoder) timestamp(v reflect.Value, c byte) error {
	var t Time
	switch {
	case isNumberStart(c):
		s, err := d.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return d.syntax()
		}
		tt, err := epochSeconds(f)
		if err != nil {
			return &jsonTypeError{fmt.Sprintf("Number %s can not be converted to a Timestamp", truncate(s, 64))}
		}
		t.Time = tt
	case c == '"':
		s, err := d.string()
		if err != nil {
			return err
		}
		tt, err := parseTimestamp(s)
		if err != nil {
			return &jsonTypeError{fmt.Sprintf("'%s' can not be converted to a Timestamp", truncate(s, 64))}
		}
		t.Time = tt
	default:
		if err := d.skip(); err != nil {
			return err
		}
		return d.mismatch(c, "a Timestamp")
	}
	v.Set(reflect.ValueOf(t))
	return nil
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > maxJSONDepth {
		return d.syntax()
	}
	return nil
}

// openObject consumes '{' and reports whether the object has members.
func (d *jsonDecoder) openObject() (bool, error) {
	if err := d.enter(); err != nil {
		return false, err
	}
	d.pos++ // {
	d.skipWS()
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

// key reads a member name and its colon, leaving the cursor on the value. The name aliases the
// body (or the scratch buffer) and is only valid until the next read: lookups by string(k) do not
// allocate.
func (d *jsonDecoder) key() ([]byte, error) {
	d.skipWS()
	if d.peek() != '"' {
		return nil, d.syntax()
	}
	k, err := d.rawString()
	if err != nil {
		return nil, err
	}
	d.skipWS()
	if d.peek() != ':' {
		return nil, d.syntax()
	}
	d.pos++
	return k, nil
}

// rawString reads a string without converting it; plain strings alias the body.
func (d *jsonDecoder) rawString() ([]byte, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.data[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	s, err := d.string()
	if err != nil {
		return nil, err
	}
	d.scratch = append(d.scratch[:0], s...)
	return d.scratch, nil
}

// next consumes the separator after a member or element; more is false at the closing bracket.
func (d *jsonDecoder) next(closing byte) (more bool, err error) {
	d.skipWS()
	switch d.peek() {
	case ',':
		d.pos++
		return true, nil
	case closing:
		d.pos++
		d.depth--
		return false, nil
	}
	return false, d.syntax()
}

func (d *jsonDecoder) object(v reflect.Value) error {
	more, err := d.openObject()
	sh := shapeOf(v.Type())
	for more && err == nil {
		var k []byte
		if k, err = d.key(); err != nil {
			return err
		}
		if f := sh.byName[string(k)]; f != nil {
			err = d.value(v.FieldByIndex(f.index))
		} else {
			err = d.skip() // unknown members are ignored, as AWS does
		}
		if err == nil {
			more, err = d.next('}')
		}
	}
	return err
}

func (d *jsonDecoder) mapValue(v reflect.Value) error {
	m := reflect.MakeMap(v.Type())
	et := v.Type().Elem()
	more, err := d.openObject()
	for more && err == nil {
		kb, kerr := d.key()
		if kerr != nil {
			return kerr
		}
		k := string(kb)
		e := reflect.New(et).Elem()
		if err = d.value(e); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		more, err = d.next('}')
	}
	if err != nil {
		return err
	}
	v.Set(m)
	return nil
}

func (d *jsonDecoder) array(v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // [
	s := reflect.MakeSlice(v.Type(), 0, 0)
	d.skipWS()
	if d.peek() == ']' {
		d.pos++
		d.depth--
		v.Set(s)
		return nil
	}
	// s is kept at its full length, and cut to the elements read only at the end: reslicing a
	// reflect.Value allocates a slice header, once per element when done as each one is read.
	for i := 0; ; i++ {
		if i == s.Len() {
			grown := reflect.MakeSlice(v.Type(), max(4, 2*i), max(4, 2*i))
			reflect.Copy(grown, s)
			s = grown
		}
		if err := d.value(s.Index(i)); err != nil {
			return err
		}
		more, err := d.next(']')
		if err != nil {
			return err
		}
		if !more {
			v.Set(s.Slice(0, i+1))
			return nil
		}
	}
}

// skip passes over one well-formed value.
func (d *jsonDecoder) skip() error {
	d.skipWS()
	switch c := d.peek(); {
	case c == '{':
		more, err := d.openObject()
		for more && err == nil {
			if _, err = d.key(); err == nil {
				if err = d.skip(); err == nil {
					more, err = d.next('}')
				}
			}
		}
		return err
	case c == '[':
		if err := d.enter(); err != nil {
			return err
		}
		d.pos++
		d.skipWS()
		if d.peek() == ']' {
			d.pos++
			d.depth--
			return nil
		}
		for {
			if err := d.skip(); err != nil {
				return err
			}
			d.skipWS()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				d.depth--
				return nil
			default:
				return d.syntax()
			}
		}
	case c == '"':
		_, err := d.string()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case isNumberStart(c):
		_, err := d.number()
		return err
	}
	return d.syntax()
}

// string reads a JSON string. Invalid UTF-8 is replaced by U+FFFD, as encoding/json does.
//
// PutLogEvents messages are mostly JSON documents (CloudTrail records), so inside the body they
// are strings with an escaped quote every 5-15 bytes, and this function was the largest cost of
// ingest. It therefore tests eight bytes at a time (specialBytes), copies them eight at a time
// too (the bytes past a quote or backslash are overwritten or cut off), and validates UTF-8 only
// when a byte >= 0x80 was seen: escapes produce valid UTF-8, so a string whose raw bytes are all
// ASCII needs no check.
func (d *jsonDecoder) string() (string, error) {
	data := d.data
	start := d.pos + 1 // after the opening quote
	i, seen := scanString(data, start)
	if i < len(data) && data[i] == '"' { // no escapes: the common case of short strings
		d.pos = i + 1
		raw := data[start:i]
		if seen&msb == 0 || utf8.Valid(raw) {
			return string(raw), nil
		}
		return string([]rune(string(raw))), nil // converts invalid bytes to U+FFFD
	}
	buf := append(d.scratch[:0], data[start:i]...)
	for {
		// Copy plain bytes up to the next quote, backslash or control character.
		for {
			if cap(buf)-len(buf) < 8 {
				buf = slices.Grow(buf, 8)
			}
			if i+8 > len(data) {
				for i < len(data) {
					c := data[i]
					if c == '"' || c == '\\' || c < 0x20 {
						break
					}
					seen |= uint64(c)
					buf = append(buf, c)
					i++
				}
				break
			}
			w := binary.LittleEndian.Uint64(data[i:])
			n := len(buf)
			binary.LittleEndian.PutUint64(buf[n:n+8], w)
			if m := specialBytes(w); m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				seen |= w & (m ^ (m - 1)) // the bytes before the match (the match is ASCII)
				i += k
				// A one-character escape is handled here, without leaving the loop: CloudTrail
				// records sent as messages have an escaped quote every ten bytes or so, and going
				// round the outer loop for each cost about a tenth of decoding a PutLogEvents body.
				if data[i] == '\\' && i+1 < len(data) {
					if u := unescaped[data[i+1]]; u != 0 {
						buf = buf[:n+k+1] // within the 8 bytes grown above, since k < 8
						buf[n+k] = u
						i += 2
						continue
					}
				}
				buf = buf[:n+k]
				break
			}
			seen |= w
			buf = buf[:n+8]
			i += 8
		}
		if i >= len(data) {
			d.pos = i
			d.scratch = buf[:0]
			return "", d.syntax()
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			d.scratch = buf[:0]
			if seen&msb != 0 && !utf8.Valid(buf) {
				return string([]rune(string(buf))), nil
			}
			return string(buf), nil
		case c < 0x20:
			d.pos = i
			d.scratch = buf[:0]
			return "", d.syntax()
		}
		// A backslash.
		if i+1 >= len(data) {
			d.pos = i + 1
			d.scratch = buf[:0]
			return "", d.syntax()
		}
		e := data[i+1]
		i += 2
		if u := unescaped[e]; u != 0 {
			buf = append(buf, u)
			continue
		}
		if e != 'u' {
			d.pos = i
			d.scratch = buf[:0]
			return "", d.syntax()
		}
		d.pos = i
		r, ok := d.hex4()
		if !ok {
			d.scratch = buf[:0]
			return "", d.syntax()
		}
		if utf16.IsSurrogate(r) {
			r2 := utf8.RuneError
			save := d.pos
			if d.pos+1 < len(data) && data[d.pos] == '\\' && data[d.pos+1] == 'u' {
				d.pos += 2
				if x, ok := d.hex4(); ok {
					r2 = x
				}
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				r = dec
			} else {
				r = utf8.RuneError
				d.pos = save
			}
		}
		buf = utf8.AppendRune(buf, r)
		i = d.pos
	}
}

// unescaped maps the character after a backslash to the byte it stands for, for the one-character
// escapes of JSON; it is 0 for 'u' and for characters that may not follow a backslash.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// Masks for the SWAR (SIMD within a register) tests of specialBytes: each byte of lsb is 1, of
// msb 0x80.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialBytes flags the bytes of w (eight string bytes loaded little-endian) that end a run of
// plain string bytes: a quote, a backslash or a control character. Its lowest set bit is the high
// bit of the first such byte, and it is 0 if there is none.
//
// For a byte value c, (x - lsb) &^ x & msb with x = w ^ (lsb*c) flags the bytes equal to c, and
// (w - lsb*0x20) &^ w & msb the bytes below 0x20. Borrows make these tests flag spurious bytes
// only above a byte that truly matches, so the lowest flag of their union is exact.
func specialBytes(w uint64) uint64 {
	q := w ^ (lsb * '"')
	bs := w ^ (lsb * '\\')
	return (((q - lsb) &^ q) | ((bs - lsb) &^ bs) | ((w - lsb*0x20) &^ w)) & msb
}

// scanString returns the index of the first byte at or after i that ends a run of plain string
// bytes (specialBytes), or len(data) if there is none, and the OR of the bytes it passed (the
// caller tests it for bytes >= 0x80).
func scanString(data []byte, i int) (int, uint64) {
	var seen uint64
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		if m := specialBytes(w); m != 0 {
			return i + bits.TrailingZeros64(m)>>3, seen | w&(m^(m-1))
		}
		seen |= w
	}
	for ; i < len(data); i++ {
		c := data[i]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		seen |= uint64(c)
	}
	return i, seen
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}
