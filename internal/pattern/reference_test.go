package pattern

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// This file is the reference interpreter: a deliberately simple evaluator of the parsed AST
// that decodes events with encoding/json into map[string]any. It is the oracle of the
// differential test and the baseline of the benchmarks.

// refDecode decodes a JSON event the way the interpreter needs it: numbers keep their text.
// ok is false when msg is not one JSON object or array.
func refDecode(msg []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, true
	}
	return nil, false
}

// hasRepeatedKey reports whether some object of a valid JSON document repeats a key. The
// interpreter cannot see repeated keys (encoding/json keeps the last), while the scanner sees
// every occurrence, so comparisons skip such documents; TestRepeatedKeys pins the behaviour.
func hasRepeatedKey(msg []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(msg))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: t == '{', keys: map[string]bool{}, expect: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.obj && top.expect {
				if top.keys[t] {
					return true
				}
				top.keys[t] = true
				top.expect = false
				continue
			}
		}
		if top != nil && top.obj {
			top.expect = true
		}
	}
}

// refMatch evaluates a against msg.
func refMatch(a *ast, msg []byte) bool {
	switch a.kind {
	case KindMatchAll:
		return true
	case KindTerms:
		return refTerms(a.terms, string(msg))
	case KindJSON:
		doc, ok := refDecode(msg)
		return ok && refExpr(a.json, doc)
	case KindDelimited:
		return refDelimited(a.fields, string(msg)) != nil
	}
	return false
}

func refTerms(ts []term, msg string) bool {
	hasReq := false
	for _, t := range ts {
		if t.op != termOptional {
			hasReq = true
		}
	}
	contains := func(t term) bool {
		if t.re != nil {
			return t.re.re.MatchString(msg)
		}
		return t.all || strings.Contains(msg, t.text)
	}
	if hasReq {
		for _, t := range ts {
			switch t.op {
			case termRequired:
				if !contains(t) {
					return false
				}
			case termExcluded:
				if contains(t) {
					return false
				}
			}
		}
		return true
	}
	for _, t := range ts {
		if contains(t) {
			return true
		}
	}
	return false
}

func refExpr(e expr, doc any) bool {
	switch e := e.(type) {
	case *orExpr:
		for _, x := range e.x {
			if refExpr(x, doc) {
				return true
			}
		}
		return false
	case *andExpr:
		for _, x := range e.x {
			if !refExpr(x, doc) {
				return false
			}
		}
		return true
	case *condExpr:
		vals := refResolve(doc, e.sel)
		if e.op == opNotExists {
			return len(vals) == 0
		}
		for _, v := range vals {
			if refTest(e.op, e.val, v) {
				return true
			}
		}
		return false
	}
	panic("unknown node")
}

// refResolve returns the values sel reaches in doc.
func refResolve(doc any, sel selector) []any {
	cur := []any{doc}
	for _, st := range sel {
		var next []any
		for _, v := range cur {
			switch st.kind {
			case stepField:
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[st.name]; ok {
						next = append(next, x)
					}
				}
			case stepAnyField:
				if m, ok := v.(map[string]any); ok {
					for _, x := range m {
						next = append(next, x)
					}
				}
			case stepIndex:
				if a, ok := v.([]any); ok && st.index < len(a) {
					next = append(next, a[st.index])
				}
			case stepAnyIndex:
				if a, ok := v.([]any); ok {
					next = append(next, a...)
				}
			}
		}
		cur = next
	}
	return cur
}

func refTest(o op, lit value, v any) bool {
	switch v := v.(type) {
	case nil:
		return o == opIsNull
	case bool:
		return (o == opIsTrue && v) || (o == opIsFalse && !v)
	case json.Number:
		if o.unary() {
			return false
		}
		if ln, isNum := refLitNumber(lit); isNum {
			n, ok := refNumber(string(v))
			return ok && refCompare(o, n, ln)
		}
		return refText(o, lit, string(v))
	case string:
		if o.unary() {
			return false
		}
		return refText(o, lit, v)
	}
	return false // object or array
}

