package pattern

import (
	"strconv"
	"strings"
)

// This file holds the lexical layer of the parser: the routines that read one token (a quoted
// string, a %regex%, a word, a selector, an operator, a value) at the current position and
// report a positioned error when the text cannot be a token. The three sub-languages share
// them; the grammar in parse.go decides which token it expects next, because the same
// character means different things in each (a "-" is an exclusion prefix in a term pattern and
// part of a name in a selector).

// operator reads a comparison operator. ok is false, with p.pos unchanged, when there is none.
func (p *parser) operator() (o op, ok bool, err *Error) {
	switch {
	case p.hasPrefix("!="):
		o, p.pos = opNe, p.pos+2
	case p.hasPrefix("<="):
		o, p.pos = opLe, p.pos+2
	case p.hasPrefix(">="):
		o, p.pos = opGe, p.pos+2
	case p.hasPrefix("=="):
		// Decision (§11 item 9): == is not an operator.
		return 0, false, syntaxErr(p.pos, "== is not an operator; use =")
	case p.hasPrefix("="):
		o, p.pos = opEq, p.pos+1
	case p.hasPrefix("<"):
		o, p.pos = opLt, p.pos+1
	case p.hasPrefix(">"):
		o, p.pos = opGt, p.pos+1
	default:
		return 0, false, nil
	}
	return o, true, nil
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipWS() {
	for p.pos < len(p.src) && isWS(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) hasPrefix(s string) bool {
	return len(p.src)-p.pos >= len(s) && p.src[p.pos:p.pos+len(s)] == s
}

// badChar reports the character at the current position as AWS does.
func (p *parser) badChar(detail string) *Error {
	if p.pos >= len(p.src) {
		return syntaxErr(p.pos, "unexpected end of pattern: %s", detail)
	}
	return charErr(p.pos, runeAt(p.src, p.pos), detail)
}

// quoted reads a double-quoted string at p.pos. `\"` stands for `"` and `\\` for `\`; any other
// backslash is kept as written (§3.2).
func (p *parser) quoted() (string, *Error) {
	start := p.pos
	p.pos++ // opening quote
	var buf []byte
	simple := true
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			var s string
			if simple {
				s = p.src[start+1 : p.pos]
			} else {
				s = string(buf)
			}
			p.pos++
			return s, nil
		case c == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '"' || p.src[p.pos+1] == '\\'):
			if simple {
				buf = append(buf, p.src[start+1:p.pos]...)
				simple = false
			}
			buf = append(buf, p.src[p.pos+1])
			p.pos += 2
		default:
			if !simple {
				buf = append(buf, c)
			}
			p.pos++
		}
	}
	return "", syntaxErr(start, "unterminated quoted string")
}

// regexBody reads %…% at p.pos and returns the body and its position. A body cannot contain
// '%' (it is not an allowed regex character), so the next '%' closes it.
func (p *parser) regexBody() (string, int, *Error) {
	start := p.pos
	p.pos++
	for p.pos < len(p.src) && p.src[p.pos] != '%' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return "", 0, syntaxErr(start, "unterminated regular expression (missing closing %%)")
	}
	body := p.src[start+1 : p.pos]
	p.pos++
	p.regexes++
	if p.regexes > maxRegexes {
		return "", 0, syntaxErr(start, "a filter pattern may contain at most %d regular expressions", maxRegexes)
	}
	return body, start + 1, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *parser) word() string {
	start := p.pos
	for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// selector parses $ followed by steps.
func (p *parser) selector() (selector, *Error) {
	start := p.pos
	p.pos++ // $
	var sel selector
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '.':
			p.pos++
			switch n := p.peek(); {
			case n == '*':
				p.pos++
				sel = append(sel, step{kind: stepAnyField})
			case n == '[':
				// .['key'] for keys containing dots.
				if !p.hasPrefix("['") {
					return nil, charErr(start, p.src[start:min(p.pos+2, len(p.src))], "expected .['key']")
				}
				p.pos += 2
				ks := p.pos
				for p.pos < len(p.src) && p.src[p.pos] != '\'' {
					p.pos++
				}
				if !p.hasPrefix("']") || p.pos == ks {
					return nil, syntaxErr(ks, "unterminated or empty .['key'] selector")
				}
				sel = append(sel, step{kind: stepField, name: p.src[ks:p.pos], bracket: true})
				p.pos += 2
			case isWordByte(n) || n == '-':
				ns := p.pos
				for p.pos < len(p.src) && (isWordByte(p.src[p.pos]) || p.src[p.pos] == '-') {
					p.pos++
				}
				sel = append(sel, step{kind: stepField, name: p.src[ns:p.pos]})
			case p.pos >= len(p.src) || isWS(n) || strings.IndexByte("=!<>()&|}", n) >= 0:
				return nil, syntaxErr(p.pos, "selector ends with a dot")
			default:
				// AWS echoes the selector up to the bad character: `$."`.
				return nil, charErr(start, p.src[start:p.pos]+runeAt(p.src, p.pos), "a property name is letters, digits, _ and -")
			}
		case c == '[':
			p.pos++
			if p.peek() == '*' {
				p.pos++
				sel = append(sel, step{kind: stepAnyIndex})
			} else {
				ds := p.pos
				for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
					p.pos++
				}
				n, err := strconv.Atoi(p.src[ds:p.pos])
				if p.pos == ds || err != nil || p.pos-ds > 9 {
					// Decision (§11 item 8): $['key'] and $["key"] are not selectors.
					return nil, charErr(start, p.src[start:min(p.pos+1, len(p.src))], "expected [n], [*] or .['key']")
				}
				sel = append(sel, step{kind: stepIndex, index: n})
			}
			if p.peek() != ']' {
				return nil, syntaxErr(p.pos, "expected ] in selector")
			}
			p.pos++
		default:
			goto done
		}
	}
