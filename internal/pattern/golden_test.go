package pattern

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// readPatterns reads one pattern per line, verbatim (no trimming), skipping # comments and
// blank lines.
func readPatterns(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestGoldenInvalid pins the error (code, message, position, detail) of every invalid pattern
// in testdata/invalid_patterns.txt.
func TestGoldenInvalid(t *testing.T) {
	var b strings.Builder
	for _, src := range readPatterns(t, "invalid_patterns.txt") {
		_, err := Compile(src)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%q) = %v, want an *Error", src, err)
			continue
		}
		if pe.ErrorCode() != ErrorCode {
			t.Errorf("Compile(%q): code %q", src, pe.ErrorCode())
		}
		if got := pe.ForFilterLogEvents().ErrorMessage(); (pe.kind == kindSyntax || pe.kind == kindCharacter) && got != "Invalid filter pattern" {
			t.Errorf("Compile(%q) for FilterLogEvents: %q", src, got)
		}
		fmt.Fprintf(&b, "%s\n\t%s: %s\n\tat %d: %s\n", src, pe.ErrorCode(), pe.ErrorMessage(), pe.Pos, pe.Detail)
	}
	checkGolden(t, "invalid_patterns.golden", b.String())
}

// TestGoldenValid pins the kind and canonical form of every pattern in
// testdata/valid_patterns.txt, and checks that the canonical form is a fixed point.
func TestGoldenValid(t *testing.T) {
	var b strings.Builder
	for _, src := range readPatterns(t, "valid_patterns.txt") {
		p, err := Compile(src)
		if err != nil {
			t.Errorf("Compile(%q): %v", src, err)
			continue
		}
		if p.Source() != src {
			t.Errorf("Source() = %q, want %q", p.Source(), src)
		}
		q, err := Compile(p.String())
		if err != nil {
			t.Errorf("Compile(String() %q of %q): %v", p.String(), src, err)
			continue
		}
		if q.String() != p.String() || q.Kind() != p.Kind() {
			t.Errorf("canonical form not stable: %q -> %q -> %q", src, p.String(), q.String())
		}
		fmt.Fprintf(&b, "%s\n\t%v: %s\n", src, p.Kind(), p.String())
	}
	checkGolden(t, "valid_patterns.golden", b.String())
}
