package pattern

import (
	"testing"
)

// Each test here pins one decision on an open question of §11, as listed in the package doc.

func TestDecision11_1DelimitedFieldCount(t *testing.T) {
	runMatchCases(t, []matchCase{
		// More event fields than pattern fields: the last field takes the rest (2025 doc example).
		{"last field absorbs", `[w1=ERROR, w2]`, []string{"ERROR 09/25/2014 12:00:02 Failed to process request", "ERROR message", "ERROR", "WARN x"}, []bool{true, true, false, false}},
		// Tabs separate fields; runs of separators are one.
		{"tabs", `[a, b = x, c]`, []string{"1\tx\t3", "1  x   3", "1 x3"}, []bool{true, true, false}},
		// Quotes and brackets only group at the start of a field.
		{"mid-token quote", `[a, b = "y", c]`, []string{`x"1 y z`, `x "y" z`}, []bool{true, true}},
		{"unclosed bracket", `[a, b, c]`, []string{`[x y z`}, []bool{true}},
	})
	p, _ := Compile(`[w1, w2]`)
	got, _ := p.Extract([]byte("ERROR 09/25/2014  12:00:02\tdone"))
	if got["$w2"] != "09/25/2014  12:00:02\tdone" {
		t.Errorf("absorbed field = %q, want the rest of the line as written", got["$w2"])
	}
}

func TestDecision11_2DocErrorAndAnd(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"both conditions apply", `[w1!=ERROR&&w1!=WARN, w2]`, []string{"ERROR x", "WARN x", "INFO x"}, []bool{false, false, true}},
	})
}

func TestDecision11_3WildcardEverywhere(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"json", `{ $.s = "*111.111.111" }`, []string{`{"s":"111.111.111.111"}`, `{"s":"1.111.111.111"}`}, []bool{false, true}},
		{"delimited", `[s = "*111.111.111"]`, []string{`111.111.111.111`, `1.111.111.111`}, []bool{false, true}},
		{"delimited middle", `[s = 111*111]`, []string{`111.111.111.111`, `111.111`}, []bool{false, true}},
	})
}

func TestDecision11_4NullAndBooleans(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"null =*", `{ $.n = * }`, []string{`{"n":null}`, `{"n":"x"}`, `{"n":1}`}, []bool{false, true, true}},
		{"null !=", `{ $.n != "x" }`, []string{`{"n":null}`}, []bool{false}},
		{"null exists", `{ $.n NOT EXISTS }`, []string{`{"n":null}`, `{}`}, []bool{false, true}},
		{"bool = true", `{ $.b = true }`, []string{`{"b":true}`, `{"b":"true"}`}, []bool{false, true}},
		{"bool != x", `{ $.b != "x" }`, []string{`{"b":false}`}, []bool{false}},
		{"bool ordering", `{ $.b > 0 }`, []string{`{"b":true}`}, []bool{false}},
		{"is false", `{ $.b IS FALSE }`, []string{`{"b":false}`, `{"b":"false"}`, `{"b":0}`}, []bool{true, false, false}},
	})
}

func TestDecision11_5NumericStrings(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"numeric string >", `{ $.latency > 100 }`, []string{`{"latency":"150"}`, `{"latency":"50"}`, `{"latency":"1e3"}`, `{"latency":"fast"}`}, []bool{true, false, true, false}},
		{"numeric string =", `{ $.v = 150 }`, []string{`{"v":"150.0"}`, `{"v":" 150"}`}, []bool{true, false}},
		{"quoted is text", `{ $.v = "150" }`, []string{`{"v":"150.0"}`, `{"v":150}`, `{"v":150.0}`}, []bool{false, true, false}},
	})
}

func TestDecision11_6WildcardSelectors(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"!= any", `{ $.a[*] != "x" }`, []string{`{"a":["x","y"]}`, `{"a":["x"]}`, `{"a":[]}`}, []bool{true, false, false}},
		{"not exists", `{ $.a[*] NOT EXISTS }`, []string{`{"a":[]}`, `{"a":[1]}`, `{}`}, []bool{true, false, true}},
		{"no recursion", `{ $.* = "deep" }`, []string{`{"a":{"b":"deep"}}`, `{"a":"deep"}`}, []bool{false, true}},
		{"objects only", `{ $.a.* = 1 }`, []string{`{"a":[1]}`, `{"a":{"k":1}}`}, []bool{false, true}},
		{"arrays only", `{ $.a[*] = 1 }`, []string{`{"a":{"k":1}}`, `{"a":[1]}`}, []bool{false, true}},
	})
}

func TestDecision11_7UpperCaseKeywords(t *testing.T) {
	for _, src := range []string{`{ $.a is null }`, `{ $.a not exists }`, `{ $.a NOT EXIST }`, `{ $.a Is True }`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
}

func TestDecision11_8BracketSelectors(t *testing.T) {
	if _, err := Compile(`{ $.a.['b.c'] = 1 }`); err != nil {
		t.Errorf(".['k'] after a step: %v", err)
	}
	for _, src := range []string{`{ $['k'] = 1 }`, `{ $["k"] = 1 }`, `{ $.["k"] = 1 }`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
}

func TestDecision11_9NoStarEscapeNoDoubleEquals(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"star is always a wildcard", `{ $.a = "x\*" }`, []string{`{"a":"x\\anything"}`, `{"a":"x*"}`}, []bool{true, false}},
	})
	if _, err := Compile(`{ $.a == 1 }`); err == nil {
		t.Error("== accepted")
	}
}

