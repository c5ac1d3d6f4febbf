package sns

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a JSON reader that reports errors the way SNS does. SNS parses a filter policy
// with Jackson (answering a syntax error with "failed to parse JSON. " and Jackson's own text)
// and then compiles it with Event Ruler's JsonRuleCompiler, a streaming compiler whose errors
// carry the parser's current location. Clients see both texts verbatim, so both the messages and
// the locations are reproduced here:
//
//   - aws/event-ruler src/main/software/amazon/event/ruler/JsonRuleCompiler.java (the compiler's
//     messages and the order in which it reads tokens);
//   - localstack tests/aws/services/sns/test_sns_filter_policy.snapshot.json and test_sns.snapshot.json,
//     recorded against AWS (2024-05 and 2025-10): for example `{"key":[{"suffix":100}]}` answers
//     "suffix match pattern must be a string\n at [...]; line: 1, column: 22]".
//
// Jackson's location is the position of its input pointer, 1-based, in UTF-16 units of the line:
// after a number, literal or bracket it points past the token; after a string whose text has not
// been read, only past the opening quote; and reading a field name also reads the start of the
// field's value. Decision: the source part is AWS's current one, "REDACTED
// (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)" (recorded 2025-10); recordings from
// 2024 showed the policy text there instead.
const jacksonSource = "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"

// jpos is a position in the policy: line and 1-based column, as Jackson reports them.
type jpos struct{ line, col int }

func (p jpos) String() string {
	return fmt.Sprintf("%s; line: %d, column: %d]", jacksonSource, p.line, p.col)
}

type jkind int

const (
	jEOF jkind = iota
	jStartObject
	jEndObject
	jStartArray
	jEndArray
	jFieldName
	jString
	jNumberInt
	jNumberFloat
	jTrue
	jFalse
	jNull
)

// jtok is one token with the two positions Jackson may report for it.
type jtok struct {
	kind jkind
	// text is a string's or field name's value, a number's or literal's source text.
	text string
	// begin is the position after a string's opening quote; end the position after the token.
	begin, end jpos
	// value is the index of a field's value token (Jackson reads it with the name), else -1.
	value int
}

func (t jtok) isNumeric() bool { return t.kind == jNumberInt || t.kind == jNumberFloat }

// tokenText is Jackson's getText() of the token: the literal text, or the bracket.
func (t jtok) tokenText() string {
	switch t.kind {
	case jStartObject:
		return "{"
	case jEndObject:
		return "}"
	case jStartArray:
		return "["
	case jEndArray:
		return "]"
	case jEOF:
		return "null"
	}
	return t.text
}

// jsonSyntaxError is Jackson's complaint about text that is not JSON, with its location.
type jsonSyntaxError struct {
	msg string
	at  jpos
}

func (e *jsonSyntaxError) Error() string { return e.msg + "\n at " + e.at.String() }

// lexer tokenises the whole policy first, as SNS parses it into a tree before compiling it: a
// syntax error anywhere wins over a policy error earlier in the text.
type lexer struct {
	s         string
	i         int // byte offset
	line      int
	lineStart int // byte offset of the line's first character
	toks      []jtok
}

// colAt is the 1-based column of byte offset i on the current line, in UTF-16 units.
func (l *lexer) colAt(i int) int {
	n := 0
	for _, r := range l.s[l.lineStart:i] {
		n += len(utf16.Encode([]rune{r}))
	}
	return n + 1
}

func (l *lexer) pos() jpos { return jpos{line: l.line, col: l.colAt(l.i)} }

func (l *lexer) fail(msg string) error { return &jsonSyntaxError{msg: msg, at: l.pos()} }

// unexpected is Jackson's text for a character that cannot come here; since Jackson 2.13 its
// location is the character's own (_currentLocationMinusOne), not the one after it.
func (l *lexer) unexpected(what string) error {
	r, _ := utf8.DecodeRuneInString(l.s[l.i:])
	return l.fail(fmt.Sprintf("Unexpected character (%s): %s", charDesc(r), what))
}

// charDesc renders a character as Jackson does: ('x' (code 120)).
func charDesc(r rune) string {
	if r < 0x20 {
		return fmt.Sprintf("CTRL-CHAR, code %d", r)
	}
	return fmt.Sprintf("'%c' (code %d)", r, r)
}

