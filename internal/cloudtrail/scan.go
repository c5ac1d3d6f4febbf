package cloudtrail

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// The strict scanner: it checks JSON exactly as RFC 8259 defines it (and as encoding/json.Valid
// accepts it), including that strings are valid UTF-8, while it walks a record's members. Decoding a
// CloudTrail file used to cost five passes over each record (json.Valid over the file, a structural
// skip to find the file's end, one to split Records, one to read a record's members, utf8.Valid);
// this one pass does the work of all of them, and a log event's message is still guaranteed to be
// well-formed UTF-8 JSON.

// maxDepth bounds nesting as encoding/json does, so hostile input cannot exhaust the stack.
const maxDepth = 10000

var errDepth = errors.New("JSON nested too deeply")

// SWAR constants: a uint64 of eight equal bytes.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainRun reports whether none of the eight bytes in x needs a closer look inside a string: a
// control character, '"', '\\' or a non-ASCII byte. It may report false for a run of plain bytes
// (a borrow can mark a byte above a special one), which only sends the caller to its byte loop.
func plainRun(x uint64) bool {
	m := (x - ones*0x20) & ^x // bytes below 0x20
	q := x ^ (ones * '"')
	m |= (q - ones) & ^q
	s := x ^ (ones * '\\')
	m |= (s - ones) & ^s
	m |= x // bytes from 0x80
	return m&highs == 0
}

// scanString returns the index just past the string starting at b[i] ('"') and whether it holds
// escapes. It rejects control characters, bad escapes and invalid UTF-8.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	j := i + 1
	for {
		for j+8 <= len(b) && plainRun(binary.LittleEndian.Uint64(b[j:])) {
			j += 8
		}
		for j < len(b) && b[j] >= 0x20 && b[j] < 0x80 && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j >= len(b) {
			return 0, false, errSyntax
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, false, errSyntax
				}
				j += 6
			default:
				return 0, false, errSyntax
			}
		case c < 0x20:
			return 0, false, errSyntax
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, errSyntax
			}
			j += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber returns the index just past the number starting at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && '1' <= b[j] && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return 0, errSyntax
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return 0, errSyntax
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return 0, errSyntax
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	return j, nil
}

// scanValue returns the index just past the JSON value starting at b[i] (no leading space), at
// nesting depth depth.
func scanValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == '{':
		return scanMembers(b, i, depth+1, func(_ []byte, j int) (int, error) { return scanValue(b, j, depth+1) })
	case c == '[':
		return scanElements(b, i, depth+1, func(j int) (int, error) { return scanValue(b, j, depth+1) })
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	default:
		return 0, errSyntax
	}
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// scanMembers scans the object starting at b[i] ('{'), at nesting depth depth. For each member,
// value is called with the key's raw bytes (without quotes; an escaped key is passed escaped, so it
// never equals a plain name) and the index of the value's first byte; it must scan the value
// strictly and return the index just past it. The index may be len(b) for truncated input.
func scanMembers(b []byte, i, depth int, value func(key []byte, j int) (int, error)) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		end, _, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		if i, err = value(key, skipSpace(b, i+1)); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = afterItem(b, i, '}'); done || err != nil {
			return i, err
		}
	}
}

// afterItem reads what follows a member or element ending at b[i]: a comma (it returns the index
// of the next item) or the container's closer (it returns the index past it, and done).
func afterItem(b []byte, i int, closer byte) (int, bool, error) {
	i = skipSpace(b, i)
	switch {
	case i >= len(b):
		return 0, false, errSyntax
	case b[i] == ',':
		return skipSpace(b, i+1), false, nil
	case b[i] == closer:
		return i + 1, true, nil
	default:
		return 0, false, errSyntax
	}
}

// scanElements scans the array starting at b[i] ('['), at nesting depth depth, calling elem with the
// index of each element's first byte; elem must scan the element strictly and return the index just
// past it; that index is always within b.
func scanElements(b []byte, i, depth int, elem func(j int) (int, error)) (int, error) {
	if depth > maxDepth {
		return 0, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return 0, errSyntax
		}
		var err error
		if i, err = elem(i); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = afterItem(b, i, ']'); done || err != nil {
			return i, err
		}
	}
}

// recordFields are the members of a record trailwatch reads, as the strict scan found them.
type recordFields struct {
	eventTime   []byte
	timeEscaped bool
	eventID     []byte
	idEscaped   bool
	account     []byte
	acctEscaped bool
	region      []byte
	regEscaped  bool
}

// scanRecord scans the object starting at b[i] ('{') strictly, at nesting depth depth, and collects
// its top-level record members. When a member repeats, the last one counts, as with encoding/json.
func scanRecord(b []byte, i, depth int) (int, recordFields, error) {
	var f recordFields
	end, err := scanMembers(b, i, depth, func(key []byte, j int) (int, error) {
		var dst *[]byte
		var esc *bool
		switch string(key) {
		case "eventTime":
			dst, esc = &f.eventTime, &f.timeEscaped
		case "eventID":
			dst, esc = &f.eventID, &f.idEscaped
		case "recipientAccountId":
			dst, esc = &f.account, &f.acctEscaped
		case "awsRegion":
			dst, esc = &f.region, &f.regEscaped
		default:
			return scanValue(b, j, depth)
		}
		var (
			end     int
			escaped bool
			err     error
		)
		if j < len(b) && b[j] == '"' {
			end, escaped, err = scanString(b, j)
		} else {
			end, err = scanValue(b, j, depth)
		}
		if err != nil {
			return 0, err
		}
		*dst, *esc = b[j:end], escaped
		return end, nil
	})
	return end, f, err
}

// record completes r (whose Raw is set) from the scanned fields.
func (f *recordFields) record(r Record) (Record, error) {
	r.EventID = stringValue(f.eventID, f.idEscaped)
	r.AccountID = stringValue(f.account, f.acctEscaped)
	r.Region = stringValue(f.region, f.regEscaped)
	if len(f.eventTime) == 0 || f.eventTime[0] != '"' {
		return r, errNoTime
	}
	t, ok := parseTime(stringValue(f.eventTime, f.timeEscaped))
	if !ok {
		return r, errNoTime
	}
	r.Time = t
	return r, nil
}
