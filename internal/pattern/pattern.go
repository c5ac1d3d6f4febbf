package pattern

import (
	"bytes"
	"regexp"
	"sync"
)

// Pattern is a compiled filter pattern. It is immutable and safe for concurrent use.
type Pattern struct {
	src     string
	ast     *ast
	regexes int
	terms   *termProg
	json    *jsonProg
	delim   *delimProg
	// need, for a JSON pattern, is a set of literals one of which the raw message must contain
	// for the pattern to match (see needLiterals); nil when there is no such set.
	need [][]byte
	pool sync.Pool // *scanState
}

// Compile parses and validates a filter pattern of any of the four sub-languages. Every error
// is an *Error worded for SurfaceMetricFilter.
func Compile(src string) (*Pattern, error) {
	p, err := compile(src)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func compile(src string) (*Pattern, *Error) {
	a, regexes, err := parse(src)
	if err != nil {
		return nil, err
	}
	p := &Pattern{src: src, ast: a, regexes: regexes}
	switch a.kind {
	case KindTerms:
		p.terms = compileTerms(a.terms)
	case KindJSON:
		j := &jsonProg{}
		j.expr = compileJSON(a.json, &j.paths)
		j.root = buildTrie(j.paths)
		p.json = j
		p.need = needLiterals(&j.expr)
	case KindDelimited:
		p.delim = compileDelimited(a.fields)
	}
	return p, nil
}

// Source returns the pattern exactly as given: AWS stores and returns patterns verbatim.
func (p *Pattern) Source() string { return p.src }

// String returns the canonical form of the pattern; Compile(p.String()) matches the same events.
func (p *Pattern) String() string { return p.ast.String() }

// Regexes returns the number of %regex% in the pattern. AWS allows at most 5 filters containing
// a regex per log group (metric and subscription filters together, §6); that quota belongs to
// the caller, which uses this count to enforce it.
func (p *Pattern) Regexes() int { return p.regexes }

// Kind returns the sub-language of the pattern.
func (p *Pattern) Kind() Kind { return p.ast.kind }

func (p *Pattern) state() *scanState {
	if s, ok := p.pool.Get().(*scanState); ok {
		return s
	}
	return &scanState{}
}

// Match reports whether the pattern matches one log event message. It allocates nothing in
// steady state for term and JSON patterns. A JSON pattern first looks for its needed literals in
// the raw bytes (mayMatch), which rules out most events of a search several times faster than
// scanning their JSON.
func (p *Pattern) Match(msg []byte) bool {
	switch p.ast.kind {
	case KindMatchAll:
		return true
	case KindTerms:
		return p.terms.match(msg)
	case KindJSON:
		if !p.mayMatch(msg) {
			return false
		}
	}
	s := p.state()
	ok := p.matchState(s, msg)
	p.pool.Put(s)
	return ok
}

func (p *Pattern) matchState(s *scanState, msg []byte) bool {
	switch p.ast.kind {
	case KindMatchAll:
		return true
	case KindTerms:
		return p.terms.match(msg)
	case KindJSON:
		if !s.scan(msg, p.json.root, len(p.json.paths)) {
			return false
		}
		return s.evalJSON(&p.json.expr, nil)
	case KindDelimited:
		s.fields = tokenize(msg, s.fields[:0])
		return p.delim.match(msg, s.fields)
	}
	return false
}

// Extract reports whether the pattern matches msg and, if so, the extractedValues
// TestMetricFilter returns for it: positional and named fields for a delimited pattern, an
// empty map for every other kind (§1, §5.4).
func (p *Pattern) Extract(msg []byte) (map[string]string, bool) {
	if p.ast.kind != KindDelimited {
		if !p.Match(msg) {
			return nil, false
		}
		return map[string]string{}, true
	}
	s := p.state()
	defer p.pool.Put(s)
	s.fields = tokenize(msg, s.fields[:0])
	if !p.delim.match(msg, s.fields) {
		return nil, false
	}
	return p.delim.extract(msg, s.fields), true
}

// ---- term patterns ----

// termProg is a compiled term pattern (§3.3).
type termProg struct {
	required [][]byte
	excluded [][]byte
	optional [][]byte
	never    bool // an excluded term matches everything
	anyOpt   bool // an optional term matches everything
	hasReq   bool // a required or excluded term exists, so ? terms are ignored
	re       *regexp.Regexp
}

func compileTerms(ts []term) *termProg {
	t := &termProg{}
	for _, x := range ts {
		if x.re != nil {
			t.re = x.re.re
			t.hasReq = true
			continue
		}
		switch x.op {
		case termRequired:
			t.hasReq = true
			if !x.all {
				t.required = append(t.required, []byte(x.text))
			}
		case termExcluded:
			t.hasReq = true
			if x.all {
				t.never = true
			} else {
				t.excluded = append(t.excluded, []byte(x.text))
			}
		case termOptional:
			if x.all {
				t.anyOpt = true
			} else {
				t.optional = append(t.optional, []byte(x.text))
			}
		}
	}
	return t
}

func (t *termProg) match(msg []byte) bool {
	if t.re != nil {
		return t.re.Match(msg)
	}
	if t.hasReq {
		// Every ? term is ignored once a plain or - term exists (§3.3).
		if t.never {
			return false
		}
		for _, r := range t.required {
			if !bytes.Contains(msg, r) {
				return false
			}
		}
		for _, x := range t.excluded {
			if bytes.Contains(msg, x) {
				return false
			}
		}
		return true
	}
	if t.anyOpt {
		return true
	}
	for _, o := range t.optional {
		if bytes.Contains(msg, o) {
			return true
		}
	}
	return false
}
