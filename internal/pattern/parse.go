package pattern

import (
	"unicode/utf8"
)

// MaxLength is the longest pattern AWS accepts, in characters (§1).
const MaxLength = 1024

// maxWildcardSelectors is AWS's quota of wildcard selectors ($.* and [*]) in one JSON pattern.
const maxWildcardSelectors = 3

// parse dispatches on the first character (§2) and parses src into an ast.
func parse(src string) (*ast, int, *Error) {
	// Reject long input before looking at it: 4 bytes per character is the UTF-8 maximum, so
	// anything longer is over the limit whatever it holds.
	if len(src) > 4*MaxLength || (len(src) > MaxLength && utf8.RuneCountInString(src) > MaxLength) {
		return nil, 0, lengthErr(src)
	}
	p := &parser{src: src}
	p.skipWS()
	if p.pos == len(src) {
		return &ast{kind: KindMatchAll}, 0, nil
	}
	// No trimming before dispatch: " {…}" is a term pattern, and fails as one (§2).
	var a *ast
	var err *Error
	switch src[0] {
	case '{':
		a, err = p.parseJSON()
	case '[':
		a, err = p.parseDelimited()
	default:
		a, err = p.parseTerms()
	}
	if err != nil {
		return nil, 0, err
	}
	return a, p.regexes, nil
}

// parser is the recursive-descent parser over the pattern text. Each sub-language has its own
// token rules, so the grammar calls the token reader it expects next (lex.go) instead of
// pulling from a shared token stream.
type parser struct {
	src       string
	pos       int
	regexes   int
	wildcards int // wildcard selectors seen
}

// ---- term patterns (§3) ----

func (p *parser) parseTerms() (*ast, *Error) {
	a := &ast{kind: KindTerms}
	var starts []int
	allMatchAll := true
	for {
		p.skipWS()
		if p.pos >= len(p.src) {
			break
		}
		start := p.pos
		t := term{}
		switch p.peek() {
		case '?':
			t.op = termOptional
			p.pos++
		case '-':
			t.op = termExcluded
			p.pos++
		}
		if p.pos >= len(p.src) || isWS(p.src[p.pos]) {
			// A lone prefix ("- term" with a space is not documented; §11 item 10).
			p.pos = start
			return nil, p.badChar("a ? or - prefix must be followed by a term")
		}
		switch c := p.peek(); {
		case c == '"':
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			t.text, t.quoted = s, true
			t.all = isBlank(s)
		case c == '%':
			body, bodyPos, err := p.regexBody()
			if err != nil {
				return nil, err
			}
			re, err := compileRegex(body, bodyPos)
			if err != nil {
				return nil, err
			}
			t.text, t.re = body, re
		case isWordByte(c):
			for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
				p.pos++
			}
			t.text = p.src[start+boolInt(t.op != termRequired) : p.pos]
		case c == '{' || c == '[':
			// AWS answers " {$.ThisFlag IS TRUE} " (leading space) with the generic message,
			// not with an invalid character (CFCHOU e2e test_simple::test_patterns_invalid).
			return nil, syntaxErr(p.pos, "a JSON or space-delimited pattern must start at the first character")
		default:
			return nil, p.badChar("characters other than letters, digits and _ must be quoted")
		}
		if p.pos < len(p.src) && !isWS(p.src[p.pos]) {
			return nil, p.badChar("characters other than letters, digits and _ must be quoted")
		}
		if !t.all || t.op != termRequired {
			allMatchAll = false
		}
		a.terms = append(a.terms, t)
		starts = append(starts, start)
	}
	for i, t := range a.terms {
		// Decision (§11 item 12): a %regex% term must be the whole pattern.
		if t.re != nil && (len(a.terms) > 1 || t.op != termRequired) {
			return nil, syntaxErr(starts[i], "a regular expression term must be the whole pattern")
		}
	}
	if allMatchAll {
		a.kind = KindMatchAll
	}
	return a, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWS(s[i]) {
			return false
		}
	}
	return true
}

// ---- JSON patterns (§4) ----

