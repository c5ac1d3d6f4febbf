package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// `serve --database-url` (or TRAILWATCH_DATABASE_URL) must be a postgres:// URL; a bad one is
// refused with a clear reason before anything is opened.
func TestServeRefusesBadDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--database-url", "host=db user=trailwatch"}, ""},
		{"env", nil, "mysql://trailwatch@db/trailwatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TRAILWATCH_DATABASE_URL", tc.env)
			var stdout, stderr bytes.Buffer
			args := append([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0"}, tc.args...)
			code := runServe(context.Background(), args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), "must be a postgres:// URL") {
				t.Fatalf("exit %d, stderr %q; want 2 and the URL's form", code, stderr.String())
			}
		})
	}
}

// With --database-url, --data is optional: the options validate without it, and without either
// they say that --data is missing.
func TestDatabaseURLMakesDataOptional(t *testing.T) {
	o := DefaultOptions()
	o.DataDir, o.DatabaseURL = "", "postgresql://trailwatch@db/trailwatch"
	if err := o.validate(); err != nil {
		t.Fatalf("validate with --database-url and no --data: %v", err)
	}
	o.DatabaseURL = ""
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--data must not be empty") {
		t.Fatalf("validate with neither: %v", err)
	}
}

// The database URL may carry a password (postgres://user:secret@host/db): taken from
// TRAILWATCH_DATABASE_URL, it must not appear in `serve -h` or in the usage a bad flag prints
// (flag prints a flag's non-zero default there).
func TestServeUsageHidesTheDatabaseURL(t *testing.T) {
	const secret = "s3cr3t-pw"
	t.Setenv("TRAILWATCH_DATABASE_URL", "postgres://trailwatch:"+secret+"@db.example.com/trailwatch")
	for _, args := range [][]string{{"-h"}, {"--no-such-flag"}} {
		var stdout, stderr bytes.Buffer
		runServe(context.Background(), args, &stdout, &stderr)
		if out := stdout.String() + stderr.String(); strings.Contains(out, secret) {
			t.Errorf("serve %v prints the database password:\n%s", args, out)
		}
	}
}
