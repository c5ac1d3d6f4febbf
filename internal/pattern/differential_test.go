package pattern

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// gen produces random patterns and events from small vocabularies, so that random patterns hit
// random events often enough to exercise both outcomes.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// diffKeys are JSON-encoded keys; `"a\u0062"` is the key ab written with an escape.
var diffKeys = []string{`"a"`, `"b"`, `"c"`, `"cluster.name"`, `"x-y"`, `"a\u0062"`}

func (g gen) jsonValue(depth int) string {
	switch n := g.r.IntN(10); {
	case n < 3:
		if g.r.IntN(3) == 0 { // text at the edges of §4.1's number grammar, compared with numbers
			return g.pick(`"1."`, `".5"`, `"1e"`, `"1e+"`, `"+100"`, `"1E2"`, `"-0"`, `"0x10"`, `"Inf"`, `"NaN"`, `"1_0"`,
				`"1e999"`, `" 12"`, `"12 "`, `"12abc"`, `"0012"`, `"1e-3"`, `"++1"`, `"1.5e1"`, `"50.0"`)
		}
		return g.pick(`"abc"`, `"AccessDenied"`, `"Client.UnauthorizedOperation"`, `"111.111.111.111"`, `""`, `"a\"b"`, `"123"`, `"12.0"`, `"x y"`, `"\u0041bc"`, `"150"`)
	case n < 5:
		return g.pick("0", "1", "12.0", "123", "-5", "1e2", "50", "0.5", "1E2", "-0", "1e-3", "100e-1", "1e400", "5E+1")
	case n < 6:
		return g.pick("true", "false", "null")
	case n < 8 && depth < 2:
		return g.jsonObject(depth + 1)
	case depth < 2:
		k := g.r.IntN(4)
		parts := make([]string, k)
		for i := range parts {
			parts[i] = g.jsonValue(depth + 1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return `"abc"`
}

func (g gen) jsonObject(depth int) string {
	keys := append([]string(nil), diffKeys...)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	k := g.r.IntN(len(keys) + 1)
	parts := make([]string, k)
	for i := range parts {
		parts[i] = keys[i] + ":" + g.jsonValue(depth)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (g gen) event() string {
	switch g.r.IntN(20) {
	case 0:
		return "not json abc"
	case 1:
		return g.jsonObject(0) + " x"
	case 2:
		return "[" + g.jsonValue(1) + "]"
	}
	return g.jsonObject(0)
}

func (g gen) selector() string {
	var b strings.Builder
	b.WriteString("$")
	n := 1 + g.r.IntN(2)
	for i := 0; i < n; i++ {
		switch g.r.IntN(8) {
		case 0:
			b.WriteString(".*")
		case 1:
			b.WriteString("[*]")
		case 2:
			fmt.Fprintf(&b, "[%d]", g.r.IntN(3))
		case 3:
			b.WriteString(".['cluster.name']")
		default:
			k := g.pick("a", "b", "c", "x-y", "ab")
			b.WriteString("." + k)
		}
	}
	return b.String()
}

func (g gen) literal(ordering bool) string {
	if ordering {
		return g.pick("0", "1", "12", "123.0", "-5", "1e2", "50", "+100", "0.5", "1E2", "-0", "10e-1", "5e+1")
	}
	return g.pick(`1.`, `1e`, `1e999`, `+12`, `12E0`, `0012`, `"abc"`, `abc`, `"*"`, `*`, `"AccessDenied*"`, `"*UnauthorizedOperation"`, `"*111.111.111"`,
		`"*.111.111.111"`, `111*111`, `1*`, `*23`, `"123"`, `123`, `12`, `"12"`, `"12.0"`, `%^a%`, `%b$%`, `"a\"b"`,
		`"x y"`, `""`, `%[0-9]+%`, `Abc`, `150`, `"%abc%"`)
}

func (g gen) cond() string {
	sel := g.selector()
	switch g.r.IntN(12) {
	case 0:
		return sel + " IS NULL"
	case 1:
		return sel + " IS TRUE"
	case 2:
		return sel + " IS FALSE"
	case 3:
		return sel + " NOT EXISTS"
	}
	op := g.pick("=", "!=", "=", "!=", "<", ">", "<=", ">=")
	return sel + " " + op + " " + g.literal(op != "=" && op != "!=")
}

func (g gen) jsonExpr(depth int) string {
	if depth > 2 || g.r.IntN(3) == 0 {
		return g.cond()
	}
	n := 2 + g.r.IntN(2)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.jsonExpr(depth + 1)
	}
	s := strings.Join(parts, g.pick(" && ", " || ", "&&", " ||"))
	if g.r.IntN(2) == 0 {
		s = "(" + s + ")"
	}
	return s
}

func (g gen) jsonPattern() string { return "{ " + g.jsonExpr(0) + " }" }

var diffWords = []string{"ERROR", "WARN", "INFO", "error", "REQUEST", "abc", "ab", "x"}

func (g gen) termPattern() string {
	if g.r.IntN(10) == 0 {
		return g.pick("%ERR|WARN%", "%^INFO%", "%[a-c]+ x$%")
	}
	n := 1 + g.r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		w := g.pick(diffWords...)
		if g.r.IntN(4) == 0 {
			w = `"` + w + " " + g.pick(diffWords...) + `"`
		}
		parts[i] = g.pick("", "", "?", "-") + w
	}
	return strings.Join(parts, " ")
}

func (g gen) textEvent() string {
	n := g.r.IntN(6)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.pick(append(diffWords, `"quoted words"`, `[bracket words]`, "404", "1534", "4xx", "-", `"`, "[")...)
	}
	return strings.Join(parts, g.pick(" ", "  ", "\t"))
}

func (g gen) delimPattern() string {
	n := g.r.IntN(5)
	fields := make([]string, 0, n+1)
	ell := false
	for i := 0; i < n; i++ {
		if !ell && g.r.IntN(5) == 0 {
			fields = append(fields, "...")
			ell = true
			continue
		}
		name := fmt.Sprintf("f%d", i)
		switch g.r.IntN(4) {
		case 0:
			fields = append(fields, name)
		case 1:
			op := g.pick("=", "!=", ">", "<")
			fields = append(fields, name+op+g.literal(op != "=" && op != "!="))
		default:
			a := name + " = " + g.literal(false)
			b := name + " " + g.pick("=", "!=") + " " + g.pick(diffWords...)
			fields = append(fields, a+g.pick(" || ", " && ")+b)
		}
	}
	if g.r.IntN(8) == 0 {
		fields = append(fields, "")
	}
	return "[" + strings.Join(fields, ", ") + "]"
}

// TestDifferential checks the compiled matchers (Pattern.Match, Filter.Eval, Set.Eval and
// Pattern.Extract) against the reference interpreter on random patterns and events.
func TestDifferential(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	compiled, rejected := 0, 0
	outcomes := map[Kind][2]int{}
	for round := 0; round < 150; round++ {
		var pats []string
		var events []string
		for i := 0; i < 12; i++ {
			pats = append(pats, g.jsonPattern())
		}
		for i := 0; i < 4; i++ {
			pats = append(pats, g.termPattern(), g.delimPattern())
		}
		for i := 0; i < 30; i++ {
			events = append(events, g.event(), g.textEvent())
		}
		var filters []*Filter
		for _, src := range pats {
			f, err := CompileFilter(src, Transformation{MetricValue: "1"})
			if err != nil {
				rejected++
				continue
			}
			compiled++
			filters = append(filters, f)
		}
		set := NewSet(filters)
		for _, ev := range events {
			msg := []byte(ev)
			inSet := map[int]bool{}
			set.Eval(msg, func(i int, _ *Result) { inSet[i] = true })
			for i, f := range filters {
				p := f.Pattern()
				want := refMatch(p.ast, msg)
				o := outcomes[p.Kind()]
				o[boolInt(want)]++
				outcomes[p.Kind()] = o
				if got := p.Match(msg); got != want {
					t.Fatalf("Match(%q, %q) = %v, reference %v", p.Source(), ev, got, want)
				}
				var r Result
				if got := f.Eval(msg, &r); got != want {
					t.Fatalf("Filter.Eval(%q, %q) = %v, reference %v", p.Source(), ev, got, want)
				}
				if inSet[i] != want {
					t.Fatalf("Set.Eval(%q, %q) = %v, reference %v", p.Source(), ev, inSet[i], want)
				}
				if p.Kind() == KindDelimited {
					got, ok := p.Extract(msg)
					ref := refDelimited(p.ast.fields, ev)
					if ok != (ref != nil) || (ok && !maps.Equal(got, ref)) {
						t.Fatalf("Extract(%q, %q) = %v %v, reference %v", p.Source(), ev, got, ok, ref)
					}
				}
				// The canonical rendering matches the same events.
				q, err := Compile(p.String())
				if err != nil {
					t.Fatalf("Compile(String() of %q = %q): %v", p.Source(), p.String(), err)
				}
				if q.Match(msg) != want {
					t.Fatalf("canonical %q of %q disagrees on %q", p.String(), p.Source(), ev)
				}
			}
		}
	}
	for _, k := range []Kind{KindTerms, KindJSON, KindDelimited} {
		if o := outcomes[k]; o[0] < o[1]/20 || o[1] < o[0]/20 {
			t.Errorf("%v: %d non-matches, %d matches; the generator should produce both", k, o[0], o[1])
		}
	}
	t.Logf("outcomes (no match, match): %v", outcomes)
	if compiled < 500 {
		t.Fatalf("only %d random patterns compiled (%d rejected); the generator is broken", compiled, rejected)
	}
	t.Logf("%d patterns compiled, %d rejected", compiled, rejected)
}

// TestReferenceNumber holds the reference's number parser to §4.1's examples, so that the
// differential test's oracle is itself checked against the grammar, not against parseNumber.
func TestReferenceNumber(t *testing.T) {
	for s, want := range map[string]float64{"1e-3": 1e-3, "1e+3": 1e3, "10e3": 10e3, "10e-3": 10e-3, "+1000": 1000,
		"55.5": 55.5, "-5": -5, "0012": 12, "1E2": 100, "-0": 0} {
		if got, ok := refNumber(s); !ok || got != want {
			t.Errorf("refNumber(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "1.", ".5", "1e", "1e+", "+", "++1", "0x10", "Inf", "NaN", "1_0", " 1", "1 ", "1e999", "1,5", "１"} {
		if got, ok := refNumber(s); ok {
			t.Errorf("refNumber(%q) = %v, want not a number", s, got)
		}
	}
}

// FuzzNumber compares the package's number scanner with the reference's.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"1e-3", "+1000", "55.5", "1.", ".5", "1e", "0x10", "1e999", "-0", "1E+2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseNumber(s)
		want, wantOK := refNumber(s)
		if ok != wantOK || ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, %v; reference %v, %v", s, got, ok, want, wantOK)
		}
	})
}
