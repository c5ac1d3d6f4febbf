package pattern

import (
	"bytes"
	"regexp"
	"strings"
	"unsafe"
)

// ---- text literals with * wildcards (§4.4) ----

// textMatcher compares a text against a literal that may contain * wildcards.
type textMatcher struct {
	lit  []byte
	segs [][]byte // split on *, when the literal has one
}

func newTextMatcher(lit string) textMatcher {
	m := textMatcher{lit: []byte(lit)}
	if bytes.IndexByte(m.lit, '*') >= 0 {
		m.segs = bytes.Split(m.lit, []byte{'*'})
	}
	return m
}

func (m *textMatcher) match(s []byte) bool {
	if m.segs == nil {
		return bytes.Equal(s, m.lit)
	}
	return globMatch(m.segs, s)
}

// globMatch implements AWS's non-backtracking wildcard (§4.4, inferred from AWS-validated
// observations): the first segment is a prefix; each later segment binds to its first
// occurrence after the previous one; a non-empty last segment must end exactly at the end of
// the text. So "*111.111.111" does not match "111.111.111.111", and neither does "111*111".
func globMatch(segs [][]byte, s []byte) bool {
	first := segs[0]
	if !bytes.HasPrefix(s, first) {
		return false
	}
	pos := len(first)
	last := len(segs) - 1
	for i := 1; i < last; i++ {
		j := bytes.Index(s[pos:], segs[i])
		if j < 0 {
			return false
		}
		pos += j + len(segs[i])
	}
	tail := segs[last]
	if len(tail) == 0 {
		return true
	}
	j := bytes.Index(s[pos:], tail)
	return j >= 0 && pos+j+len(tail) == len(s)
}

// ---- numbers ----

// numericText parses b as a number under the pattern grammar (§4.1), without allocating.
func numericText(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	return parseNumber(unsafe.String(&b[0], len(b)))
}

func compareNum(o op, a, b float64) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opGt:
		return a > b
	case opLe:
		return a <= b
	case opGe:
		return a >= b
	}
	return false
}

// ---- compiled conditions shared by JSON and delimited patterns ----

// test is a compiled condition on one value's text.
type test struct {
	op   op
	kind valKind
	num  float64
	text textMatcher
	re   *regexp.Regexp
}

func newTest(o op, v value) test {
	t := test{op: o, kind: v.kind, num: v.num}
	switch v.kind {
	case valQuoted, valBare:
		t.text = newTextMatcher(v.text)
	case valRegex:
		t.re = v.re.re
	}
	return t
}

// matchText applies the test to a text: a JSON string's decoded text, a JSON number's source
// text (for non-number literals), or a delimited field.
func (t *test) matchText(s []byte) bool {
	switch t.kind {
	case valNumber:
		n, ok := numericText(s)
		if !ok {
			// A number literal against non-numeric text: only != holds (§4.3, CFCHOU).
			return t.op == opNe
		}
		return compareNum(t.op, n, t.num)
	case valRegex:
		found := t.re.Match(s)
		return found == (t.op == opEq)
	default:
		return t.text.match(s) == (t.op == opEq)
	}
}

// ---- JSON programs ----

// jnode is a compiled JSON expression: an AND or OR of kids, one condition, or a set of
// equality literals on one selector (an OR of `$.x = A || $.x = B || …`, the shape of most CIS
// patterns, becomes one map lookup).
type jnode struct {
	and, or bool
	kids    []jnode
	c       *jcond
	set     *eqSet
}

// eqSet is an OR of = conditions with wildcard-free text literals on one plain selector.
type eqSet struct {
	slot int
	lits map[string]struct{}
}

// minEqSet is the number of equality literals on one selector from which an OR uses a map.
const minEqSet = 3

// jcond is a compiled JSON condition on the values found at one selector.
type jcond struct {
	slot     int
	wildcard bool
	t        test
}

