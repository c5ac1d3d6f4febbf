package app

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
)

// TestIngestFileLimits checks that `trailwatch ingest` refuses a file that is larger than
// --max-file-mib on disk or once decompressed, with an error that names the file and the flag, and
// reads a file within the limit.
func TestIngestFileLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	record := []byte(`{"Records":[{"eventTime":"2026-11-25T20:10:04Z","eventID":"e1","recipientAccountId":"111122223333","awsRegion":"us-east-1"}]}`)
	padded := append(bytes.Clone(record), bytes.Repeat([]byte(" "), 1<<20)...) // 1 MiB and a record
	bomb := write("bomb.json.gz", gz(make([]byte, 64<<20)))
	big := write("big.json", padded)
	ok := write("ok.json.gz", gz(record))
	tests := []struct {
		path    string
		limit   int64
		records int
		err     string
	}{
		{bomb, 1 << 20, 0, bomb + ": gunzip: decompressed size exceeds 1 MiB (--max-file-mib raises the limit)"},
		{big, 1 << 20, 0, big + ": file size exceeds 1 MiB (--max-file-mib raises the limit)"},
		{big, 2 << 20, 1, ""},
		{ok, 1 << 20, 1, ""},
		{bomb, 0, 0, bomb + ": input is neither a JSON object, an array nor newline-delimited records"},
	}
	for _, tt := range tests {
		d := decodeFile(tt.path, tt.limit)
		if tt.err == "" && d.err != nil || tt.err != "" && (d.err == nil || d.err.Error() != tt.err) || len(d.res.Records) != tt.records {
			t.Errorf("decodeFile(%s, %d): %d records, err %v; want %d, %q", filepath.Base(tt.path), tt.limit, len(d.res.Records), d.err, tt.records, tt.err)
		}
	}
	if d := decodeFile(bomb, 32<<20); !errors.Is(d.err, cloudtrail.ErrTooLarge) {
		t.Errorf("64 MiB bomb under a 32 MiB limit: %v is not ErrTooLarge", d.err)
	}
}

// TestIngestMaxFileFlag checks that --max-file-mib must be positive.
func TestIngestMaxFileFlag(t *testing.T) {
	var out bytes.Buffer
	if code := runIngest(t.Context(), []string{"--log-group", "g", "--max-file-mib", "0", "x.json"}, &out, &out); code != 2 {
		t.Fatalf("--max-file-mib 0: exit %d, want 2\n%s", code, out.String())
	}
}
