package pattern

import (
	"strconv"
	"strings"
)

// Kind is the sub-language of a pattern, chosen by its first character (§2 of the reference).
type Kind int

const (
	// KindMatchAll is the empty or whitespace-only pattern (and `" "`), which matches every event.
	KindMatchAll Kind = iota
	// KindTerms is an unstructured term pattern, including a standalone %regex%.
	KindTerms
	// KindJSON is a pattern in curly braces that tests fields of JSON events.
	KindJSON
	// KindDelimited is a space-delimited pattern in square brackets.
	KindDelimited
)

// String names the kind for logs and test failures.
func (k Kind) String() string {
	switch k {
	case KindMatchAll:
		return "match-all"
	case KindTerms:
		return "terms"
	case KindJSON:
		return "json"
	case KindDelimited:
		return "delimited"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// termOp is the prefix of a term.
type termOp int

const (
	termRequired termOp = iota // plain term: must occur
	termOptional               // ?term: OR group, ignored when a required or excluded term exists
	termExcluded               // -term: must not occur
)

// term is one word, quoted phrase or regular expression of a term pattern.
type term struct {
	op     termOp
	text   string // the literal to search for (unescaped)
	quoted bool
	all    bool   // quoted and whitespace-only: matches every event (§3.1)
	re     *regex // standalone %regex% term
}

// op is a comparison or test operator of JSON and delimited conditions.
type op int

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
	opIsNull
	opIsTrue
	opIsFalse
	opNotExists
)

// String returns the operator as written in a pattern.
func (o op) String() string {
	switch o {
	case opEq:
		return "="
	case opNe:
		return "!="
	case opLt:
		return "<"
	case opGt:
		return ">"
	case opLe:
		return "<="
	case opGe:
		return ">="
	case opIsNull:
		return "IS NULL"
	case opIsTrue:
		return "IS TRUE"
	case opIsFalse:
		return "IS FALSE"
	case opNotExists:
		return "NOT EXISTS"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

func (o op) ordering() bool { return o >= opLt && o <= opGe }
func (o op) unary() bool    { return o >= opIsNull }

// valKind is the written form of a literal, which decides how it compares (§4.3, §4.4).
type valKind int

const (
	valQuoted valKind = iota // "text": compared as text, * is a wildcard
	valBare                  // unquoted non-number: compared as text, * is a wildcard
	valNumber                // unquoted number: compared numerically with numbers
	valRegex                 // %regex%: searched in the text
)

// value is the right-hand side of a condition.
type value struct {
	kind valKind
	text string // unescaped text; the source text of a number; the body of a regex
	num  float64
	re   *regex
}

func (v value) String() string {
	switch v.kind {
	case valQuoted:
		return quote(v.text)
	case valRegex:
		return "%" + v.text + "%"
	}
	return v.text
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// stepKind is one step of a JSON selector.
type stepKind int

const (
	stepField    stepKind = iota // .name or .['name']
	stepAnyField                 // .*
	stepIndex                    // [n]
	stepAnyIndex                 // [*]
)

type step struct {
	kind    stepKind
	name    string
	index   int
	bracket bool // written .['name']
}

// selector is a JSON path such as $.a.b[0].
type selector []step

func (s selector) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, st := range s {
		switch st.kind {
		case stepField:
			if st.bracket {
				b.WriteString(".['" + st.name + "']")
			} else {
				b.WriteString("." + st.name)
			}
		case stepAnyField:
			b.WriteString(".*")
		case stepIndex:
			b.WriteString("[" + strconv.Itoa(st.index) + "]")
		case stepAnyIndex:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func (s selector) wildcards() int {
	n := 0
	for _, st := range s {
		if st.kind == stepAnyField || st.kind == stepAnyIndex {
			n++
		}
	}
	return n
}

// expr is a node of a JSON pattern: *orExpr, *andExpr or *condExpr.
type expr interface {
	render(b *strings.Builder, inAnd bool)
}

type orExpr struct{ x []expr }
type andExpr struct{ x []expr }

// condExpr is one test of a JSON pattern.
type condExpr struct {
	sel selector
	op  op
	val value // unused for unary operators
}

func (e *orExpr) render(b *strings.Builder, inAnd bool) {
	if inAnd {
		b.WriteByte('(')
	}
	for i, x := range e.x {
		if i > 0 {
			b.WriteString(" || ")
		}
		x.render(b, false)
	}
	if inAnd {
		b.WriteByte(')')
	}
}

func (e *andExpr) render(b *strings.Builder, _ bool) {
	for i, x := range e.x {
		if i > 0 {
			b.WriteString(" && ")
		}
		x.render(b, true)
	}
}

func (e *condExpr) render(b *strings.Builder, _ bool) {
	b.WriteString(e.sel.String())
	b.WriteByte(' ')
	b.WriteString(e.op.String())
	if !e.op.unary() {
		b.WriteByte(' ')
		b.WriteString(e.val.String())
	}
}

// field is one slot of a space-delimited pattern.
type field struct {
	ellipsis bool
	name     string        // "" for an empty slot
	or       [][]fieldCond // OR of ANDs; nil when the slot only captures
}

// fieldCond is one test of a delimited field; name always equals the slot's name.
type fieldCond struct {
	op  op
	val value
}

func (f field) String() string {
	if f.ellipsis {
		return "..."
	}
	if len(f.or) == 0 {
		return f.name
	}
	var b strings.Builder
	for i, and := range f.or {
		if i > 0 {
			b.WriteString(" || ")
		}
		for j, c := range and {
			if j > 0 {
				b.WriteString(" && ")
			}
			b.WriteString(f.name + " " + c.op.String() + " " + c.val.String())
		}
	}
	return b.String()
}

// ast is a parsed pattern of any kind.
type ast struct {
	kind   Kind
	terms  []term  // KindTerms
	json   expr    // KindJSON
	fields []field // KindDelimited
}

func (a *ast) String() string {
	switch a.kind {
	case KindTerms:
		parts := make([]string, len(a.terms))
		for i, t := range a.terms {
			var s string
			switch {
			case t.re != nil:
				s = "%" + t.text + "%"
			case t.quoted || !isWord(t.text):
				s = quote(t.text)
			default:
				s = t.text
			}
			switch t.op {
			case termOptional:
				s = "?" + s
			case termExcluded:
				s = "-" + s
			}
			parts[i] = s
		}
		return strings.Join(parts, " ")
	case KindJSON:
		var b strings.Builder
		b.WriteString("{ ")
		a.json.render(&b, false)
		b.WriteString(" }")
		return b.String()
	case KindDelimited:
		parts := make([]string, len(a.fields))
		for i, f := range a.fields {
			parts[i] = f.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return ""
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
