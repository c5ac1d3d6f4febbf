package e2e

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// TestHealthcheckCommand runs 'trailwatch healthcheck', the container image's HEALTHCHECK, against a
// running server (exit 0) and, once the server has stopped, against its address (exit 1, with why).
func TestHealthcheckCommand(t *testing.T) {
	s := startServer(t, "")
	check := func() (int, string) {
		cmd := exec.Command(binPath, "healthcheck", "--url", s.URL+"/healthz", "--timeout", "5s")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	if code, out := check(); code != 0 || out != "ok\n" {
		t.Fatalf("healthcheck of a running server: exit %d, %q", code, out)
	}
	s.stop()
	if code, out := check(); code != 1 || !strings.Contains(out, "connection refused") {
		t.Fatalf("healthcheck of a stopped server: exit %d, %q", code, out)
	}
}