func refCompare(o op, a, b float64) bool {
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

// refText compares text s with a literal, following §4.3 and §4.4.
func refText(o op, lit value, s string) bool {
	if ln, isNum := refLitNumber(lit); isNum {
		n, ok := refNumber(s)
		if !ok {
			return o == opNe
		}
		return refCompare(o, n, ln)
	}
	var eq bool
	switch lit.kind {
	case valRegex:
		eq = lit.re.re.MatchString(s)
	default:
		eq = refGlob(lit.text, s)
	}
	if o == opEq {
		return eq
	}
	return !eq
}

// refNumberSyntax is §4.1's number, written out on its own: an optional sign, digits, an optional
// fraction of at least one digit, an optional exponent of at least one digit with an optional sign
// ("1e-3", "1e+3", "10e3", "+1000", "55.5"; not "1.", ".5", "1e", "0x10", "Inf").
var refNumberSyntax = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// refNumber is the reference's number parser, shared with nothing in the package under test (whose
// parseNumber is a hand-written scanner), so that a bug there shows up as a disagreement. Text that
// fits the grammar but lies beyond float64's range (1e999) is not a number: it has no value to
// compare, and strconv.ParseFloat says so with ErrRange.
func refNumber(s string) (float64, bool) {
	if !refNumberSyntax.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// refLitNumber decides, by refNumber, whether an unquoted literal is a number (compared numerically)
// and its value, rather than trusting the parser's kind and value.
func refLitNumber(lit value) (float64, bool) {
	if lit.kind != valNumber && lit.kind != valBare {
		return 0, false
	}
	return refNumber(lit.text)
}

// refGlob is the non-backtracking wildcard model written directly from its description: split
// on *, prefix first, each later piece at its first occurrence, a non-empty last piece ending
// the text.
func refGlob(pat, s string) bool {
	if !strings.Contains(pat, "*") {
		return pat == s
	}
	parts := strings.Split(pat, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	rest := s[len(parts[0]):]
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		if last && part == "" {
			return true
		}
		j := strings.Index(rest, part)
		if j < 0 {
			return false
		}
		rest = rest[j+len(part):]
		if last {
			return rest == ""
		}
	}
	return true
}

// refTokens splits a delimited event: fields are separated by runs of spaces and tabs; a field
// that starts with " or [ ends at the next " or ] and is stored without them.
type refToken struct {
	val      string
	rawStart int
	rawEnd   int
}

func refTokenize(msg string) []refToken {
	var out []refToken
	i := 0
	for i < len(msg) {
		if msg[i] == ' ' || msg[i] == '\t' {
			i++
			continue
		}
		if msg[i] == '"' || msg[i] == '[' {
			closer := "\""
			if msg[i] == '[' {
				closer = "]"
			}
			if j := strings.Index(msg[i+1:], closer); j >= 0 {
				out = append(out, refToken{msg[i+1 : i+1+j], i, i + 2 + j})
				i = i + 2 + j
				continue
			}
		}
		j := strings.IndexAny(msg[i:], " \t")
		if j < 0 {
			j = len(msg) - i
		}
		out = append(out, refToken{msg[i : i+j], i, i + j})
		i += j
	}
	return out
}

// refDelimited returns the extracted values when the pattern matches, nil otherwise.
func refDelimited(fields []field, msg string) map[string]string {
	toks := refTokenize(msg)
	out := map[string]string{}
	if len(fields) == 0 {
		for i, t := range toks {
			out["$"+strconv.Itoa(i+1)] = t.val
		}
		return out
	}
	ell := -1
	for i, f := range fields {
		if f.ellipsis {
			ell = i
		}
	}
	// Assign each pattern field its text and position.
	type bound struct {
		text string
		pos  int
	}
	bind := make([]bound, len(fields))
	if ell < 0 {
		if len(toks) < len(fields) {
			return nil
		}
		for i := range fields {
			bind[i] = bound{toks[i].val, i + 1}
		}
		if last := len(fields) - 1; len(toks) > len(fields) {
			bind[last].text = msg[toks[last].rawStart:toks[len(toks)-1].rawEnd]
		}
	} else {
		after := len(fields) - ell - 1
		if len(toks) < ell+after {
			return nil
		}
		for i := 0; i < ell; i++ {
			bind[i] = bound{toks[i].val, i + 1}
		}
		for i := ell + 1; i < len(fields); i++ {
			k := len(toks) - (len(fields) - i)
			bind[i] = bound{toks[k].val, k + 1}
		}
		for k := ell; k < len(toks)-after; k++ {
			out["$"+strconv.Itoa(k+1)] = toks[k].val
		}
	}
	for i, f := range fields {
		if f.ellipsis {
			continue
		}
		if len(f.or) > 0 {
			ok := false
			for _, and := range f.or {
				all := true
				for _, c := range and {
					if !refText(c.op, c.val, bind[i].text) {
						all = false
					}
				}
				ok = ok || all
			}
			if !ok {
				return nil
			}
		}
		if f.name != "" {
			out["$"+f.name] = bind[i].text
		} else {
			out["$"+strconv.Itoa(bind[i].pos)] = bind[i].text
		}
	}
	return out
}
