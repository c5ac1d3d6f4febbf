package metricmath

import (
	"slices"
	"strings"
	"unicode"
)

// SearchMetric is what a search expression is matched against: one metric's identity.
type SearchMetric struct {
	Namespace  string
	MetricName string
	// Dimensions are name/value pairs.
	Dimensions [][2]string
}

// Search is a parsed search expression, the first argument of SEARCH [CWUG "CloudWatch search
// expression syntax"]: an optional metric schema "{Namespace,DimensionName,...}" followed by
// search terms. A term is a word (a partial match), a "quoted phrase" (an exact match), or
// Property=value where Property is MetricName, Namespace or a dimension name (quoted value:
// exact; bare value: partial); terms combine with AND (also implied between terms), OR and NOT,
// grouped by parentheses.
//
// Tokens and partial matches follow the guide's rules (tokens, partial). Decisions: a schema
// matches the metrics of that namespace whose dimension names are exactly those listed (the
// console's grouping); a comma may follow the schema, as in the guide's examples; exact
// matches honour the guide's backslash escapes.
type Search struct {
	hasSchema  bool
	namespace  string
	dimensions []string
	root       searchNode // nil: every metric (of the schema)
}

type searchNode interface {
	match(m *SearchMetric) bool
}

type termNode struct {
	prop  string // "" for any property
	value string
	exact bool
}

type notNode struct{ x searchNode }
type andNode struct{ l, r searchNode }
type orNode struct{ l, r searchNode }

func (n notNode) match(m *SearchMetric) bool { return !n.x.match(m) }
func (n andNode) match(m *SearchMetric) bool { return n.l.match(m) && n.r.match(m) }
func (n orNode) match(m *SearchMetric) bool  { return n.l.match(m) || n.r.match(m) }

func (n termNode) match(m *SearchMetric) bool {
	hit := func(s string) bool {
		if n.exact {
			return s == n.value
		}
		return partial(s, n.value)
	}
	switch n.prop {
	case "":
		if hit(m.Namespace) || hit(m.MetricName) {
			return true
		}
		for _, d := range m.Dimensions {
			if hit(d[0]) || hit(d[1]) {
				return true
			}
		}
		return false
	case "MetricName":
		return hit(m.MetricName)
	case "Namespace":
		return hit(m.Namespace)
	}
	for _, d := range m.Dimensions {
		if d[0] == n.prop && hit(d[1]) {
			return true
		}
	}
	return false
}

// tokens splits s into CloudWatch's search tokens, case preserved [CWUG "CloudWatch search
// expressions: Tokenization"]: non-alphanumeric characters delimit, an upper-case letter after a
// lower-case one starts a token, as does the last capital of a run followed by a lower-case
// letter ("SDBFailure": "SDB", "Failure"), and a run of digits is a token of its own
// ("Project2-trial333": "Project", "2", "trial", "333").
func tokens(s string) []string {
	rs := []rune(s)
	var out []string
	start := -1
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if start >= 0 {
				out = append(out, string(rs[start:i]))
				start = -1
			}
			continue
		}
		if start >= 0 {
			prev := rs[i-1]
			next := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			switch {
			case unicode.IsDigit(r) != unicode.IsDigit(prev),
				unicode.IsUpper(r) && unicode.IsLower(prev),
				unicode.IsUpper(r) && unicode.IsUpper(prev) && next:
				out = append(out, string(rs[start:i]))
				start = i
			}
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, string(rs[start:]))
	}
	return out
}

