//go:build unix

package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCredentialsFilePrivateAndAtomic: under umask 022, with a 0644 temporary file left by a crash
// of an earlier start, the credentials file must still be created 0600 (the old code reused the
// leftover and renamed it, 0644, into place), hold the whole key pair, and leave no temporary file.
func TestCredentialsFilePrivateAndAtomic(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, credentialsFile)
	if err := os.WriteFile(path+".tmp", []byte(`{"accessKeyId": "AKIAHALFWRIT`), 0o644); err != nil {
		t.Fatal(err)
	}
	cred, created, err := loadOrCreateCredential(dir)
	if err != nil || !created {
		t.Fatalf("loadOrCreateCredential = %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("%s mode %04o, want 0600", credentialsFile, got)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Errorf("temporary file left behind")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stored Credential
	if err := json.Unmarshal(data, &stored); err != nil || stored != cred {
		t.Errorf("stored credentials differ from the ones returned (%v)", err)
	}
	again, created, err := loadOrCreateCredential(dir)
	if err != nil || created || again != cred {
		t.Errorf("second start: created=%v err=%v, same=%v", created, err, again == cred)
	}
}

// TestCredentialsFileMadePrivate: a credentials file readable by others (copied in by hand) is made
// 0600 when it is loaded.
func TestCredentialsFileMadePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, credentialsFile)
	if err := os.WriteFile(path, []byte(`{"accessKeyId":"AKIAEXAMPLE","secretAccessKey":"s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateCredential(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("%s mode %04o, want 0600", credentialsFile, got)
	}
}

// TestWriteFileAtomicReplaces: an existing file is replaced whole, and a failed write (here: the
// directory is gone) reports an error.
func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	for _, body := range []string{"first", "second, longer"} {
		if err := writeFileAtomic(path, []byte(body)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != body {
			t.Errorf("file holds %q, want %q", got, body)
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, "absent", "f"), []byte("x")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}
