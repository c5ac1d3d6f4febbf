package receiverapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestCertRenewedAtSameURL: a cached signing certificate that has expired is fetched again, so
// that a certificate renewed at the same URL is used; before, the expired one stayed cached and
// every message signed with the new one was refused until a restart.
func TestCertRenewedAtSameURL(t *testing.T) {
	ctx := context.Background()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cert := func(serial int64, from time.Time) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "sns"}, NotBefore: from, NotAfter: from.Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	old, renewed := cert(1, t0), cert(2, t0.Add(23*time.Hour))
	var serveRenewed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if serveRenewed.Load() {
			w.Write(renewed)
			return
		}
		w.Write(old)
	}))
	t.Cleanup(srv.Close)
	now := t0.Add(time.Hour)
	v := &Verifier{AllowedHosts: []string{srv.URL}, AllowedAccounts: []string{"1"}, Client: srv.Client(), Now: func() time.Time { return now }}
	note := Envelope{Type: sns.TypeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hello", Timestamp: "2026-12-01T01:00:00.000Z"}
	e, err := ParseEnvelope(func(string) string { return "" }, signed(t, note, key, srv.URL+"/SimpleNotificationService-x.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, e); err != nil {
		t.Fatalf("first certificate: %v", err)
	}
	serveRenewed.Store(true)
	now = t0.Add(30 * time.Hour) // the first has expired, the renewed one is valid
	if _, err := v.Verify(ctx, e); err != nil {
		t.Errorf("after renewal at the same URL: %v", err)
	}
}