func (l *lexer) skipSpace() {
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case ' ', '\t':
			l.i++
		case '\n':
			l.i++
			l.line++
			l.lineStart = l.i
		case '\r':
			l.i++
			if l.i < len(l.s) && l.s[l.i] == '\n' {
				l.i++
			}
			l.line++
			l.lineStart = l.i
		default:
			return
		}
	}
}

// lexJSON tokenises a complete JSON document.
func lexJSON(s string) ([]jtok, error) {
	l := &lexer{s: s, line: 1}
	if err := l.value(); err != nil {
		return nil, err
	}
	l.skipSpace()
	if l.i < len(l.s) {
		// Jackson's ObjectMapper reads one value and ignores what follows it only when it is
		// whitespace; anything else is trailing content.
		return nil, l.unexpected("expected end-of-input")
	}
	l.toks = append(l.toks, jtok{kind: jEOF, begin: l.pos(), end: l.pos(), value: -1})
	return l.toks, nil
}

func (l *lexer) add(t jtok) int {
	t.value = -1
	l.toks = append(l.toks, t)
	return len(l.toks) - 1
}

// value lexes one value and everything inside it.
func (l *lexer) value() error {
	l.skipSpace()
	if l.i >= len(l.s) {
		return l.fail("No content to map due to end-of-input")
	}
	switch c := l.s[l.i]; {
	case c == '{':
		return l.object()
	case c == '[':
		return l.array()
	case c == '"':
		begin := l.i
		text, err := l.str()
		if err != nil {
			return err
		}
		l.add(jtok{kind: jString, text: text, begin: jpos{l.line, l.colAt(begin + 1)}, end: l.pos()})
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		return l.number()
	default:
		return l.literal()
	}
}

func (l *lexer) object() error {
	start := l.pos()
	l.i++
	p := l.pos()
	l.add(jtok{kind: jStartObject, begin: p, end: p})
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == '}' {
		l.i++
		p := l.pos()
		l.add(jtok{kind: jEndObject, begin: p, end: p})
		return nil
	}
	for {
		l.skipSpace()
		if l.i >= len(l.s) {
			return l.fail("Unexpected end-of-input: expected close marker for Object (start marker at " + start.String() + ")")
		}
		if l.s[l.i] != '"' {
			return l.unexpected("was expecting double-quote to start field name")
		}
		name, err := l.str()
		if err != nil {
			return err
		}
		field := l.add(jtok{kind: jFieldName, text: name})
		l.skipSpace()
		if l.i >= len(l.s) {
			return l.fail("Unexpected end-of-input: expected close marker for Object (start marker at " + start.String() + ")")
		}
		if l.s[l.i] != ':' {
			return l.unexpected("was expecting a colon to separate field name and value")
		}
		l.i++
		if err := l.value(); err != nil {
			return err
		}
		// Jackson reads the start of the value together with the name: the name's position is
		// the value's.
		v := field + 1
		l.toks[field].value = v
		l.toks[field].begin, l.toks[field].end = l.toks[v].begin, l.toks[v].begin
		l.skipSpace()
		if l.i >= len(l.s) {
			return l.fail("Unexpected end-of-input: expected close marker for Object (start marker at " + start.String() + ")")
		}
		switch l.s[l.i] {
		case ',':
			l.i++
		case '}':
			l.i++
			p := l.pos()
			l.add(jtok{kind: jEndObject, begin: p, end: p})
			return nil
		default:
			return l.unexpected("was expecting comma to separate Object entries")
		}
	}
}

func (l *lexer) array() error {
	start := l.pos()
	l.i++
	p := l.pos()
	l.add(jtok{kind: jStartArray, begin: p, end: p})
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == ']' {
		l.i++
		p := l.pos()
		l.add(jtok{kind: jEndArray, begin: p, end: p})
		return nil
	}
	for {
		l.skipSpace()
		if l.i < len(l.s) && l.s[l.i] == ']' {
			return l.unexpected("expected a value")
		}
		if l.i >= len(l.s) {
			return l.fail("Unexpected end-of-input: expected close marker for Array (start marker at " + start.String() + ")")
		}
		if err := l.value(); err != nil {
			return err
		}
		l.skipSpace()
		if l.i >= len(l.s) {
			return l.fail("Unexpected end-of-input: expected close marker for Array (start marker at " + start.String() + ")")
		}
		switch l.s[l.i] {
		case ',':
			l.i++
		case ']':
			l.i++
			p := l.pos()
			l.add(jtok{kind: jEndArray, begin: p, end: p})
			return nil
		default:
			return l.unexpected("was expecting comma to separate Array entries")
		}
	}
}

