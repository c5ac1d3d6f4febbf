package app

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheck runs 'trailwatch healthcheck' against the server's own /healthz handler while live
// (exit 0) and while starting or stopping (503), against a wrong path (404) and a closed port (exit 1,
// with the reason), and with bad flags (exit 2). e2e TestHealthcheckCommand asks a running binary.
func TestHealthcheck(t *testing.T) {
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", srv.healthz) // as Run routes it
	hs := httptest.NewServer(mux)
	defer hs.Close()
	live := func() { srv.live.Store(true) }
	down := func() { srv.live.Store(false) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	tests := []struct {
		name       string
		before     func()
		args       []string
		code       int
		out, errIn string
	}{
		{"healthy server", live, []string{"--url", hs.URL + "/healthz"}, 0, "ok\n", ""},
		{"starting or stopping", down, []string{"--url", hs.URL + "/healthz"}, 1, "", "503 Service Unavailable: starting or stopping"},
		{"wrong path", live, []string{"--url", hs.URL + "/nothing-here"}, 1, "", "404 Not Found"},
		{"nothing listening", live, []string{"--url", closed, "--timeout", "2s"}, 1, "", "connection refused"},
		{"argument", live, []string{"http://127.0.0.1:4590/healthz"}, 2, "", "takes no arguments"},
		{"zero timeout", live, []string{"--timeout", "0s"}, 2, "", "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.before()
			var stdout, stderr bytes.Buffer
			code := Main(t.Context(), append([]string{"healthcheck"}, tt.args...), nil, &stdout, &stderr)
			if code != tt.code || stdout.String() != tt.out || !strings.Contains(stderr.String(), tt.errIn) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q", code, stdout.String(), stderr.String(), tt.code, tt.out, tt.errIn)
			}
		})
	}
}

// TestDefaultHealthURL: the default URL is the default listener's /healthz, the one the Dockerfile's
// HEALTHCHECK asks.
func TestDefaultHealthURL(t *testing.T) {
	if DefaultHealthURL != "http://127.0.0.1:4590/healthz" {
		t.Fatalf("DefaultHealthURL = %q", DefaultHealthURL)
	}
}
