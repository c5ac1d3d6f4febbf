//go:build unix

package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTool writes an executable shell script named name into dir that prints out (and exits 0) or
// exits 1 when out is empty.
func fakeTool(t *testing.T, dir, name, out string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "#!/bin/sh\nexit 1\n"
	if out != "" {
		body = "#!/bin/sh\necho '" + out + "'\n"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAWSCLIByVersionOnPath: the CLI of each major version is found wherever it is on PATH, even
// behind one of the other version, and a missing one skips.
func TestAWSCLIByVersionOnPath(t *testing.T) {
	root := t.TempDir()
	v1 := fakeTool(t, filepath.Join(root, "shims"), "aws", "aws-cli/1.45.11 Python/3.11.7 botocore/1.43.11")
	v2 := fakeTool(t, filepath.Join(root, "bin"), "aws", "aws-cli/2.9.19 Python/3.11.2")
	fakeTool(t, filepath.Join(root, "broken"), "aws", "")
	t.Setenv("TRAILWATCH_E2E_REQUIRE", "")
	t.Setenv("PATH", strings.Join([]string{filepath.Join(root, "broken"), filepath.Join(root, "shims"), filepath.Join(root, "bin")}, string(os.PathListSeparator)))
	if got := AWSCLI(t, 1); got != v1 {
		t.Errorf("AWSCLI(1) = %q, want %q", got, v1)
	}
	if got := AWSCLI(t, 2); got != v2 {
		t.Errorf("AWSCLI(2) = %q, want %q", got, v2)
	}
	t.Run("missing", func(t *testing.T) {
		defer func() {
			if !t.Skipped() {
				t.Error("AWSCLI(3) did not skip")
			}
		}()
		AWSCLI(t, 3)
	})
}

// TestPythonWithModules: the first python3 on PATH that can import the modules is chosen.
func TestPythonWithModules(t *testing.T) {
	root := t.TempDir()
	fakeTool(t, filepath.Join(root, "a"), "python3", "")           // cannot import: exits 1
	want := fakeTool(t, filepath.Join(root, "b"), "python3", "ok") // imports anything
	t.Setenv("PATH", filepath.Join(root, "a")+string(os.PathListSeparator)+filepath.Join(root, "b"))
	if got := Python(t, "botocore"); got != want {
		t.Errorf("Python(botocore) = %q, want %q", got, want)
	}
}
