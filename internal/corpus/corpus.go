// Package corpus gives tests and benchmarks the project's shared CloudTrail data: the ../shared
// directory beside the module root, and corpora made by its gen-cloudtrail tool, whose summary says
// exactly how many events the CIS root-usage pattern must match. One place finds the directory and
// runs the tool, so every package's tests skip (or, in CI, fail) the same way when it is missing.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireEnv, set to 1 (as .ci/run does), turns a missing ../shared into a failure: CI must run the
// tests that need it, not skip them.
const requireEnv = "TRAILWATCH_E2E_REQUIRE"

// SharedDir returns ../shared beside the module root (found by walking up to go.mod from the test's
// directory). When it cannot be found the test is skipped, or fails under TRAILWATCH_E2E_REQUIRE=1.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			missing(tb, "go.mod not found above the test directory; cannot locate ../shared")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(shared); err != nil {
		missing(tb, "shared data directory "+shared+" is absent (it lives beside the module root)")
	}
	return shared
}

// File returns the path of a file in ../shared, elem being its path inside, e.g. ("data",
// "cloudtrail", "samples.jsonl"). When the directory or the file is missing the test is skipped, or
// fails under TRAILWATCH_E2E_REQUIRE=1.
func File(tb testing.TB, elem ...string) string {
	tb.Helper()
	path := filepath.Join(append([]string{SharedDir(tb)}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		missing(tb, "shared data file "+path+" is absent")
	}
	return path
}

// Samples returns the CloudTrail records of ../shared/data/cloudtrail/samples.jsonl (each line's
// "event" member), compacted as CloudTrail writes them to CloudWatch Logs. Like File, it skips the
// test, or fails it under TRAILWATCH_E2E_REQUIRE=1, when the file is missing.
func Samples(tb testing.TB) [][]byte {
	tb.Helper()
	f, err := os.Open(File(tb, "data", "cloudtrail", "samples.jsonl"))
	if err != nil {
		tb.Fatalf("open samples: %v", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("read samples: %v", err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, line.Event); err != nil {
			tb.Fatalf("read samples: %v", err)
		}
		out = append(out, compact.Bytes())
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		tb.Fatalf("read samples: %d records, %v", len(out), err)
	}
	return out
}

func missing(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(requireEnv) == "1" {
		tb.Fatal(why)
	}
	tb.Skip(why)
}

// Summary is what gen-cloudtrail reports about the corpus it made.
type Summary struct {
	Events         int `json:"events"`
	CISRootMatches int `json:"cis_root_matches"`
}

// Generate runs gen-cloudtrail with args (it adds --summary) and returns its summary. A failure
// fails tb.
func Generate(tb testing.TB, args ...string) Summary {
	tb.Helper()
	summary := filepath.Join(tb.TempDir(), "summary.json")
	args = append([]string{File(tb, "tools", "gen-cloudtrail")}, append(args, "--summary", summary)...)
	python, err := exec.LookPath("python3")
	if err != nil {
		missing(tb, "python3 not found on PATH (gen-cloudtrail needs it)")
	}
	if msg, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		tb.Fatalf("gen-cloudtrail: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		tb.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(data, &s); err != nil {
		tb.Fatalf("gen-cloudtrail summary: %v", err)
	}
	return s
}

// S3 makes a corpus of events records in CloudTrail's S3 layout in a temporary directory, with
// eventTimes in the last hour (PutLogEvents refuses events older than 14 days) and a root-user event
// injected every 97 events; extra arguments (--rate, --accounts, --per-file, ...) follow.
func S3(tb testing.TB, events int, extra ...string) (string, Summary) {
	tb.Helper()
	dir := tb.TempDir()
	args := append([]string{"--events", strconv.Itoa(events), "--format", "s3", "--out", dir,
		"--start", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "--root-every", "97"}, extra...)
	return dir, Generate(tb, args...)
}

// AWSCLI returns the path of an aws CLI of the given major version (1: the pip-installed CLI v1, 2:
// CLI v2) found on PATH: the first "aws" in PATH order whose --version says aws-cli/<major>. Both
// are often installed, one shadowing the other, so every PATH directory is tried. Without one the
// test is skipped, or fails under TRAILWATCH_E2E_REQUIRE=1.
func AWSCLI(tb testing.TB, major int) string {
	tb.Helper()
	want := "aws-cli/" + strconv.Itoa(major) + "."
	for _, p := range onPath("aws") {
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err == nil && strings.HasPrefix(string(out), want) {
			return p
		}
	}
	missing(tb, "aws CLI v"+strconv.Itoa(major)+" not found on PATH")
	return ""
}

// Python returns the path of the first python3 on PATH that can import every one of modules (e.g.
// "botocore"), so a test uses whichever installation has them instead of one machine's path. Without
// one the test is skipped, or fails under TRAILWATCH_E2E_REQUIRE=1.
func Python(tb testing.TB, modules ...string) string {
	tb.Helper()
	script := "import " + strings.Join(append([]string{"sys"}, modules...), ", ")
	for _, p := range onPath("python3") {
		if exec.Command(p, "-c", script).Run() == nil {
			return p
		}
	}
	missing(tb, "no python3 on PATH can import "+strings.Join(modules, ", "))
	return ""
}

// onPath returns every executable named name in the directories of PATH, in PATH order, each
// once (PATH often names a directory twice, and /bin is a link to /usr/bin on many systems).
func onPath(name string) []string {
	var out []string
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		out = append(out, p)
	}
	return out
}
