package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionRevision builds trailwatch from this checkout with VCS stamping on (GOFLAGS may turn it
// off on a development machine; the Dockerfile's build leaves it on) and checks that 'trailwatch
// version' prints the commit checked out and whether the tree has changes, as git status sees them.
// Go records no VCS information in a git worktree (.git is a file there): the test is skipped.
func TestVersionRevision(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(repo, ".git")); err != nil || !fi.IsDir() {
		t.Skip("not a git clone (a worktree, or an export): go build records no revision")
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	stamped := filepath.Join(t.TempDir(), "trailwatch")
	run("go", "build", "-o", stamped, "./cmd/trailwatch")
	rev := strings.TrimSpace(run(git, "rev-parse", "HEAD"))
	modified := ""
	if strings.TrimSpace(run(git, "status", "--porcelain")) != "" {
		modified = ` \(modified: built with uncommitted changes\)`
	}
	out := run(stamped, "version")
	if !regexp.MustCompile(`^trailwatch \S+\n(module   \S+ \S+\n)?revision ` + rev + modified + `\ntime     \S+Z\ngo       go1\.\S+ \S+/\S+\n$`).MatchString(out) {
		t.Fatalf("version of a build at %s (modified: %v):\n%s", rev, modified != "", out)
	}
}
