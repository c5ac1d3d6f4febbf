package metricmath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxExpressionLength bounds an expression's text: MetricDataQuery.Expression has a maximum length
// of 2048 in the CloudWatch API model.
const MaxExpressionLength = 2048

// maxDepth bounds nesting so that a hostile expression cannot exhaust the stack.
const maxDepth = 100

// Expr is a parsed metric math expression. It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	root node
	refs []string
}

// Refs returns the Ids the expression names, in order of first appearance, without duplicates:
// the queries it depends on (METRICS() depends on every metric query, which are never
// expressions, so it adds no edge between expressions).
func (e *Expr) Refs() []string { return e.refs }

// String returns the expression's text.
func (e *Expr) String() string { return e.src }

// UsesFunction reports whether the expression calls the named function (upper case), e.g.
// "SEARCH", which alarms refuse.
func (e *Expr) UsesFunction(name string) bool {
	found := false
	walk(e.root, func(n node) {
		if c, ok := n.(*callNode); ok && c.name == name {
			found = true
		}
	})
	return found
}

type node interface{ position() int }

type numberNode struct {
	pos int
	v   float64
}
type stringNode struct {
	pos int
	s   string
}
type idNode struct {
	pos  int
	name string
}

// keywordNode is a bare upper-case word used as an argument: REPEAT, LINEAR, ASC, DESC, or the
// statistic of SORT (AVG, MIN, MAX, SUM).
type keywordNode struct {
	pos  int
	name string
}
type unaryNode struct {
	pos int
	op  string
	x   node
}
type binaryNode struct {
	pos  int
	op   string
	l, r node
}
type callNode struct {
	pos  int
	name string
	args []node
}
type arrayNode struct {
	pos   int
	elems []node
}

func (n *numberNode) position() int  { return n.pos }
func (n *stringNode) position() int  { return n.pos }
func (n *idNode) position() int      { return n.pos }
func (n *keywordNode) position() int { return n.pos }
func (n *unaryNode) position() int   { return n.pos }
func (n *binaryNode) position() int  { return n.l.position() }
func (n *callNode) position() int    { return n.pos }
func (n *arrayNode) position() int   { return n.pos }

func walk(n node, f func(node)) {
	f(n)
	switch n := n.(type) {
	case *unaryNode:
		walk(n.x, f)
	case *binaryNode:
		walk(n.l, f)
		walk(n.r, f)
	case *callNode:
		for _, a := range n.args {
			walk(a, f)
		}
	case *arrayNode:
		for _, a := range n.elems {
			walk(a, f)
		}
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokNumber
	tokString
	tokIdent  // starts with a lower-case letter: a query Id
	tokWord   // starts with an upper-case letter: a function or keyword
	tokOp     // + - * / ^ == != <= >= < > && || AND OR
	tokLParen // (
	tokRParen // )
	tokLBrack // [
	tokRBrack // ]
	tokComma  // ,
)

type token struct {
	kind tokKind
	text string
	pos  int // 0-based byte offset
	num  float64
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			v, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, errorf(i, "Invalid number %q", src[i:j])
			}
			toks = append(toks, token{kind: tokNumber, text: src[i:j], pos: i, num: v})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			j := i
			for j < len(src) && (src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
				j++
			}
			w := src[i:j]
			switch {
			case w == "AND" || w == "OR":
				toks = append(toks, token{kind: tokOp, text: w, pos: i})
			case c >= 'a' && c <= 'z':
				toks = append(toks, token{kind: tokIdent, text: w, pos: i})
			default:
				toks = append(toks, token{kind: tokWord, text: w, pos: i})
			}
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, errorf(i, "Unterminated string")
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: i})
			i = j + 1
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "==", "!=", "<=", ">=", "&&", "||":
				toks = append(toks, token{kind: tokOp, text: two, pos: i})
				i += 2
				continue
			}
			switch c {
			case '+', '-', '*', '/', '^', '<', '>':
				toks = append(toks, token{kind: tokOp, text: string(c), pos: i})
			case '(':
				toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			case ')':
				toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			case '[':
				toks = append(toks, token{kind: tokLBrack, text: "[", pos: i})
			case ']':
				toks = append(toks, token{kind: tokRBrack, text: "]", pos: i})
			case ',':
				toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			default:
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, errorf(i, "Unexpected character %q", r)
			}
			i++
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(src)}), nil
}

