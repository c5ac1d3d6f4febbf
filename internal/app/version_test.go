package app

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	main := debug.Module{Path: "github.com/trailwatch/trailwatch", Version: "(devel)"}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build information", nil, false, "trailwatch 0.1.0-dev\nrevision unknown (no build information in the binary)\n"},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main, Settings: settings(
			"-trimpath", "true", "GOARCH", "amd64", "GOOS", "linux", "vcs", "git",
			"vcs.revision", "d5af7fc0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70", "vcs.time", "2026-12-06T07:20:00Z", "vcs.modified", "false")},
			true, "trailwatch 0.1.0-dev\nrevision d5af7fc0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70\ntime     2026-12-06T07:20:00Z\ngo       go1.26.8 linux/amd64\n"},
		{"modified tree, pseudo-version", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: "github.com/trailwatch/trailwatch", Version: "v0.0.0-20261206072000-d5af7fc0e1f2+dirty"},
			Settings: settings("GOARCH", "arm64", "GOOS", "linux", "vcs.revision", "d5af7fc0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70", "vcs.time", "2026-12-06T07:20:00Z", "vcs.modified", "true")},
			true, "trailwatch 0.1.0-dev\nmodule   github.com/trailwatch/trailwatch v0.0.0-20261206072000-d5af7fc0e1f2+dirty\n" +
				"revision d5af7fc0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70 (modified: built with uncommitted changes)\ntime     2026-12-06T07:20:00Z\ngo       go1.26.8 linux/arm64\n"},
		{"built without VCS (go run, -buildvcs=false)", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main}, true,
			"trailwatch 0.1.0-dev\nrevision unknown (built without VCS information: go build in a git checkout records it)\ngo       go1.26.8\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.bi, tt.ok); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestVersionCommand runs 'trailwatch version' in the test binary, whose build information Go always
// embeds: the version line, and the Go version of this toolchain. (The revision of a binary built from a
// checkout is checked end to end: e2e TestVersionRevision.)
func TestVersionCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(t.Context(), []string{"version"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "trailwatch "+Version+"\n") || !strings.Contains(out, "\ngo       "+runtime.Version()) || !strings.Contains(out, "\nrevision ") {
		t.Fatalf("version printed:\n%s", out)
	}
	if code := Main(t.Context(), []string{"version", "extra"}, nil, &stdout, &stderr); code != 2 {
		t.Fatalf("version extra: exit %d, want 2", code)
	}
}
