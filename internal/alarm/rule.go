package alarm

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of an AlarmRule [§1.12, CWUG "Create_Composite_Alarm"].
const (
	MaxRuleLength   = 10240
	MaxRuleChildren = 100
	// MaxRuleElements counts child alarms, TRUE/FALSE and parenthesis pairs ("A pair of
	// parentheses counts as one element").
	MaxRuleElements = 500
)

// Rule is a parsed composite-alarm AlarmRule. Its grammar, loosest binding first:
//
//	rule    = or
//	or      = and { "OR" and }
//	and     = not { "AND" not }
//	not     = "NOT" not | primary
//	primary = "(" rule ")" | "TRUE" | "FALSE" | state "(" name ")"
//	state   = "ALARM" | "OK" | "INSUFFICIENT_DATA"
//	name    = quoted string | a run of characters other than blanks, parentheses and quotes
//
// Keywords are case-insensitive ("change the AlarmRule … to `False`", CWUG). Unquoted names end at
// a blank, which is why AWS reports "Unsupported token 'Oldest' at char 67, must be: ')'" for
// ALARM(SampleQueue Oldest Age Alarm) (aws/aws-cdk#13953).
type Rule struct {
	root     ruleNode
	children []string
	elements int
}

// ruleNode is a node of the rule tree.
type ruleNode interface {
	eval(state func(ref string) State) bool
	format(b *strings.Builder)
}

type constNode bool

type stateNode struct {
	want State
	ref  string
}

type notNode struct{ x ruleNode }

type binNode struct {
	and  bool
	l, r ruleNode
}

type parenNode struct{ x ruleNode }

func (n constNode) eval(func(string) State) bool   { return bool(n) }
func (n stateNode) eval(s func(string) State) bool { return s(n.ref) == n.want }
func (n notNode) eval(s func(string) State) bool   { return !n.x.eval(s) }
func (n parenNode) eval(s func(string) State) bool { return n.x.eval(s) }
func (n binNode) eval(s func(string) State) bool {
	if n.and {
		return n.l.eval(s) && n.r.eval(s)
	}
	return n.l.eval(s) || n.r.eval(s)
}

func (n constNode) format(b *strings.Builder) {
	if n {
		b.WriteString("TRUE")
	} else {
		b.WriteString("FALSE")
	}
}
func (n stateNode) format(b *strings.Builder) {
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n.ref)
	b.WriteString(n.want.String() + `("` + quoted + `")`)
}
func (n notNode) format(b *strings.Builder) { b.WriteString("NOT "); n.x.format(b) }
func (n parenNode) format(b *strings.Builder) {
	b.WriteByte('(')
	n.x.format(b)
	b.WriteByte(')')
}
func (n binNode) format(b *strings.Builder) {
	n.l.format(b)
	if n.and {
		b.WriteString(" AND ")
	} else {
		b.WriteString(" OR ")
	}
	n.r.format(b)
}

// Eval evaluates the rule with the states of the referenced alarms; state is called with each
// reference exactly as written in the rule (a name or an ARN, see RefName).
func (r *Rule) Eval(state func(ref string) State) bool { return r.root.eval(state) }

// Children returns the distinct alarm references of the rule in order of first appearance.
func (r *Rule) Children() []string { return append([]string(nil), r.children...) }

// String returns the rule in canonical form: upper-case keywords, quoted names, single spaces.
// Parsing the canonical form yields an equal rule.
func (r *Rule) String() string {
	var b strings.Builder
	r.root.format(&b)
	return b.String()
}

// RefName returns the alarm name a rule reference designates: the reference itself, or the name
// part of an alarm ARN "arn:aws:cloudwatch:<region>:<account>:alarm:<name>".
func RefName(ref string) string {
	parts := strings.SplitN(ref, ":", 7)
	if len(parts) == 7 && parts[0] == "arn" && parts[2] == "cloudwatch" && parts[5] == "alarm" {
		return parts[6]
	}
	return ref
}

// token is a lexical token of an AlarmRule.
type token struct {
	kind   tokenKind
	text   string // the source text (unquoted value for strings)
	pos    int    // 0-based character offset, as AWS reports it ("at char 1" for the ')' of "()")
	quoted bool
}

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokLParen
	tokRParen
	tokWord
	tokString
)

// ruleError builds AWS's AlarmRule error, e.g.
// "Error in AlarmRule [Unsupported token ')' at char 1]" (aws/aws-cdk#34662).
func ruleError(detail string) error {
	return &Error{Code: CodeValidationError, Message: "Error in AlarmRule [" + detail + "]"}
}

func unsupported(t token, mustBe string) error {
	d := fmt.Sprintf("Unsupported token '%s' at char %d", t.text, t.pos)
	if mustBe != "" {
		d += ", must be: " + mustBe
	}
	return ruleError(d)
}