// jsonProg is a compiled JSON pattern: the selectors it needs (slot i is paths[i]) and the
// expression over them.
type jsonProg struct {
	paths []selector
	root  *pathNode
	expr  jnode
}

// slotOf returns the slot of sel in paths, adding it if new.
func slotOf(paths *[]selector, sel selector) int {
	s := sel.String()
	for i, p := range *paths {
		if p.String() == s {
			return i
		}
	}
	*paths = append(*paths, sel)
	return len(*paths) - 1
}

func compileJSON(e expr, paths *[]selector) jnode {
	switch e := e.(type) {
	case *orExpr:
		n := jnode{or: true}
		// Group `$.x = "lit"` kids by selector; OR is commutative and conditions have no effects,
		// so a group can be tested as one set membership.
		groups := map[string][]*condExpr{}
		for _, x := range e.x {
			if c, ok := x.(*condExpr); ok && isEqText(c) {
				k := c.sel.String()
				groups[k] = append(groups[k], c)
			}
		}
		done := map[string]bool{}
		for _, x := range e.x {
			if c, ok := x.(*condExpr); ok && isEqText(c) && len(groups[c.sel.String()]) >= minEqSet {
				k := c.sel.String()
				if done[k] {
					continue
				}
				done[k] = true
				set := &eqSet{slot: slotOf(paths, c.sel), lits: map[string]struct{}{}}
				for _, g := range groups[k] {
					set.lits[g.val.text] = struct{}{}
				}
				n.kids = append(n.kids, jnode{set: set})
				continue
			}
			n.kids = append(n.kids, compileJSON(x, paths))
		}
		if len(n.kids) == 1 {
			return n.kids[0]
		}
		return n
	case *andExpr:
		n := jnode{and: true}
		for _, x := range e.x {
			n.kids = append(n.kids, compileJSON(x, paths))
		}
		return n
	case *condExpr:
		c := &jcond{slot: slotOf(paths, e.sel), wildcard: e.sel.wildcards() > 0, t: newTest(e.op, e.val)}
		if e.op.unary() {
			c.t = test{op: e.op}
		}
		return jnode{c: c}
	}
	panic("pattern: unknown expression node")
}

// guard returns a necessary condition of n, if it has one of the form "the text at slot is
// one of lits" (the same test as `$.x = "lit"`): Set uses it to skip filters an event cannot
// match.
func guard(n *jnode) (slot int, lits []string, ok bool) {
	switch {
	case n.set != nil:
		for l := range n.set.lits {
			lits = append(lits, l)
		}
		return n.set.slot, lits, true
	case n.c != nil:
		c := n.c
		if c.t.op == opEq && !c.wildcard && (c.t.kind == valQuoted || c.t.kind == valBare) && c.t.text.segs == nil {
			return c.slot, []string{string(c.t.text.lit)}, true
		}
		return 0, nil, false
	case n.and:
		for i := range n.kids {
			if slot, lits, ok := guard(&n.kids[i]); ok {
				return slot, lits, true
			}
		}
		return 0, nil, false
	case n.or:
		for i := range n.kids {
			s, l, ok := guard(&n.kids[i])
			if !ok || (i > 0 && s != slot) {
				return 0, nil, false
			}
			slot = s
			lits = append(lits, l...)
		}
		return slot, lits, true
	}
	return 0, nil, false
}

// presence returns a selector that must have a value for n to hold, if there is one: every
// test but NOT EXISTS is false on a selector that reaches nothing (§4.2).
func presence(n *jnode) (slot int, ok bool) {
	switch {
	case n.set != nil:
		return n.set.slot, true
	case n.c != nil:
		return n.c.slot, n.c.t.op != opNotExists
	case n.and:
		for i := range n.kids {
			if slot, ok := presence(&n.kids[i]); ok {
				return slot, true
			}
		}
		return 0, false
	case n.or:
		for i := range n.kids {
			s, ok := presence(&n.kids[i])
			if !ok || (i > 0 && s != slot) {
				return 0, false
			}
			slot = s
		}
		return slot, true
	}
	return 0, false
}