// Parse parses a metric math expression [CWUG "Metric math syntax and functions"]: numbers,
// query Ids (which start with a lower-case letter), upper-case function calls, arrays
// "[a, b]", strings, the arithmetic operators + - * / ^ and unary minus, the comparison operators
// == != <= >= < > and the logical operators AND && OR ||.
//
// Precedence, loosest first: OR, AND, comparisons, + -, * /, unary minus, ^ (right-associative),
// which is the conventional order; AWS documents none (a decision, see the package doc).
func Parse(src string) (*Expr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errorf(0, "The expression is empty")
	}
	if len(src) > MaxExpressionLength {
		return nil, errorf(0, "The expression is longer than %d characters", MaxExpressionLength)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errorf(t.pos, "Unexpected %s", describe(t))
	}
	e := &Expr{src: src, root: root}
	seen := map[string]bool{}
	walk(root, func(n node) {
		if id, ok := n.(*idNode); ok && !seen[id.name] {
			seen[id.name] = true
			e.refs = append(e.refs, id.name)
		}
	})
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokString:
		return "string"
	}
	return fmt.Sprintf("%q", t.text)
}

// binding powers of the binary operators.
func infix(t token) (lbp int, op string) {
	if t.kind != tokOp {
		return 0, ""
	}
	switch t.text {
	case "OR", "||":
		return 1, "OR"
	case "AND", "&&":
		return 2, "AND"
	case "==", "!=", "<", "<=", ">", ">=":
		return 3, t.text
	case "+", "-":
		return 4, t.text
	case "*", "/":
		return 5, t.text
	case "^":
		return 7, "^"
	}
	return 0, ""
}

const unaryBP = 6

func (p *parser) expr(minBP int) (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errorf(p.peek().pos, "The expression is nested too deeply")
	}
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		lbp, op := infix(t)
		if lbp == 0 || lbp <= minBP {
			return left, nil
		}
		p.next()
		rbp := lbp
		if op == "^" {
			rbp = lbp - 1 // right-associative
		}
		right, err := p.expr(rbp)
		if err != nil {
			return nil, err
		}
		left = &binaryNode{pos: t.pos, op: op, l: left, r: right}
	}
}

func (p *parser) prefix() (node, error) {
	t := p.next()
	switch t.kind {
	case tokNumber:
		return &numberNode{pos: t.pos, v: t.num}, nil
	case tokString:
		return &stringNode{pos: t.pos, s: t.text}, nil
	case tokIdent:
		if p.peek().kind == tokLParen {
			return nil, errorf(t.pos, "Unknown function %s: function names are upper case", t.text)
		}
		return &idNode{pos: t.pos, name: t.text}, nil
	case tokWord:
		if p.peek().kind != tokLParen {
			return &keywordNode{pos: t.pos, name: t.text}, nil
		}
		p.next()
		c := &callNode{pos: t.pos, name: t.text}
		if p.peek().kind == tokRParen {
			p.next()
			return c, nil
		}
		for {
			a, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			switch n := p.next(); n.kind {
			case tokComma:
				continue
			case tokRParen:
				return c, nil
			default:
				return nil, errorf(n.pos, "Unexpected %s, expected \",\" or \")\"", describe(n))
			}
		}
	case tokLParen:
		x, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if n := p.next(); n.kind != tokRParen {
			return nil, errorf(n.pos, "Unexpected %s, expected \")\"", describe(n))
		}
		return x, nil
	case tokLBrack:
		a := &arrayNode{pos: t.pos}
		if p.peek().kind == tokRBrack {
			return nil, errorf(p.peek().pos, "An array must not be empty")
		}
		for {
			x, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			a.elems = append(a.elems, x)
			switch n := p.next(); n.kind {
			case tokComma:
				continue
			case tokRBrack:
				return a, nil
			default:
				return nil, errorf(n.pos, "Unexpected %s, expected \",\" or \"]\"", describe(n))
			}
		}
	case tokOp:
		if t.text == "-" || t.text == "+" {
			x, err := p.expr(unaryBP)
			if err != nil {
				return nil, err
			}
			if t.text == "+" {
				return x, nil
			}
			return &unaryNode{pos: t.pos, op: "-", x: x}, nil
		}
	}
	return nil, errorf(t.pos, "Unexpected %s", describe(t))
}