func (p *parser) parseJSON() (*ast, *Error) {
	p.pos++ // {
	p.skipWS()
	if p.peek() == '}' {
		// Decision (§11 item 16): {} is rejected.
		return nil, syntaxErr(p.pos, "empty JSON pattern")
	}
	e, err := p.orExpr(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.peek() != '}' {
		if p.pos >= len(p.src) {
			return nil, syntaxErr(p.pos, "missing closing }")
		}
		return nil, p.unexpected("expected && or || or }")
	}
	p.pos++
	p.skipWS()
	if p.pos < len(p.src) {
		// Decision (§11 item 15): text after the closing brace is rejected.
		return nil, syntaxErr(p.pos, "unexpected text after the closing }")
	}
	return &ast{kind: KindJSON, json: e}, nil
}

// unexpected reports a syntax error at the current position: a character AWS would echo when
// it cannot start any token, a generic error otherwise.
func (p *parser) unexpected(detail string) *Error {
	if p.pos >= len(p.src) {
		return syntaxErr(p.pos, "unexpected end of pattern: %s", detail)
	}
	c := p.src[p.pos]
	if isValueByte(c) || c == '"' || c == '%' || c == '$' || c == '(' || c == ')' || c == '{' ||
		c == '}' || c == '[' || c == ']' || c == '&' || c == '|' || c == '=' || c == '!' || c == '<' || c == '>' {
		return syntaxErr(p.pos, "%s", detail)
	}
	return p.badChar(detail)
}

func (p *parser) orExpr(depth int) (expr, *Error) {
	return p.chain(depth, "||", p.andExpr, func(x []expr) expr { return &orExpr{x: x} })
}

func (p *parser) andExpr(depth int) (expr, *Error) {
	return p.chain(depth, "&&", p.primary, func(x []expr) expr { return &andExpr{x: x} })
}

// chain parses operand (op operand)*, the shape of both binary levels (&& binds tighter than ||
// because orExpr's operands are andExprs); a single operand is returned as is.
func (p *parser) chain(depth int, op string, operand func(int) (expr, *Error), join func([]expr) expr) (expr, *Error) {
	x, err := operand(depth)
	if err != nil {
		return nil, err
	}
	list := []expr{x}
	for {
		save := p.pos
		p.skipWS()
		if !p.hasPrefix(op) {
			p.pos = save
			break
		}
		p.pos += len(op)
		y, err := operand(depth)
		if err != nil {
			return nil, err
		}
		list = append(list, y)
	}
	if len(list) == 1 {
		return x, nil
	}
	return join(list), nil
}

func (p *parser) primary(depth int) (expr, *Error) {
	p.skipWS()
	if p.peek() == '(' {
		open := p.pos
		p.pos++
		p.skipWS()
		if p.peek() == ')' {
			return nil, syntaxErr(p.pos, "empty parentheses")
		}
		e, err := p.orExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.peek() != ')' {
			if p.pos >= len(p.src) || p.peek() == '}' {
				return nil, syntaxErr(open, "unbalanced parenthesis")
			}
			return nil, p.unexpected("expected && or || or )")
		}
		p.pos++
		return e, nil
	}
	return p.condition()
}

func (p *parser) condition() (expr, *Error) {
	if p.peek() != '$' {
		return nil, p.unexpected("expected a selector starting with $")
	}
	sel, err := p.selector()
	if err != nil {
		return nil, err
	}
	c := &condExpr{sel: sel}
	hadWS := p.pos < len(p.src) && isWS(p.src[p.pos])
	p.skipWS()
	o, ok, err := p.operator()
	switch {
	case err != nil:
		return nil, err
	case ok:
		c.op = o
	case hadWS && isLetter(p.peek()):
		return p.keywordTest(c)
	default:
		return nil, p.unexpected("expected an operator after the selector")
	}
	p.skipWS()
	v, err := p.value(c.op)
	if err != nil {
		return nil, err
	}
	c.val = v
	return c, nil
}

// keywordTest parses IS NULL, IS TRUE, IS FALSE and NOT EXISTS. Decision (§11 item 7): only the
// upper-case spellings the documentation shows are accepted.
func (p *parser) keywordTest(c *condExpr) (expr, *Error) {
	start := p.pos
	w1 := p.word()
	if (w1 != "IS" && w1 != "NOT") || p.pos >= len(p.src) || !isWS(p.src[p.pos]) {
		return nil, syntaxErr(start, "expected an operator, IS or NOT EXISTS after the selector, found %q", w1)
	}
	p.skipWS()
	w2pos := p.pos
	w2 := p.word()
	switch {
	case w1 == "IS" && w2 == "NULL":
		c.op = opIsNull
	case w1 == "IS" && w2 == "TRUE":
		c.op = opIsTrue
	case w1 == "IS" && w2 == "FALSE":
		c.op = opIsFalse
	case w1 == "NOT" && w2 == "EXISTS":
		c.op = opNotExists
	default:
		return nil, syntaxErr(w2pos, "unsupported test %q (IS NULL, IS TRUE, IS FALSE and NOT EXISTS are supported)", w1+" "+w2)
	}
	return c, nil
}

// ---- space-delimited patterns (§5) ----

func (p *parser) parseDelimited() (*ast, *Error) {
	p.pos++ // [
	a := &ast{kind: KindDelimited}
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		return a, p.endDelimited()
	}
	names := map[string]bool{}
	ellipses := 0
	for {
		p.skipWS()
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		if f.ellipsis {
			ellipses++
			if ellipses > 1 {
				// Decision: one ellipsis per pattern (CDK's rule); two would make field binding ambiguous.
				return nil, syntaxErr(p.pos-3, "a pattern may contain at most one ...")
			}
		}
		if f.name != "" {
			if names[f.name] {
				return nil, syntaxErr(p.pos, "field name %q is used twice", f.name)
			}
			names[f.name] = true
		}
		a.fields = append(a.fields, f)
		p.skipWS()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ']':
			p.pos++
			return a, p.endDelimited()
		}
		if p.pos >= len(p.src) {
			return nil, syntaxErr(p.pos, "missing closing ]")
		}
		return nil, p.unexpected("expected , or ]")
	}
}

