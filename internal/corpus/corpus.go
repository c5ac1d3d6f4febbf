// Package corpus gives tests and benchmarks the project's shared CloudTrail data: the ../shared
// directory beside the module root, and corpora made by its gen-cloudtrail tool, whose summary says
// exactly how many events the CIS root-usage pattern must match. One place finds the directory and
// runs the tool, so every package's tests skip (or, in CI, fail) the same way when it is missing.
package corpus

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	args = append([]string{filepath.Join(SharedDir(tb), "tools", "gen-cloudtrail")}, append(args, "--summary", summary)...)
	if msg, err := exec.Command("python3", args...).CombinedOutput(); err != nil {
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