// str reads a string starting at its opening quote and returns its value.
func (l *lexer) str() (string, error) {
	l.i++ // opening quote
	var b strings.Builder
	for {
		if l.i >= len(l.s) {
			return "", l.fail("Unexpected end-of-input: was expecting closing quote for a string value")
		}
		c := l.s[l.i]
		switch {
		case c == '"':
			l.i++
			return b.String(), nil
		case c == '\\':
			l.i++
			if l.i >= len(l.s) {
				return "", l.fail("Unexpected end-of-input in character escape sequence")
			}
			e := l.s[l.i]
			l.i++
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if l.i+4 > len(l.s) {
					l.i = len(l.s)
					return "", l.fail("Unexpected end-of-input in character escape sequence")
				}
				n, err := strconv.ParseUint(l.s[l.i:l.i+4], 16, 16)
				if err != nil {
					return "", l.fail("Unexpected character in hex escape sequence: expected a hex-digit for character escape sequence")
				}
				l.i += 4
				r := rune(n)
				if utf16.IsSurrogate(r) && l.i+6 <= len(l.s) && l.s[l.i] == '\\' && l.s[l.i+1] == 'u' {
					if m, err := strconv.ParseUint(l.s[l.i+2:l.i+6], 16, 16); err == nil {
						if pair := utf16.DecodeRune(r, rune(m)); pair != utf8.RuneError {
							r = pair
							l.i += 6
						}
					}
				}
				b.WriteRune(r)
			default:
				return "", l.fail(fmt.Sprintf("Unrecognized character escape %s", charDesc(rune(e))))
			}
		case c < 0x20:
			l.i++
			return "", l.fail(fmt.Sprintf("Illegal unquoted character ((%s)): has to be escaped using backslash to be included in string value", charDesc(rune(c))))
		default:
			b.WriteByte(c)
			l.i++
		}
	}
}

func (l *lexer) number() error {
	start := l.i
	if l.s[l.i] == '-' {
		l.i++
	}
	digits := l.i
	for l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '9' {
		l.i++
	}
	if l.i == digits {
		return l.unexpected("expected digit (0-9) to follow minus sign, for valid numeric value")
	}
	if l.s[digits] == '0' && l.i-digits > 1 {
		return l.fail("Invalid numeric value: Leading zeroes not allowed")
	}
	kind := jNumberInt
	if l.i < len(l.s) && l.s[l.i] == '.' {
		kind = jNumberFloat
		l.i++
		f := l.i
		for l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '9' {
			l.i++
		}
		if l.i == f {
			return l.unexpected("Decimal point not followed by a digit")
		}
	}
	if l.i < len(l.s) && (l.s[l.i] == 'e' || l.s[l.i] == 'E') {
		kind = jNumberFloat
		l.i++
		if l.i < len(l.s) && (l.s[l.i] == '+' || l.s[l.i] == '-') {
			l.i++
		}
		e := l.i
		for l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '9' {
			l.i++
		}
		if l.i == e {
			return l.unexpected("Exponent indicator not followed by a digit")
		}
	}
	p := l.pos()
	l.add(jtok{kind: kind, text: l.s[start:l.i], begin: p, end: p})
	return nil
}

// literal reads true, false or null; anything else is Jackson's "Unrecognized token".
func (l *lexer) literal() error {
	start := l.i
	for l.i < len(l.s) {
		r, size := utf8.DecodeRuneInString(l.s[l.i:])
		if !isJavaIdentifierPart(r) {
			break
		}
		l.i += size
	}
	word := l.s[start:l.i]
	kinds := map[string]jkind{"true": jTrue, "false": jFalse, "null": jNull}
	if k, ok := kinds[word]; ok {
		p := l.pos()
		l.add(jtok{kind: k, text: word, begin: p, end: p})
		return nil
	}
	if word == "" {
		return l.unexpected("expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
	}
	return l.fail("Unrecognized token '" + word + "': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
}

// isJavaIdentifierPart approximates Java's Character.isJavaIdentifierPart, which Jackson uses to
// delimit an unrecognised token.
func isJavaIdentifierPart(r rune) bool {
	return r == '_' || r == '$' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r > 0x7f
}
