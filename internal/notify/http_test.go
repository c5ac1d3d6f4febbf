package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

func TestAllowedAddress(t *testing.T) {
	for _, c := range []struct {
		ip    string
		allow bool
	}{
		{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"169.254.0.1", false},
		{"10.0.0.1", false}, {"172.16.5.4", false}, {"172.31.255.255", false}, {"192.168.1.1", false},
		{"100.64.0.1", false}, {"0.0.0.0", false}, {"::", false}, {"fc00::1", false}, {"fd12:3456::1", false},
		{"224.0.0.1", false}, {"255.255.255.255", false}, {"ff02::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"::ffff:10.1.2.3", false},
		{"2002:7f00:1::1", false}, {"64:ff9b::a9fe:a9fe", false},
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"172.32.0.1", true}, {"2606:4700:4700::1111", true}, {"::ffff:8.8.8.8", true},
	} {
		if got := AllowedAddress(netip.MustParseAddr(c.ip)); got != c.allow {
			t.Errorf("AllowedAddress(%s) = %v, want %v", c.ip, got, c.allow)
		}
	}
}

func FuzzAllowedAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::ffff:169.254.169.254", "8.8.8.8", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		u := ip.Unmap().WithZone("")
		if AllowedAddress(ip) && (u.IsLoopback() || u.IsLinkLocalUnicast() || u.IsPrivate() || u.IsUnspecified() || u.IsMulticast() || u.IsLinkLocalMulticast()) {
			t.Fatalf("%s allowed", s)
		}
	})
}

func delivery(url string) sns.Delivery {
	return sns.Delivery{MessageID: "id-1", Protocol: "http", Endpoint: url, Body: `{"Type":"Notification"}`,
		Headers: map[string]string{"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}}
}

func TestHTTPSenderGuardsPrivateAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	_, err := NewHTTPSender(false, nil).Send(context.Background(), delivery(srv.URL))
	if !errors.Is(err, ErrForbiddenAddress) || hits != 0 {
		t.Fatalf("loopback endpoint: err %v, hits %d", err, hits)
	}
	// localhost by name resolves to loopback: refused after resolution too.
	_, err = NewHTTPSender(false, nil).Send(context.Background(), delivery("http://localhost:"+srv.URL[len("http://127.0.0.1:"):]))
	if !errors.Is(err, ErrForbiddenAddress) || hits != 0 {
		t.Fatalf("localhost endpoint: err %v, hits %d", err, hits)
	}
}

// TestHTTPSenderSuccessRules: 2xx to 4xx count as delivered, 5xx and timeouts do not [§3.3]; the
// request carries SNS's headers.
func TestHTTPSenderSuccessRules(t *testing.T) {
	status := 200
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if status == 0 {
			time.Sleep(300 * time.Millisecond)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := NewHTTPSender(true, nil)
	for _, c := range []struct {
		status int
		ok     bool
	}{{200, true}, {204, true}, {301, true}, {400, true}, {404, true}, {499, true}, {500, false}, {503, false}} {
		status = c.status
		_, err := s.Send(context.Background(), delivery(srv.URL))
		if (err == nil) != c.ok {
			t.Errorf("status %d: err %v", c.status, err)
		}
	}
	if got.Get("User-Agent") != "Amazon Simple Notification Service Agent" || got.Get("X-Amz-Sns-Message-Type") != "Notification" || got.Get("Content-Type") != "text/plain; charset=UTF-8" ||
		got.Get("Accept-Encoding") != "gzip,deflate" {
		t.Errorf("headers %v", got)
	}
	status = 0
	s.client.Timeout = 50 * time.Millisecond
	if _, err := s.Send(context.Background(), delivery(srv.URL)); err == nil {
		t.Error("a timeout counted as delivered")
	}
}

func TestHTTPSenderRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("redirect to another host followed") }))
	defer other.Close()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/same" {
			w.WriteHeader(200)
			return
		}
		if r.URL.Path == "/to-same" {
			http.Redirect(w, r, "/same", http.StatusTemporaryRedirect)
			return
		}
		// Same port on another loopback name is another host.
		http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	s := NewHTTPSender(true, nil)
	if _, err := s.Send(context.Background(), delivery(srv.URL+"/to-same")); err != nil || hits != 2 {
		t.Fatalf("same-host redirect: %v, %d hits", err, hits)
	}
	detail, _ := s.Send(context.Background(), delivery(srv.URL+"/away"))
	if detail != "HTTP 307" {
		t.Fatalf("cross-host redirect: %q", detail)
	}
}

// TestHTTPSSender delivers to an https endpoint whose certificate the transport trusts.
func TestHTTPSSender(t *testing.T) {
	var body string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 64)
		n, _ := r.Body.Read(b)
		body = string(b[:n])
	}))
	defer srv.Close()
	tr := &http.Transport{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig}
	d := delivery(srv.URL)
	d.Protocol = "https"
	if _, err := NewHTTPSender(true, tr).Send(context.Background(), d); err != nil || body != d.Body {
		t.Fatalf("https delivery: %v, body %q", err, body)
	}
	// Without trust in the certificate the attempt fails (and is retried).
	if _, err := NewHTTPSender(true, nil).Send(context.Background(), d); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
}