// isEqText reports whether c is `$.plain.selector = literal` with a wildcard-free text literal.
func isEqText(c *condExpr) bool {
	return c.op == opEq && c.sel.wildcards() == 0 &&
		(c.val.kind == valQuoted || c.val.kind == valBare) && !strings.Contains(c.val.text, "*")
}

// evalJSON evaluates n over the values the scanner found; slotMap maps the program's slots to
// the scanner's (nil: identity).
func (s *scanState) evalJSON(n *jnode, slotMap []int) bool {
	switch {
	case n.and:
		for i := range n.kids {
			if !s.evalJSON(&n.kids[i], slotMap) {
				return false
			}
		}
		return true
	case n.or:
		for i := range n.kids {
			if s.evalJSON(&n.kids[i], slotMap) {
				return true
			}
		}
		return false
	}
	if n.set != nil {
		slot := n.set.slot
		if slotMap != nil {
			slot = slotMap[slot]
		}
		vals := s.vals[slot]
		if len(vals) == 0 {
			return false
		}
		v := vals[len(vals)-1]
		if v.kind != jString && v.kind != jNumber {
			return false
		}
		_, ok := n.set.lits[string(s.text(v))]
		return ok
	}
	c := n.c
	slot := c.slot
	if slotMap != nil {
		slot = slotMap[slot]
	}
	vals := s.vals[slot]
	if c.t.op == opNotExists {
		return len(vals) == 0
	}
	if len(vals) == 0 {
		return false
	}
	if !c.wildcard {
		// A repeated key: the last one wins, as in encoding/json.
		return s.testValue(&c.t, vals[len(vals)-1])
	}
	// Decision (§11 item 6): a wildcard selector matches when any value it reaches passes,
	// for every operator including !=.
	for _, v := range vals {
		if s.testValue(&c.t, v) {
			return true
		}
	}
	return false
}

// text returns the decoded text of a string or the source text of a number. The result may
// live in s.scratch and is valid until the next call.
func (s *scanState) text(v jval) []byte {
	b := s.data[v.start:v.end]
	if v.esc {
		s.scratch = unescape(s.scratch[:0], b)
		return s.scratch
	}
	return b
}

// testValue applies t to one value, following the table of §4.2 and the decisions on §11.
func (s *scanState) testValue(t *test, v jval) bool {
	switch v.kind {
	case jObject, jArray:
		return false // neither = nor != matches an object or array (§4.2)
	case jNull:
		// Decision (§11 item 4): null only satisfies IS NULL.
		return t.op == opIsNull
	case jTrue:
		return t.op == opIsTrue
	case jFalse:
		return t.op == opIsFalse
	case jNumber:
		if t.op.unary() {
			return false
		}
		b := s.data[v.start:v.end]
		if t.kind == valNumber {
			n, ok := numericText(b)
			return ok && compareNum(t.op, n, t.num)
		}
		// Quoted and bare literals compare with the number's source text (§4.4).
		return t.matchText(b)
	case jString:
		if t.op.unary() {
			return false
		}
		return t.matchText(s.text(v))
	}
	return false
}

// valueText returns the text of a value for a dimension or metric value: strings decoded,
// numbers as written, booleans as true/false. ok is false for null, objects and arrays.
func (s *scanState) valueText(v jval) ([]byte, bool) {
	switch v.kind {
	case jString, jNumber, jTrue, jFalse:
		if v.kind == jString {
			return s.text(v), true
		}
		return s.data[v.start:v.end], true
	}
	return nil, false
}

// valueNumber returns a value as a metric value: a number, or a string holding one
// (decision on §11 item 14).
func (s *scanState) valueNumber(v jval) (float64, bool) {
	switch v.kind {
	case jNumber, jString:
		return numericText(s.text(v))
	}
	return 0, false
}