func (p *parser) endDelimited() *Error {
	p.skipWS()
	if p.pos < len(p.src) {
		return syntaxErr(p.pos, "unexpected text after the closing ]")
	}
	return nil
}

func (p *parser) field() (field, *Error) {
	if p.hasPrefix("...") {
		p.pos += 3
		return field{ellipsis: true}, nil
	}
	if c := p.peek(); c == ',' || c == ']' {
		return field{}, nil // empty slot
	}
	if !isWordByte(p.peek()) {
		return field{}, p.unexpected("expected a field name")
	}
	name := p.word()
	f := field{name: name}
	save := p.pos
	p.skipWS()
	if c := p.peek(); c == ',' || c == ']' || p.pos >= len(p.src) {
		return f, nil
	}
	p.pos = save
	for {
		var and []fieldCond
		for {
			c, err := p.fieldCond(name, len(f.or) == 0 && len(and) == 0)
			if err != nil {
				return f, err
			}
			and = append(and, c)
			save := p.pos
			p.skipWS()
			if !p.hasPrefix("&&") {
				p.pos = save
				break
			}
			p.pos += 2
		}
		f.or = append(f.or, and)
		save := p.pos
		p.skipWS()
		if !p.hasPrefix("||") {
			p.pos = save
			break
		}
		p.pos += 2
	}
	return f, nil
}

// fieldCond parses "name op value"; first says the name was already read.
func (p *parser) fieldCond(name string, first bool) (fieldCond, *Error) {
	var c fieldCond
	if !first {
		p.skipWS()
		start := p.pos
		if !isWordByte(p.peek()) {
			return c, p.unexpected("expected a field name")
		}
		if n := p.word(); n != name {
			// awsdocs#21: `status_code = 4* && bytes > 1000` in one slot is rejected. Decision
			// (§11 item 17): names are compared case-sensitively.
			return c, syntaxErr(start, "a field condition may only test its own field %q, not %q", name, n)
		}
	}
	p.skipWS()
	o, ok, err := p.operator()
	if err != nil {
		return c, err
	}
	if !ok {
		return c, p.unexpected("expected an operator, , or ]")
	}
	c.op = o
	p.skipWS()
	v, err := p.value(c.op)
	if err != nil {
		return c, err
	}
	c.val = v
	return c, nil
}