done:
	if len(sel) == 0 {
		if p.pos >= len(p.src) || isWS(p.src[p.pos]) || strings.IndexByte("=!<>()&|}", p.src[p.pos]) >= 0 {
			return nil, syntaxErr(start, "a selector is $ followed by .name, [n] or a wildcard")
		}
		return nil, charErr(start, p.src[start:p.pos]+runeAt(p.src, p.pos), "a selector is $ followed by .name, [n] or a wildcard")
	}
	if w := sel.wildcards(); w > 1 {
		return nil, syntaxErr(start, "a property selector may contain at most one wildcard")
	} else if w == 1 {
		p.wildcards++
		if p.wildcards > maxWildcardSelectors {
			return nil, syntaxErr(start, "a JSON pattern may contain at most %d wildcard selectors", maxWildcardSelectors)
		}
	}
	// The selector must be followed by a separator or an operator.
	if p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case isWS(c), c == '=', c == '!', c == '<', c == '>':
		default:
			return nil, p.badChar("unexpected character after the selector")
		}
	}
	return sel, nil
}

// isValueByte reports whether c may appear in an unquoted value: alphanumerics, and '.', '*',
// '_', '+', '-' as in AWS's own examples (kms.amazonaws.com, 123.123.*, +1000, 1e-3).
func isValueByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '*' || c == '+' || c == '-'
}

// value parses the literal after operator o.
func (p *parser) value(o op) (value, *Error) {
	start := p.pos
	var v value
	switch c := p.peek(); {
	case c == '"':
		s, err := p.quoted()
		if err != nil {
			return v, err
		}
		v = value{kind: valQuoted, text: s}
	case c == '%':
		body, bodyPos, err := p.regexBody()
		if err != nil {
			return v, err
		}
		re, err := compileRegex(body, bodyPos)
		if err != nil {
			return v, err
		}
		v = value{kind: valRegex, text: body, re: re}
	case isValueByte(c):
		for p.pos < len(p.src) && isValueByte(p.src[p.pos]) {
			p.pos++
		}
		text := p.src[start:p.pos]
		if n, ok := parseNumber(text); ok {
			v = value{kind: valNumber, text: text, num: n}
		} else {
			v = value{kind: valBare, text: text}
		}
	case p.pos >= len(p.src):
		return v, syntaxErr(p.pos, "expected a value after %s", o)
	case c == '}' || c == ')' || c == ']':
		return v, syntaxErr(p.pos, "expected a value after %s", o)
	default:
		return v, p.badChar("unquoted values are letters, digits and . * _ + -; quote anything else with \"")
	}
	if p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case isWS(c), c == ')', c == '}', c == ']', c == ',', c == '&', c == '|':
		default:
			return v, p.badChar("unexpected character after the value")
		}
	}
	if o.ordering() && v.kind != valNumber {
		// AWS: `{ $.x > "123" }` gives Invalid character(s) in term '"123"' (§4.3).
		return v, charErr(start, p.src[start:p.pos], "<, >, <= and >= need an unquoted number")
	}
	return v, nil
}

// parseNumber recognises the numeric literal grammar of §4.1: an optional sign, digits, an
// optional fraction and an optional exponent.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
