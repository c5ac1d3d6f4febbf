package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestLogsClientHonoursCABundle checks that the ingest command's client trusts the CA bundle named by
// AWS_CA_BUNDLE: it makes a real TLS connection to a server whose self-signed certificate only that
// bundle trusts. The SDK's loader customises its own HTTP client for the bundle and refuses one passed
// in with config.WithHTTPClient, so awsclient's wrapper must be applied after loading, keeping the
// loader's TLS settings. Without the bundle, or with another CA's, the same call must fail on the
// certificate: the success is the bundle's doing.
func TestLogsClientHonoursCABundle(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("X-Amz-Target"); got != "Logs_20140328.DescribeLogGroups" {
			http.Error(w, "unexpected target "+got, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte(`{"logGroups":[{"logGroupName":"trusted"}]}`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	serverCA := filepath.Join(dir, "server-ca.pem")
	writePEM(t, serverCA, srv.Certificate().Raw)
	otherCA := filepath.Join(dir, "other-ca.pem")
	writePEM(t, otherCA, selfSignedCA(t))

	// No user configuration, no retries: only the environment below counts.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")

	describe := func(bundle string) error {
		t.Setenv("AWS_CA_BUNDLE", bundle)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := newLogsClient(ctx, srv.URL, "us-east-1")
		if err != nil {
			return err
		}
		out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		if err == nil && (len(out.LogGroups) != 1 || *out.LogGroups[0].LogGroupName != "trusted") {
			t.Errorf("DescribeLogGroups = %+v", out.LogGroups)
		}
		return err
	}

	if err := describe(serverCA); err != nil {
		t.Fatalf("with AWS_CA_BUNDLE trusting the server: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("server saw %d requests, want 1", calls.Load())
	}
	for name, bundle := range map[string]string{"without a bundle": "", "with another CA's bundle": otherCA} {
		err := describe(bundle)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("%s: err = %v, want an unknown-authority certificate error", name, err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("server saw %d requests, want only the trusted one", calls.Load())
	}
}

// writePEM writes a certificate in PEM form.
func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// selfSignedCA returns a fresh CA certificate that signed nothing the test server shows.
func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unrelated test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
