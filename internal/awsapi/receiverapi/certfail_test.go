package receiverapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestFailedCertFetchIsRemembered: the certificate a message names is fetched before its
// signature can be checked, so forged messages naming a missing certificate on an allowed host
// must not each cost an outbound request: a failed URL is not fetched again for a minute (on the
// injected clock).
func TestFailedCertFetchIsRemembered(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	v := &Verifier{AllowedHosts: []string{srv.URL}, AllowedAccounts: []string{"1"}, Client: srv.Client(), Now: func() time.Time { return now }}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	e, err := ParseEnvelope(func(string) string { return "" }, signed(t, Envelope{Type: sns.TypeNotification, MessageID: "m",
		TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hello", Timestamp: "t"}, key, srv.URL+"/SimpleNotificationService-missing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := v.Verify(ctx, e); err == nil {
			t.Fatal("verified without a certificate")
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("5 messages naming a missing certificate made %d fetches, want 1", n)
	}
	now = now.Add(2 * time.Minute)
	v.Verify(ctx, e)
	if n := hits.Load(); n != 2 {
		t.Errorf("after a minute: %d fetches, want 2 (fetched again)", n)
	}
}
