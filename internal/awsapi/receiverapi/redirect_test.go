package receiverapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestVerifierDoesNotFollowRedirects: the allowed hosts are the only trust anchor of a real SNS
// message, so neither the certificate fetch nor the SubscribeURL visit may follow a redirect off
// them (to an attacker's certificate, or to an internal address: an SSRF). Real SNS serves both
// without redirects.
func TestVerifierDoesNotFollowRedirects(t *testing.T) {
	ctx := context.Background()
	awsKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other := certServer(t, awsKey) // not allowed
	var hits atomic.Int64
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		other.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(counted.Close)
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, counted.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(allowed.Close)
	v := &Verifier{AllowedHosts: []string{allowed.URL}, AllowedAccounts: []string{"1"}, Client: &http.Client{}}
	note := Envelope{Type: sns.TypeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hello", Timestamp: "2026-12-06T00:00:00.000Z"}
	e, err := ParseEnvelope(func(string) string { return "" }, signed(t, note, awsKey, allowed.URL+"/SimpleNotificationService-x.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := v.Verify(ctx, e); err == nil {
		t.Errorf("certificate behind a redirect off the allowed hosts verified (origin %q)", o)
	}
	if err := v.Visit(ctx, allowed.URL+"/?Action=ConfirmSubscription", note.TopicARN); err == nil {
		t.Error("SubscribeURL visit followed a redirect off the allowed hosts")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the host redirected to was reached %d times", n)
	}
}
