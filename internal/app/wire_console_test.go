package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
	"github.com/trailwatch/trailwatch/internal/ingest"
)

func TestCredentialCheck(t *testing.T) {
	check := credentialCheck(Credential{AccessKeyID: "AKID", SecretAccessKey: "secret"})
	for _, tc := range []struct {
		id, secret string
		ok         bool
	}{
		{"AKID", "secret", true},
		{"AKID", "secreT", false},
		{"AKID", "secret2", false},
		{"AKIX", "secret", false},
		{"", "", false},
		{"AKID", "", false},
	} {
		if got := check(tc.id, tc.secret); got != tc.ok {
			t.Errorf("check(%q, %q) = %v, want %v", tc.id, tc.secret, got, tc.ok)
		}
	}
}

// TestConsoleServed checks that `serve` mounts the console on its listener: the login takes the
// server's API credentials (and nothing else), and the board is served after it.
func TestConsoleServed(t *testing.T) {
	srv, err := New(Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Region: "us-east-1", AccountID: "111122223333",
		AccessKeyID: "AKIDAPPCONSOLE", SecretAccessKey: "app/console/secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	base := "http://" + srv.Addr()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(secret string) int {
		resp, err := c.PostForm(base+"/console/login", url.Values{"access_key_id": {"AKIDAPPCONSOLE"}, "secret_access_key": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	get := func(path string) (int, string) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/console/board"); code != http.StatusSeeOther {
		t.Errorf("board before login: %d, want 303", code)
	}
	if code := login("wrong"); code != http.StatusUnauthorized {
		t.Errorf("login with a wrong secret: %d, want 401", code)
	}
	if code := login("app/console/secret"); code != http.StatusSeeOther {
		t.Errorf("login with the API credentials: %d, want 303", code)
	}
	if code, body := get("/console/board"); code != http.StatusOK || !strings.Contains(body, "Alert board") {
		t.Errorf("board after login: %d", code)
	}
	if code, body := get("/console/static/uPlot.iife.min.js"); code != http.StatusOK || !strings.Contains(body, "uPlot") {
		t.Errorf("embedded uPlot: %d", code)
	}
	// The AWS API still answers everything else.
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}

	// An open tab's event stream does not hold up a graceful shutdown.
	resp, err := c.Get(base + "/console/board/stream")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("board stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	go io.Copy(io.Discard, resp.Body)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("shutdown with an open stream took %v", took)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not shut down with a console stream open")
	}
}

type stubDeliverer struct{ err error }

func (s *stubDeliverer) Deliver(context.Context, ingest.Destination, cloudtrail.Result) (ingest.Stats, error) {
	return ingest.Stats{Stored: 1}, s.err
}

// TestEndpointHealth checks that the endpoint recorder keeps each endpoint's last delivery and last
// error, as the console's sources page shows them.
func TestEndpointHealth(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	h := &endpointHealth{now: func() time.Time { return now }}
	stub := &stubDeliverer{}
	d := h.wrap("EventBridge", EventBridgePath, "g", stub)
	h.wrap("Firehose", FirehosePath, "f", &stubDeliverer{})
	if st, err := d.Deliver(context.Background(), ingest.Destination{}, cloudtrail.Result{}); err != nil || st.Stored != 1 {
		t.Fatalf("Deliver = %v, %v", st, err)
	}
	now = now.Add(time.Minute)
	stub.err = errors.New("database is locked")
	if _, err := d.Deliver(context.Background(), ingest.Destination{}, cloudtrail.Result{}); err == nil {
		t.Fatal("the recorder swallowed the error")
	}
	eps := h.list()
	if len(eps) != 2 || eps[0].Name != "EventBridge" || eps[0].LogGroup != "g" || !eps[0].LastDelivery.Equal(now.Add(-time.Minute)) ||
		eps[0].LastError != "database is locked" || !eps[0].LastErrorAt.Equal(now) || !eps[1].LastDelivery.IsZero() {
		t.Errorf("endpoints = %+v", eps)
	}
}