func lexRule(s string) ([]token, error) {
	var toks []token
	runes := []rune(s)
	for i := 0; i < len(runes); {
		c := runes[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == '"':
			start := i
			var b strings.Builder
			i++
			closed := false
			for i < len(runes) {
				if runes[i] == '\\' && i+1 < len(runes) {
					b.WriteRune(runes[i+1])
					i += 2
					continue
				}
				if runes[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteRune(runes[i])
				i++
			}
			if !closed {
				return nil, ruleError(fmt.Sprintf("Unterminated string at char %d", start))
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: start, quoted: true})
		default:
			start := i
			for i < len(runes) && !strings.ContainsRune(" \t\n\r()\"", runes[i]) {
				i++
			}
			toks = append(toks, token{kind: tokWord, text: string(runes[start:i]), pos: start})
		}
	}
	toks = append(toks, token{kind: tokEOF, pos: len(runes)})
	return toks, nil
}

type ruleParser struct {
	toks     []token
	i        int
	rule     *Rule
	seen     map[string]bool
	depth    int
	elements int
}

func (p *ruleParser) peek() token { return p.toks[p.i] }
func (p *ruleParser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *ruleParser) keyword(t token) string {
	if t.kind != tokWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

// ParseRule parses and validates an AlarmRule: length 1..10240, at most 100 distinct child alarms
// and 500 elements, and well-formed syntax.
func ParseRule(s string) (*Rule, error) {
	switch n := utf8.RuneCountInString(s); {
	case n < 1:
		return nil, &Error{Code: CodeValidationError, Message: "1 validation error detected: Value '' at 'alarmRule' failed to satisfy constraint: Member must have length greater than or equal to 1"}
	case n > MaxRuleLength:
		return nil, &Error{Code: CodeValidationError, Message: fmt.Sprintf("1 validation error detected: Value '%s' at 'alarmRule' failed to satisfy constraint: Member must have length less than or equal to %d", s, MaxRuleLength)}
	}
	toks, err := lexRule(s)
	if err != nil {
		return nil, err
	}
	p := &ruleParser{toks: toks, rule: &Rule{}, seen: map[string]bool{}}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, unsupported(t, "")
	}
	if len(p.rule.children) > MaxRuleChildren {
		return nil, ruleError(fmt.Sprintf("Too many alarms: %d, the maximum is %d", len(p.rule.children), MaxRuleChildren))
	}
	if p.elements > MaxRuleElements {
		return nil, ruleError(fmt.Sprintf("Too many elements: %d, the maximum is %d", p.elements, MaxRuleElements))
	}
	p.rule.root, p.rule.elements = root, p.elements
	return p.rule, nil
}

func (p *ruleParser) or() (ruleNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek()) == "OR" {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = binNode{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *ruleParser) and() (ruleNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek()) == "AND" {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = binNode{and: true, l: l, r: r}
	}
	return l, nil
}

// maxRuleDepth bounds recursion; 10240 characters cannot nest deeper than this anyway.
const maxRuleDepth = 10240

func (p *ruleParser) not() (ruleNode, error) {
	if p.keyword(p.peek()) == "NOT" {
		p.next()
		p.depth++
		if p.depth > maxRuleDepth {
			return nil, unsupported(p.peek(), "")
		}
		x, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.primary()
}

func (p *ruleParser) primary() (ruleNode, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		p.elements++
		p.depth++
		if p.depth > maxRuleDepth {
			return nil, unsupported(t, "")
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, unsupported(c, "')'")
		}
		return parenNode{x}, nil
	case tokWord:
		var want State
		switch p.keyword(t) {
		case "TRUE":
			p.elements++
			return constNode(true), nil
		case "FALSE":
			p.elements++
			return constNode(false), nil
		case "ALARM":
			want = StateAlarm
		case "OK":
			want = StateOK
		case "INSUFFICIENT_DATA":
			want = StateInsufficientData
		default:
			return nil, unsupported(t, "")
		}
		if o := p.next(); o.kind != tokLParen {
			return nil, unsupported(o, "'('")
		}
		name := p.next()
		if name.kind != tokWord && name.kind != tokString || name.text == "" {
			return nil, unsupported(name, "")
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, unsupported(c, "')'")
		}
		p.elements++
		if !p.seen[name.text] {
			p.seen[name.text] = true
			p.rule.children = append(p.rule.children, name.text)
		}
		return stateNode{want: want, ref: name.text}, nil
	}
	return nil, unsupported(t, "")
}

// Cycle returns a dependency cycle through the composite alarm named start — start, the alarms it
// leads back through, and start again — or nil. children returns the names referenced by a
// composite alarm's rule (nil for a metric alarm). CloudWatch stops evaluating composite alarms
// caught in a cycle (§1.12); the scheduler uses this to skip them.
func Cycle(start string, children func(name string) []string) []string {
	const (
		unseen = iota
		active
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		switch mark[name] {
		case active:
			if name != start {
				return nil // a cycle not through start is reported for its own members
			}
			return append(append([]string(nil), path...), name)
		case done:
			return nil
		}
		mark[name] = active
		path = append(path, name)
		for _, c := range children(name) {
			if cyc := visit(RefName(c)); cyc != nil {
				return cyc
			}
		}
		path = path[:len(path)-1]
		mark[name] = done
		return nil
	}
	return visit(start)
}
