package pattern

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func addPatternSeeds(f *testing.F) {
	for _, c := range cisPatterns {
		f.Add(c.pattern)
	}
	for _, s := range []string{
		"", " ", `" "`, "ERROR", "?ERROR ?WARN", "ERROR -DEBUG", `"a \"b\" c"`, "%[Ee]rror|^x{,3}%",
		`{ $.a = 1 }`, `{ $.a[*].b = "x*y" && ($.c NOT EXISTS || $.d IS NULL) }`, `{ $.['k.k'] != %x% }`,
		`[..., a = 4* || a = 5*, b > 100,]`, `[]`, `[a, ..., b]`, `{ $.a > 1e-3 }`, `{ $.* = * }`,
		`{ (((($.a = 1)))) }`, `[a = "x y" && a != %z%]`, "{", "[", "%", `"`, `{ $.a = "`,
	} {
		f.Add(s)
	}
}

// FuzzCompile checks that Compile never panics, that it fails exactly with an *Error, and that
// an accepted pattern's canonical form compiles to the same canonical form.
func FuzzCompile(f *testing.F) {
	addPatternSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.ErrorCode() != ErrorCode || pe.ErrorMessage() == "" {
				t.Fatalf("Compile(%q): error %v is not a proper *Error", src, err)
			}
			if p != nil {
				t.Fatalf("Compile(%q): pattern and error", src)
			}
			return
		}
		if utf8.RuneCountInString(src) > MaxLength {
			t.Fatalf("Compile accepted a pattern of %d characters", utf8.RuneCountInString(src))
		}
		if p.Source() != src {
			t.Fatalf("Source() = %q, want %q", p.Source(), src)
		}
		q, err := Compile(p.String())
		if err != nil {
			t.Fatalf("Compile(%q) ok, but its canonical form %q fails: %v", src, p.String(), err)
		}
		if q.String() != p.String() {
			t.Fatalf("canonical form unstable: %q -> %q -> %q", src, p.String(), q.String())
		}
	})
}

// TestCompileLongInputIsCheap: patterns over the length limit are rejected before parsing.
func TestCompileLongInputIsCheap(t *testing.T) {
	huge := "{" + strings.Repeat("(", 1<<20)
	start := time.Now()
	for i := 0; i < 100; i++ {
		if _, err := Compile(huge); err == nil {
			t.Fatal("accepted")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 rejections of a 1 MiB pattern took %v", d)
	}
	// The worst case under the limit: deep nesting parses without trouble.
	deep := "{" + strings.Repeat("(", 500) + "$.a = 1" + strings.Repeat(")", 500) + "}"
	if _, err := Compile(deep); err != nil {
		t.Errorf("deep nesting: %v", err)
	}
}

// FuzzMatch checks that matching never panics and agrees with the reference interpreter, for
// any pattern and any event.
func FuzzMatch(f *testing.F) {
	events := []string{
		`{"a":1,"b":"x","c":[1,{"d":null}],"k.k":true}`, `plain text ERROR`, `[1,2,"3"]`,
		`1.2.3.4 - frank [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 200 1534`, `{"a":"\u0041\"","b":{}}`,
		`{"a":`, ``, `{"a":1e400}`, `{"a":-0.0}`, "{\"a\":\"\x01\"}", `{"a":"é"}`, `{"userIdentity":{"type":"R\u006fot"}}`,
	}
	for i, c := range cisPatterns {
		f.Add(c.pattern, events[i%len(events)])
	}
	for i, s := range []string{`{ $.a = 1 }`, `{ $.c[1].d IS NULL }`, `{ $.* = * }`, `[a, ..., b = 1534]`, `ERROR`, `%^p%`, `[]`, `{ $.a != "A*" }`} {
		for _, e := range events[i%3:] {
			f.Add(s, e)
		}
	}
	f.Fuzz(func(t *testing.T, src, event string) {
		p, err := Compile(src)
		if err != nil {
			return
		}
		msg := []byte(event)
		got := p.Match(msg)
		// The reference decodes with encoding/json, which replaces invalid UTF-8; compare only
		// where both see the same text.
		if utf8.ValidString(event) && !hasRepeatedKey(msg) {
			if want := refMatch(p.ast, msg); got != want {
				t.Fatalf("Match(%q, %q) = %v, reference %v", src, event, got, want)
			}
		}
		if q, err := Compile(p.String()); err != nil || q.Match(msg) != got {
			t.Fatalf("canonical form %q of %q: %v, disagrees on %q", p.String(), src, err, event)
		}
		ex, ok := p.Extract(msg)
		if ok != got || (ok && ex == nil) {
			t.Fatalf("Extract(%q, %q) = %v %v, Match %v", src, event, ex, ok, got)
		}
		fl, err := CompileFilter(src, Transformation{MetricValue: "1"})
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", src, err)
		}
		var r Result
		if fl.Eval(msg, &r) != got {
			t.Fatalf("Filter.Eval disagrees with Match on %q, %q", src, event)
		}
		n := 0
		NewSet([]*Filter{fl, fl}).Eval(msg, func(int, *Result) { n++ })
		if (n == 2) != got || (n != 0 && n != 2) {
			t.Fatalf("Set.Eval matched %d of 2 copies of %q on %q; Match %v", n, src, event, got)
		}
	})
}
