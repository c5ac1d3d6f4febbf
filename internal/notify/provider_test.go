package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestReceiverClientSSRFGuard: receivers' requests go through the same SSRF guard as SNS's HTTP
// deliveries; a provider URL on a loopback address is refused (permanently: it is a setting to
// fix, not an outage) unless private endpoints are allowed, and the URL, a secret, is not in the
// error text.
func TestReceiverClientSSRFGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	secretURL := srv.URL + "/services/T/B/secret-part"
	_, err := Post(context.Background(), NewClient(false, nil), secretURL, nil, []byte(`{}`))
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent || !errors.Is(err, ErrForbiddenAddress) || strings.Contains(de.Detail, "secret-part") {
		t.Fatalf("guarded client: %v", err)
	}
	r, err := Post(context.Background(), NewClient(true, nil), secretURL, nil, []byte(`{}`))
	if err != nil || r.Status != 200 {
		t.Fatalf("allowed private: %+v %v", r, err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "0": 0, "-3": 0, "soon": 0,
		"Sun, 06 Dec 2026 09:01:00 GMT": time.Minute, "Sun, 06 Dec 2026 08:59:00 GMT": 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}

// TestPostErrorHidesURL: a receiver's URL is a secret, and net/http's errors quote the URL as it
// re-serialises it, not as it was given: a scheme in capitals (which url.Parse, and so
// Receiver.Validate, accepts) or a user name came out whole in the delivery log. The error text
// must not carry the URL in any form.
func TestPostErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // connections are refused from now on
	for _, u := range []string{
		"HTTP://" + host + "/services/T/B/secret-part",
		"http://secret-part@" + host + "/x",
		"http://" + host + "/services/T/B/secret-part",
	} {
		_, err := Post(context.Background(), NewClient(true, nil), u, nil, []byte(`{}`))
		var de *DeliveryError
		if !errors.As(err, &de) || de.Permanent {
			t.Fatalf("%s: %v, want a retryable *DeliveryError", u, err)
		}
		if strings.Contains(de.Detail, "secret-part") || strings.Contains(de.Error(), "secret-part") {
			t.Errorf("%s: error text %q shows the URL", u, de.Detail)
		}
	}
}
