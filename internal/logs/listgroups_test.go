package logs

import (
	"strings"
	"testing"
)

// TestParseGroupNamePattern pins the pattern language of ListLogGroups' logGroupNamePattern, from
// the API reference: "^" matches by prefix, a bare string anywhere, case sensitively, "|" between
// up to five alternatives of 3 to 24 characters, "." a wildcard.
func TestParseGroupNamePattern(t *testing.T) {
	tests := []struct {
		pattern string
		valid   bool
		match   []string
		noMatch []string
	}{
		{"^/aws/lambda", true, []string{"/aws/lambda/f"}, []string{"x/aws/lambda", "/AWS/lambda"}},
		{"discovery", true, []string{"discovery", "app/discovery-x"}, []string{"Discovery"}},
		{"^/aws/lambda|discovery", true, []string{"/aws/lambda/f", "a/discovery"}, []string{"/aws/ecs"}},
		{"lam.da", true, []string{"lambda", "lamXda"}, []string{"lamda"}},
		{"abc|def|ghi|jkl|mno", true, []string{"xmno"}, []string{"ab"}},
		{"ab", false, nil, nil},
		{"abc|def|ghi|jkl|mno|pqr", false, nil, nil},
		{"abc|^^x", false, nil, nil},
		{"a*bc", false, nil, nil},
		{"abc$", false, nil, nil},
		{strings.Repeat("a", 25), false, nil, nil},
	}
	for _, tt := range tests {
		re, ok := parseGroupNamePattern(tt.pattern)
		if ok != tt.valid {
			t.Errorf("parseGroupNamePattern(%q) valid = %v, want %v", tt.pattern, ok, tt.valid)
			continue
		}
		for _, n := range tt.match {
			if !re.MatchString(n) {
				t.Errorf("%q does not match %q", tt.pattern, n)
			}
		}
		for _, n := range tt.noMatch {
			if re.MatchString(n) {
				t.Errorf("%q matches %q", tt.pattern, n)
			}
		}
	}
}

// FuzzParseGroupNamePattern: any input is either refused or compiles, and a compiled pattern
// whose alternatives all start with "^" matches only names that start with one of them (taken
// literally where it has no ".").
func FuzzParseGroupNamePattern(f *testing.F) {
	for _, s := range []string{"^/aws/lambda|discovery", "abc", "a.c", "^abc|^def", "ab", "abc|", "|abc", "^^abc", "a\\bc"} {
		f.Add(s, "/aws/lambda/x")
	}
	f.Fuzz(func(t *testing.T, p, name string) {
		re, ok := parseGroupNamePattern(p)
		if !ok {
			return
		}
		if !logGroupNameRegexRE.MatchString(p) {
			t.Fatalf("accepted %q outside the grammar", p)
		}
		if !re.MatchString(name) {
			return
		}
		for _, alt := range strings.Split(p, "|") {
			lit, anchored := strings.CutPrefix(alt, "^")
			if !anchored || strings.Contains(lit, ".") || strings.HasPrefix(name, lit) {
				return
			}
		}
		t.Fatalf("%q matches %q, which starts with none of its prefixes", p, name)
	})
}