func TestDecision11_10UnquotedAlphabet(t *testing.T) {
	for _, src := range []string{`request-id`, `- ERROR`, `a.b`, `a/b`, `user@host`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
	if _, err := Compile(`Under_score 123 -x ?y`); err != nil {
		t.Error(err)
	}
}

func TestDecision11_11QuestionGroups(t *testing.T) {
	// CDK's anyTermGroup rendering: under the AWS doc, the ? terms are ignored.
	runMatchCases(t, []matchCase{
		{"cdk group", `?"ERROR" "MainThread" ?"WARN" "Deadlock"`, []string{"ERROR MainThread", "MainThread Deadlock"}, []bool{false, true}},
	})
}

func TestDecision11_12RegexTerms(t *testing.T) {
	for _, src := range []string{`ERROR %x%`, `?%a% ?%b%`, `-%a%`, `%a(b)%`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
	runMatchCases(t, []matchCase{
		{"space allowed", `%timed out%`, []string{"Task timed out after", "timedout"}, []bool{true, false}},
		{"omitted min", `%^a{,1}b%`, []string{"b", "ab", "aab"}, []bool{true, true, false}},
		{"lazy", `%a+?b%`, []string{"aab"}, []bool{true}},
	})
}

func TestDecision11_13EventNumbers(t *testing.T) {
	// eventNumber numbering lives in internal/app (test-pattern); the pattern package's part is
	// that Extract returns an empty, non-nil map for non-delimited patterns.
	p, _ := Compile(`{ $.a = 1 }`)
	m, ok := p.Extract([]byte(`{"a":1}`))
	if !ok || m == nil || len(m) != 0 {
		t.Errorf("Extract = %v, %v", m, ok)
	}
}

func TestDecision11_14MetricValues(t *testing.T) {
	f, err := CompileFilter(`{ $.eventName = * }`, Transformation{MetricValue: "$.latency"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		event   string
		publish bool
		value   float64
	}{
		{`{"eventName":"x","latency":50}`, true, 50},
		{`{"eventName":"x","latency":"50"}`, true, 50},
		{`{"eventName":"x","latency":"fast"}`, false, 0},
		{`{"eventName":"x"}`, false, 0},
		{`{"eventName":"x","latency":null}`, false, 0},
		{`{"eventName":"x","latency":true}`, false, 0},
		{`{"eventName":"x","latency":[1]}`, false, 0},
	} {
		var r Result
		if !f.Eval([]byte(tc.event), &r) {
			t.Fatalf("%s: no match", tc.event)
		}
		if r.Publish != tc.publish || (r.Publish && r.Value != tc.value) {
			t.Errorf("%s: got %+v, want publish=%v value=%v", tc.event, r, tc.publish, tc.value)
		}
	}
}

func TestDecision11_15LeadingAndTrailingText(t *testing.T) {
	for _, src := range []string{` {$.a = 1}`, `{$.a = 1} x`, ` [a]`, `[a] x`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
	for _, src := range []string{`{$.a = 1}  `, "[a]\t"} {
		if _, err := Compile(src); err != nil {
			t.Errorf("Compile(%q): %v", src, err)
		}
	}
}

func TestDecision11_16EmptyBraces(t *testing.T) {
	for _, src := range []string{`{}`, `{ }`, `{ () }`, `{ $.a = 1 && () }`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
}

func TestDecision11_17DelimitedNames(t *testing.T) {
	for _, src := range []string{`[w1=ERROR || W1=WARNING, w2]`, `[a, a]`, `[..., a, ...]`} {
		if _, err := Compile(src); err == nil {
			t.Errorf("Compile(%q) accepted", src)
		}
	}
}

func TestDecision11_18ErrorWording(t *testing.T) {
	_, err := Compile(`{ $.a = 1`)
	pe := err.(*Error)
	if pe.ErrorMessage() != "Invalid metric filter pattern" || pe.Pos != 9 || pe.Detail == "" {
		t.Errorf("got %q at %d (%s)", pe.ErrorMessage(), pe.Pos, pe.Detail)
	}
	if got := pe.ForFilterLogEvents().ErrorMessage(); got != "Invalid filter pattern" {
		t.Errorf("FilterLogEvents wording %q", got)
	}
	if pe.ErrorMessage() != "Invalid metric filter pattern" {
		t.Error("ForFilterLogEvents modified the original")
	}
	_, err = Compile(`a:b`)
	pe = err.(*Error)
	if pe.ErrorMessage() != "Invalid character(s) in term ':'" || pe.ForSurface(SurfaceFilterLogEvents).ErrorMessage() != "Invalid filter pattern" {
		t.Errorf("got %q / %q", pe.ErrorMessage(), pe.ForFilterLogEvents().ErrorMessage())
	}
	if pe.Error() != "InvalidParameterException: Invalid character(s) in term ':' (at offset 1: characters other than letters, digits and _ must be quoted)" {
		t.Errorf("Error() = %q", pe.Error())
	}
}

// TestRepeatedKeys pins the behaviour for a repeated key, which JSON leaves undefined: a plain
// selector sees the last occurrence (encoding/json's rule), a wildcard selector every one, and
// a path below a repeated key every object it was found in.
func TestRepeatedKeys(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"last wins", `{ $.a = 2 }`, []string{`{"a":1,"a":2}`, `{"a":2,"a":1}`}, []bool{true, false}},
		{"wildcard sees all", `{ $.* = 1 }`, []string{`{"a":1,"a":2}`, `{"a":2,"a":1}`}, []bool{true, true}},
		{"nested", `{ $.a.b = 1 }`, []string{`{"a":{"b":1},"a":{"c":2}}`}, []bool{true}},
	})
	if !hasRepeatedKey([]byte(`{"x":[{"a":1,"a":2}]}`)) || hasRepeatedKey([]byte(`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`)) {
		t.Error("hasRepeatedKey is wrong")
	}
}
