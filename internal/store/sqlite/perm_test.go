//go:build unix

package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withUmask sets the process umask for the test (so these tests never run in parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// mode returns path's permission bits.
func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// openAndWrite opens the database in dir and commits one write, which creates the WAL and its
// shared-memory file. The caller closes it.
func openAndWrite(t *testing.T, dir string, opts Options) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS perm_test (k INTEGER PRIMARY KEY); INSERT INTO perm_test DEFAULT VALUES`)
		return err
	}); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db
}

// TestDataFilesArePrivate is issue 11's item 11: under umask 022, in a data directory made
// beforehand with mode 0755, the database, its WAL and its shared-memory file must be 0600 and the
// directory 0700 (they were 0644 and 0755).
func TestDataFilesArePrivate(t *testing.T) {
	withUmask(t, 0o022)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "credentials.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := openAndWrite(t, dir, Options{OwnFiles: []string{"credentials.json"}})
	defer db.Close()
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", got)
	}
	for _, suf := range []string{"", "-wal", "-shm"} {
		if got := mode(t, db.Path()+suf); got != 0o600 {
			t.Errorf("%s mode %04o, want 0600", FileName+suf, got)
		}
	}
}

// TestDataFilesOfOlderVersionMadePrivate opens a database an earlier trailwatch left 0644 in a 0755
// directory: Open takes the group and other permissions off all of it.
func TestDataFilesOfOlderVersionMadePrivate(t *testing.T) {
	withUmask(t, 0o022)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db := openAndWrite(t, dir, Options{})
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	// A WAL and index left behind by a crash, readable by everyone.
	for _, suf := range []string{"-wal", "-shm"} {
		if err := os.WriteFile(path+suf, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer openAndWrite(t, dir, Options{}).Close()
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("data directory mode %04o, want 0700", got)
	}
	for _, suf := range []string{"", "-wal", "-shm"} {
		if got := mode(t, path+suf); got != 0o600 {
			t.Errorf("%s mode %04o, want 0600", FileName+suf, got)
		}
	}
}

// TestForeignOpenDirectoryLeftAlone: a directory others may read that holds files not trailwatch's
// (a volume's lost+found) is not changed, and a warning names the file and what to do; the database
// is still created there, and private.
func TestForeignOpenDirectoryLeftAlone(t *testing.T) {
	withUmask(t, 0o022)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db, err := Open(context.Background(), dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open refused a volume root holding lost+found: %v", err)
	}
	db.Close()
	if got := mode(t, dir); got != 0o755 {
		t.Errorf("directory mode changed to %04o", got)
	}
	if got := mode(t, filepath.Join(dir, FileName)); got != 0o600 {
		t.Errorf("database mode %04o, want 0600", got)
	}
	if w := logs.String(); !strings.Contains(w, "lost+found") || !strings.Contains(w, "chmod 700") || !strings.Contains(w, "level=WARN") {
		t.Errorf("warning %q does not name the file and what to do", w)
	}
}
