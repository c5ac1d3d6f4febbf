// Package e2e holds the end-to-end tests: they build the real trailwatch binary, start it on a free port with
// a fresh data directory, and drive it with real clients: the aws CLI v2 from Debian's awscli (awsQuery for
// CloudWatch), the aws CLI v1 with botocore 1.43 (awsJson 1.0 for CloudWatch: botocore prefers JSON when a service
// offers both), and aws-sdk-go-v2 (RPCv2 CBOR for CloudWatch).
//
// A missing CLI skips the tests that need it, unless TRAILWATCH_E2E_REQUIRE=1 (as in CI), where it fails.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// Credentials every test server is started with.
const (
	testAccessKey = "AKIAE2ETESTKEY000001"
	testSecretKey = "e2e/secret/key/used/only/by/the/tests/00"
	testRegion    = "us-east-1"
	testAccount   = "111122223333"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trailwatch-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "trailwatch")
	build := exec.Command("go", "build", "-o", binPath, "../cmd/trailwatch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build trailwatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running trailwatch process.
type server struct {
	t       *testing.T
	URL     string
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	done    chan error
	logMu   sync.Mutex
	log     bytes.Buffer
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServer starts trailwatch serve with a new data directory (or dataDir, to restart on existing data).
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	return startServerScheme(t, "http", dataDir, extra...)
}

// startServerScheme is startServer for a server that listens with scheme ("http" or "https").
func startServerScheme(t *testing.T, scheme, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	addr := freeAddr(t)
	return launch(t, scheme, addr, dataDir, append([]string{"--data", dataDir}, extra...))
}

// launch starts trailwatch serve on addr with the test's region, account and credentials and the
// given further arguments, and waits until /healthz answers 200. dataDir is recorded only.
func launch(t *testing.T, scheme, addr, dataDir string, extra []string) *server {
	t.Helper()
	args := append([]string{"serve", "--listen", addr, "--region", testRegion, "--account-id", testAccount}, extra...)
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "TRAILWATCH_ACCESS_KEY_ID="+testAccessKey, "TRAILWATCH_SECRET_ACCESS_KEY="+testSecretKey)
	s := &server{t: t, URL: scheme + "://" + addr, Addr: addr, DataDir: dataDir, cmd: cmd, done: make(chan error, 1)}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.logMu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.logMu.Unlock()
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // only asks /healthz
	for {
		resp, err := probe.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy: %v\n%s", err, s.logs())
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited early: %v\n%s", err, s.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *server) logs() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and waits for a graceful exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// kill ends the server with SIGKILL, as a crash would.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// cli is one installed aws CLI.
type cli struct {
	name string // "v1" or "v2"
	path string
}

// findCLI locates the aws CLI of the given major version ("v1" or "v2") on PATH (corpus.AWSCLI).
func findCLI(t *testing.T, major string) cli {
	t.Helper()
	n, _ := strconv.Atoi(strings.TrimPrefix(major, "v"))
	return cli{name: major, path: corpus.AWSCLI(t, n)}
}

// run invokes the CLI against the server and returns stdout; it fails the test on a non-zero exit.
func (c cli) run(t *testing.T, s *server, args ...string) string {
	t.Helper()
	out, errOut, code := c.try(t, s, args...)
	if code != 0 {
		t.Fatalf("aws %s %s: exit %d\n%s", c.name, strings.Join(args, " "), code, errOut)
	}
	return out
}

// try invokes the CLI and returns stdout, stderr and the exit code.
func (c cli) try(t *testing.T, s *server, args ...string) (string, string, int) {
	t.Helper()
	return c.tryWith(t, s, testSecretKey, args...)
}

func (c cli) tryWith(t *testing.T, s *server, secret string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--endpoint-url", s.URL, "--region", testRegion, "--output", "json"}, args...)
	cmd := exec.CommandContext(ctx, c.path, full...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run aws: %v", err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// decode unmarshals CLI JSON output into v.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("decode CLI output: %v\n%s", err, out)
	}
}
