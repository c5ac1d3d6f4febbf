package pattern

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// cisPatterns are the CIS / Security Hub patterns of §10 (CIS), plus the CIS benchmark 4.1 variant.
var cisPatterns = func() []struct{ name, pattern string } {
	var out []struct{ name, pattern string }
	for _, f := range CIS() {
		out = append(out, struct{ name, pattern string }{f.Control, f.Pattern})
	}
	return append(out, struct{ name, pattern string }{"CIS-4.1", `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }`})
}()

func loadCISExpected(t *testing.T) map[string][]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cis_expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) != 3 {
			t.Fatalf("bad line %q", line)
		}
		var nums []int
		for _, s := range strings.Split(parts[2], ",") {
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			nums = append(nums, n)
		}
		if c, _ := strconv.Atoi(parts[1]); c != len(nums) {
			t.Fatalf("%s: count %d but %d lines", parts[0], c, len(nums))
		}
		out[parts[0]] = nums
	}
	return out
}

// TestCISSamples runs every CIS pattern over the 400 sample records and compares with the
// line numbers derived independently in testdata/cis_expected.txt (see cis_derive.py). It
// checks Pattern.Match, Filter.Eval and one Set of all the patterns.
func TestCISSamples(t *testing.T) {
	events := corpus.Samples(t)
	want := loadCISExpected(t)
	var filters []*Filter
	for _, c := range cisPatterns {
		f, err := CompileFilter(c.pattern, Transformation{MetricValue: "1"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		filters = append(filters, f)
	}
	set := NewSet(filters)
	setGot := make([][]int, len(filters))
	for i, ev := range events {
		set.Eval(ev, func(j int, r *Result) {
			if !r.Publish || r.Value != 1 {
				t.Errorf("line %d filter %d: result %+v", i+1, j, r)
			}
			setGot[j] = append(setGot[j], i+1)
		})
	}
	for ci, c := range cisPatterns {
		exp, ok := want[c.name]
		if !ok {
			t.Fatalf("%s missing from cis_expected.txt", c.name)
		}
		var got, gotEval []int
		var r Result
		for i, ev := range events {
			if filters[ci].Pattern().Match(ev) {
				got = append(got, i+1)
			}
			if filters[ci].Eval(ev, &r) {
				gotEval = append(gotEval, i+1)
			}
		}
		if !slices.Equal(got, exp) {
			t.Errorf("%s Match: got lines %v\nwant %v", c.name, got, exp)
		}
		if !slices.Equal(gotEval, exp) {
			t.Errorf("%s Filter.Eval: got lines %v\nwant %v", c.name, gotEval, exp)
		}
		if !slices.Equal(setGot[ci], exp) {
			t.Errorf("%s Set.Eval: got lines %v\nwant %v", c.name, setGot[ci], exp)
		}
	}
}

// TestCISRootGeneratedCorpus checks CloudWatch.1 against the count gen-cloudtrail computes
// independently (its own Python model of the pattern) for a corpus with injected root events.
func TestCISRootGeneratedCorpus(t *testing.T) {
	corpus.SharedDir(t)
	if testing.Short() {
		t.Skip("runs a Python generator")
	}
	path := filepath.Join(t.TempDir(), "ct.ndjson")
	sum := corpus.Generate(t, "--events", "5000", "--seed", "11", "--root-every", "37", "--out", path)
	p, err := Compile(cisPatterns[0].pattern)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	events, matches := 0, 0
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		events++
		if p.Match([]byte(line)) {
			matches++
		}
	}
	if events != sum.Events || matches != sum.CISRootMatches || matches == 0 {
		t.Errorf("%d events, %d matches; generator says %d events, %d matches", events, matches, sum.Events, sum.CISRootMatches)
	}
}

// TestCISMatchesReference checks every CIS pattern appears byte for byte in the reference's §10
// (filter-patterns.md), which quotes AWS's Security Hub documentation, and compiles.
func TestCISMatchesReference(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(corpus.SharedDir(t), "reference", "filter-patterns.md"))
	if err != nil {
		t.Fatal(err)
	}
	filters := CIS()
	if len(filters) != 14 {
		t.Fatalf("%d CIS filters, want 14", len(filters))
	}
	for i, f := range filters {
		if want := "CloudWatch." + strconv.Itoa(i+1); f.Control != want {
			t.Errorf("filter %d is %s, want %s", i, f.Control, want)
		}
		if !strings.Contains(string(doc), f.Pattern) {
			t.Errorf("%s: pattern not found verbatim in filter-patterns.md: %s", f.Control, f.Pattern)
		}
		if _, err := Compile(f.Pattern); err != nil {
			t.Errorf("%s: %v", f.Control, err)
		}
	}
}
