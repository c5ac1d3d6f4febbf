//go:build unix

package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// noWarn fails the test on any warning.
func noWarn(t *testing.T) func(string, ...any) {
	return func(msg string, args ...any) { t.Errorf("unexpected warning: %s %v", msg, args) }
}

// TestReadOnlyCredentialsFileStillUsed: a credentials file readable by others on a read-only
// filesystem (a secret mounted by Kubernetes or Docker) cannot be made private; the server warns and
// uses it instead of refusing to start. It needs a read-only bind mount, so it runs as root only.
func TestReadOnlyCredentialsFileStillUsed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a read-only bind mount needs root")
	}
	src, dir := t.TempDir(), t.TempDir()
	want := Credential{AccessKeyID: "AKIAMOUNTEDSECRET", SecretAccessKey: "s"}
	data, _ := json.Marshal(want)
	if err := os.WriteFile(filepath.Join(src, credentialsFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, credentialsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(src, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("remount read-only: %v", err)
	}
	var warnings []string
	got, created, err := loadOrCreateCredential(dir, func(msg string, args ...any) {
		warnings = append(warnings, msg+" "+fmt.Sprint(args...))
	})
	if err != nil || created || got != want {
		t.Fatalf("loadOrCreateCredential = %+v, created=%v, %v; want the mounted credential", got, created, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "read-only file system") {
		t.Errorf("warnings %q; want one saying the file could not be made private", warnings)
	}
}

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
	cred, created, err := loadOrCreateCredential(dir, noWarn(t))
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
	again, created, err := loadOrCreateCredential(dir, noWarn(t))
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
	if _, _, err := loadOrCreateCredential(dir, noWarn(t)); err != nil {
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
