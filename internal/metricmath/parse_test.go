package metricmath

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dump prints the tree with explicit parentheses.
func dump(n node) string {
	switch n := n.(type) {
	case *numberNode:
		return strconv.FormatFloat(n.v, 'g', -1, 64)
	case *stringNode:
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n.s) + `"`
	case *idNode:
		return n.name
	case *keywordNode:
		return n.name
	case *unaryNode:
		return "(" + n.op + dump(n.x) + ")"
	case *binaryNode:
		return "(" + dump(n.l) + " " + n.op + " " + dump(n.r) + ")"
	case *callNode:
		args := make([]string, len(n.args))
		for i, a := range n.args {
			args[i] = dump(a)
		}
		return n.name + "(" + strings.Join(args, ", ") + ")"
	case *arrayNode:
		elems := make([]string, len(n.elems))
		for i, a := range n.elems {
			elems[i] = dump(a)
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	return "?"
}

func TestParsePrecedence(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"m1 + m2 * m3", "(m1 + (m2 * m3))"},
		{"(m1 + m2) * m3", "((m1 + m2) * m3)"},
		{"m1 - m2 - m3", "((m1 - m2) - m3)"},
		{"m1 / m2 / 2", "((m1 / m2) / 2)"},
		{"2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"},
		{"-m1 ^ 2", "(-(m1 ^ 2))"},
		{"-5 * m1", "((-5) * m1)"},
		{"2 ^ -1", "(2 ^ (-1))"},
		{"+m1", "m1"},
		{"m1 > 15 AND m2 > 15", "((m1 > 15) AND (m2 > 15))"},
		{"m1 > 1 && m2 < 2 || m3 == 0", "(((m1 > 1) AND (m2 < 2)) OR (m3 == 0))"},
		{"m1 OR m2 AND m3", "(m1 OR (m2 AND m3))"},
		{"m1 + 1 >= m2 * 2", "((m1 + 1) >= (m2 * 2))"},
		{"m1 != m2", "(m1 != m2)"},
		{"m1 <= m2", "(m1 <= m2)"},
		{"SUM([m1, m2])", "SUM([m1, m2])"},
		{"SUM(METRICS(\"errors\"))", "SUM(METRICS(\"errors\"))"},
		{"SUM([METRICS('4xx'), METRICS('5xx')])", "SUM([METRICS(\"4xx\"), METRICS(\"5xx\")])"},
		{"FILL(METRICS(), LINEAR)", "FILL(METRICS(), LINEAR)"},
		{"SORT(METRICS(), AVG, DESC, 10)", "SORT(METRICS(), AVG, DESC, 10)"},
		{"IF(latency>threshold, 1, 0)", "IF((latency > threshold), 1, 0)"},
		{"m_1 * 1.5e3", "(m_1 * 1500)"},
		{".5 * errorRate", "(0.5 * errorRate)"},
		{"TIME_SERIES(0)", "TIME_SERIES(0)"},
	} {
		e, err := Parse(tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if got := dump(e.root); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.src, got, tc.want)
		}
	}
}

func TestParseRefs(t *testing.T) {
	e, err := Parse("e1 - MIN(e1) + IF(m2 > 0, m3, m2) + SUM(METRICS())")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Refs(); !slices.Equal(got, []string{"e1", "m2", "m3"}) {
		t.Errorf("refs %q", got)
	}
	if !e.UsesFunction("METRICS") || e.UsesFunction("SEARCH") {
		t.Error("UsesFunction")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "The expression is empty at position 1"},
		{"   ", "The expression is empty at position 1"},
		{"m1 +", "Unexpected end of expression at position 5"},
		{"m1 m2", "Unexpected \"m2\" at position 4"},
		{"(m1 + m2", "Unexpected end of expression, expected \")\" at position 9"},
		{"SUM(m1", "Unexpected end of expression, expected \",\" or \")\" at position 7"},
		{"[m1, m2", "Unexpected end of expression, expected \",\" or \"]\" at position 8"},
		{"[]", "An array must not be empty at position 2"},
		{"m1 # 2", "Unexpected character '#' at position 4"},
		{"avg(m1)", "Unknown function avg: function names are upper case at position 1"},
		{"METRICS(\"x)", "Unterminated string at position 9"},
		{"m1 * * m2", "Unexpected \"*\" at position 6"},
		{"1.2.3", "Invalid number \"1.2.3\" at position 1"},
		{"m1 = 2", "Unexpected character '=' at position 4"},
		{strings.Repeat("(", 200) + "m1" + strings.Repeat(")", 200), "The expression is nested too deeply at position 101"},
		{strings.Repeat("m1+", 700) + "m1", "The expression is longer than 2048 characters at position 1"},
	} {
		_, err := Parse(tc.src)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}

// FuzzParse checks that Parse never panics, that an accepted expression evaluates (or fails)
// without panicking on the fixtures, and that its printed tree parses back to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"m1 + m2", "SUM(METRICS(\"errors\"))/SUM(METRICS(\"requests\"))*100", "IF(m1<400, m1)",
		"FILL(METRICS(), LINEAR)", "SORT(METRICS(), AVG, DESC, 10)", "-m1^2", "[m1, m2] / m3",
		"SLICE(SORT(METRICS(), SUM, DESC), 0, 10)", "m1 > 15 AND m2 > 15 || m3", "TIME_SERIES(5*AVG(m1))",
		"SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 300)", "((((", "'", "1e", "DAY(m1)<6",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		_, _ = e.Eval(testEnv())
		again, err := Parse(dump(e.root))
		if err != nil {
			t.Fatalf("printed tree %q of %q does not parse: %v", dump(e.root), src, err)
		}
		if dump(again.root) != dump(e.root) {
			t.Fatalf("round trip of %q: %s != %s", src, dump(again.root), dump(e.root))
		}
	})
}
