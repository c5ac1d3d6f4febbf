package app

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// versionText is what 'trailwatch version' prints: the program's version and, from the build information
// the Go toolchain embeds (ok false when there is none), the module version, the VCS revision the binary
// was built from, whether the working tree had uncommitted changes, the commit time, and the Go version
// and platform, so that a running binary can be traced to its source.
func versionText(bi *debug.BuildInfo, ok bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trailwatch %s\n", Version)
	if !ok || bi == nil {
		b.WriteString("revision unknown (no build information in the binary)\n")
		return b.String()
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		fmt.Fprintf(&b, "module   %s %s\n", bi.Main.Path, v)
	}
	s := map[string]string{}
	for _, kv := range bi.Settings {
		s[kv.Key] = kv.Value
	}
	switch rev := s["vcs.revision"]; {
	case rev == "":
		b.WriteString("revision unknown (built without VCS information: go build in a git checkout records it)\n")
	case s["vcs.modified"] == "true":
		fmt.Fprintf(&b, "revision %s (modified: built with uncommitted changes)\n", rev)
	default:
		fmt.Fprintf(&b, "revision %s\n", rev)
	}
	if t := s["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "time     %s\n", t)
	}
	goVersion := bi.GoVersion
	if s["GOOS"] != "" && s["GOARCH"] != "" {
		goVersion += " " + s["GOOS"] + "/" + s["GOARCH"]
	}
	fmt.Fprintf(&b, "go       %s\n", goVersion)
	return b.String()
}

// runVersion is 'trailwatch version'.
func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: trailwatch version\n\nPrints the version, the VCS revision the binary was built from, and the Go version.\n")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trailwatch version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi, ok))
	return 0
}
