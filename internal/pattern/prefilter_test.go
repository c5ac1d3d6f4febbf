package pattern

import (
	"bufio"
	"os"
	"testing"
)

// TestNeedLiterals checks which patterns get a pre-filter and that it never refuses a message the
// pattern matches, with the literal written plainly, with \u escapes, and absent.
func TestNeedLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		need    bool
		msg     string
		match   bool
	}{
		{`{ $.a = "Root" }`, true, `{"a":"Root"}`, true},
		{`{ $.a = "Root" }`, true, `{"a":"R\u006fot"}`, true},
		{`{ $.a = "Root" }`, true, `{"a":"Rooted"}`, false},
		{`{ $.a = "Root" }`, true, `{"a":"root"}`, false},
		{`{ $.a = Root && $.b NOT EXISTS }`, true, `{"a":"Root"}`, true},
		{`{ ($.a = "x") || ($.a = "y") }`, true, `{"a":"y"}`, true},
		{`{ $.a = 5 }`, false, `{"a":5.0}`, true},
		{`{ $.a = "a/b" }`, false, `{"a":"a\/b"}`, true},
		{`{ $.a = "é" }`, false, `{"a":"\u00e9"}`, true},
		{`{ $.a = "R*" }`, false, `{"a":"Root"}`, true},
		{`{ $.a != "Root" }`, false, `{"a":"x"}`, true},
		{`{ $.a = "x" || $.b = "y" }`, false, `{"b":"y"}`, true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if (p.need != nil) != tt.need {
			t.Errorf("%s: literals %q, want some: %v", tt.pattern, p.need, tt.need)
		}
		if got := p.Match([]byte(tt.msg)); got != tt.match {
			t.Errorf("%s on %s: %v, want %v", tt.pattern, tt.msg, got, tt.match)
		}
		if got := refMatch(p.ast, []byte(tt.msg)); got != tt.match {
			t.Errorf("%s on %s: reference %v, want %v", tt.pattern, tt.msg, got, tt.match)
		}
	}
}

// TestPrefilterOnSamples runs every CIS pattern over the shared CloudTrail samples, and over
// copies of them with the root literal escaped: Match (with its pre-filter) agrees with the
// pattern's full evaluation everywhere.
func TestPrefilterOnSamples(t *testing.T) {
	f, err := os.Open("../../../shared/data/cloudtrail/samples.jsonl")
	if err != nil {
		t.Skipf("samples: %v", err)
	}
	defer f.Close()
	var msgs [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		msgs = append(msgs, line, []byte(string(line)+" "), escapeRoot(line))
	}
	for _, c := range CIS() {
		p, err := Compile(c.Pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			s := p.state()
			full := p.matchState(s, m)
			p.pool.Put(s)
			if got := p.Match(m); got != full {
				t.Fatalf("%s: Match %v, full evaluation %v on %s", c.Control, got, full, m)
			}
		}
	}
}

// escapeRoot writes every "Root" of msg as "R\u006fot".
func escapeRoot(msg []byte) []byte {
	var out []byte
	for i := 0; i < len(msg); i++ {
		if i+4 <= len(msg) && string(msg[i:i+4]) == "Root" {
			out = append(out, `R\u006fot`...)
			i += 3
			continue
		}
		out = append(out, msg[i])
	}
	return out
}