// partial reports whether a partial-match term finds s [CWUG "CloudWatch search expressions:
// Partial matches" and "Non-alphanumeric characters"]. The term's parts between non-alphanumeric
// characters must each match ("network-errors" finds "NetworkErrors2"). A part matches s's whole
// alphanumeric form ignoring case ("customcount1" finds "CustomCount1"); a part that is one token
// also matches one token of s, ignoring case ("count" and "COUNT" find "CustomCount1"); a part of
// several tokens is a composite
// and matches consecutive tokens of s with the same case ("CustomCount" and "Count1" find
// "CustomCount1"; "customcount", "count1" and "couNT" do not).
func partial(s, term string) bool {
	have := tokens(s)
	whole := strings.ToLower(strings.Join(have, ""))
	parts := strings.FieldsFunc(term, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(parts) == 0 {
		return false
	}
	for _, part := range parts {
		want := tokens(part)
		found := strings.EqualFold(part, whole) // the whole-string token, e.g. "customcount1"
		if len(want) == 1 {
			for _, h := range have {
				found = found || strings.EqualFold(h, part)
			}
		} else {
			for i := 0; i+len(want) <= len(have) && !found; i++ {
				found = slices.Equal(have[i:i+len(want)], want)
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Match reports whether the metric is found by the search.
func (s *Search) Match(m SearchMetric) bool {
	if s.hasSchema {
		if m.Namespace != s.namespace || len(m.Dimensions) != len(s.dimensions) {
			return false
		}
		for _, name := range s.dimensions {
			found := false
			for _, d := range m.Dimensions {
				if d[0] == name {
					found = true
				}
			}
			if !found {
				return false
			}
		}
	}
	return s.root == nil || s.root.match(&m)
}

// Namespace returns the schema's namespace, "" without a schema: the only namespace that can
// match.
func (s *Search) Namespace() string { return s.namespace }

// MaxSearchLength is the guide's limit: "The maximum search expression query size is 1024
// characters".
const MaxSearchLength = 1024

// ParseSearch parses a search expression; its errors are *Error with 0-based offsets into q.
func ParseSearch(q string) (*Search, error) {
	if len(q) > MaxSearchLength {
		return nil, errorf(0, "The search expression is longer than %d characters", MaxSearchLength)
	}
	s := &Search{}
	rest := q
	off := 0
	trimmed := strings.TrimLeft(rest, " \t")
	off += len(rest) - len(trimmed)
	rest = trimmed
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, errorf(off, "Unterminated metric schema")
		}
		parts := strings.Split(rest[1:end], ",")
		s.hasSchema = true
		s.namespace = strings.Trim(strings.TrimSpace(parts[0]), `"`)
		if s.namespace == "" {
			return nil, errorf(off, "The metric schema must name a namespace")
		}
		for _, p := range parts[1:] {
			d := strings.Trim(strings.TrimSpace(p), `"`)
			if d == "" {
				return nil, errorf(off, "The metric schema has an empty dimension name")
			}
			s.dimensions = append(s.dimensions, d)
		}
		off += end + 1
		rest = rest[end+1:]
		if t := strings.TrimLeft(rest, " \t"); strings.HasPrefix(t, ",") {
			off += len(rest) - len(t) + 1
			rest = t[1:]
		}
	}
	toks, err := lexSearch(rest, off)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		if !s.hasSchema {
			return nil, errorf(0, "The search expression is empty")
		}
		return s, nil
	}
	p := &searchParser{toks: toks}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, errorf(p.toks[p.i].pos, "Unexpected %q in the search expression", p.toks[p.i].text)
	}
	s.root = root
	return s, nil
}

type searchTok struct {
	kind string // "(" ")" "AND" "OR" "NOT" "term"
	text string
	pos  int
	term termNode
}

func lexSearch(s string, off int) ([]searchTok, error) {
	var out []searchTok
	i := 0
	word := func() (string, bool, error) { // a bare word or a quoted string at i
		if i < len(s) && s[i] == '"' {
			// "the following characters must be escaped with a backslash: " \ ( )"
			var b strings.Builder
			for j := i + 1; j < len(s); j++ {
				switch c := s[j]; {
				case c == '\\' && j+1 < len(s):
					j++
					b.WriteByte(s[j])
				case c == '"':
					w := b.String()
					i = j + 1
					return w, true, nil
				default:
					b.WriteByte(c)
				}
			}
			return "", false, errorf(off+i, "Unterminated quoted string in the search expression")
		}
		j := i
		for j < len(s) && !strings.ContainsRune(" \t()=\"", rune(s[j])) {
			j++
		}
		w := s[i:j]
		i = j
		return w, false, nil
	}
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, searchTok{kind: string(c), text: string(c), pos: off + i})
			i++
		case c == '=':
			return nil, errorf(off+i, "Unexpected \"=\" in the search expression")
		default:
			pos := i
			w, quoted, err := word()
			if err != nil {
				return nil, err
			}
			if !quoted && (w == "AND" || w == "OR" || w == "NOT") {
				out = append(out, searchTok{kind: w, text: w, pos: off + pos})
				continue
			}
			t := termNode{value: w, exact: quoted}
			if i < len(s) && s[i] == '=' {
				i++
				v, q, err := word()
				if err != nil {
					return nil, err
				}
				if v == "" && !q {
					return nil, errorf(off+i, "The property %s has no value in the search expression", w)
				}
				t = termNode{prop: w, value: v, exact: q}
			}
			out = append(out, searchTok{kind: "term", text: s[pos:i], pos: off + pos, term: t})
		}
	}
	return out, nil
}

type searchParser struct {
	toks  []searchTok
	i     int
	depth int
}

func (p *searchParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].kind
	}
	return ""
}

func (p *searchParser) or() (searchNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "OR" {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *searchParser) and() (searchNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		switch p.peek() {
		case "AND":
			p.i++
		case "term", "NOT", "(":
		default:
			return l, nil
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
}

func (p *searchParser) unary() (searchNode, error) {
	if p.i >= len(p.toks) {
		end := 0
		if len(p.toks) > 0 {
			end = p.toks[len(p.toks)-1].pos + len(p.toks[len(p.toks)-1].text)
		}
		return nil, errorf(end, "The search expression ends too early")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case "term":
		return t.term, nil
	case "NOT":
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case "(":
		p.depth++
		if p.depth > maxDepth {
			return nil, errorf(t.pos, "The search expression is nested too deeply")
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		p.depth--
		if p.peek() != ")" {
			return nil, errorf(t.pos, "Unbalanced parenthesis in the search expression")
		}
		p.i++
		return x, nil
	}
	return nil, errorf(t.pos, "Unexpected %q in the search expression", t.text)
}
