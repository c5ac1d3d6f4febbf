package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// `serve --database-url` (or TRAILWATCH_DATABASE_URL) is refused with a clear reason while the log
// events have no PostgreSQL store, instead of starting with part of the data in a local file.
func TestServeRefusesDatabaseURLUntilLogsArePorted(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"flag", []string{"--database-url", "postgres://trailwatch@127.0.0.1/trailwatch"}, "", "log events on PostgreSQL are not yet implemented"},
		{"env", nil, "postgresql://trailwatch@db/trailwatch", "log events on PostgreSQL are not yet implemented"},
		{"not a URL", []string{"--database-url", "host=db user=trailwatch"}, "", "must be a postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TRAILWATCH_DATABASE_URL", tc.env)
			var stdout, stderr bytes.Buffer
			args := append([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0"}, tc.args...)
			code := runServe(context.Background(), args, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
