package app

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

func TestSNSOptionsValidation(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Options)
		want string // substring of the error, "" for valid
	}{
		{func(o *Options) {}, ""},
		{func(o *Options) { o.SMTPAddr, o.SMTPFrom = "mail.example.com:587", "alerts@example.com" }, ""},
		{func(o *Options) {
			o.SMTPAddr, o.SMTPFrom, o.SMTPTLS = "mail.example.com:465", "alerts@example.com", "tls"
		}, ""},
		{func(o *Options) { o.SMTPAddr = "mail.example.com:587" }, "--smtp-from"},
		{func(o *Options) { o.SMTPAddr, o.SMTPFrom = "mail.example.com", "alerts@example.com" }, "not host:port"},
		{func(o *Options) { o.SMTPAddr, o.SMTPFrom = "mail.example.com:587", "Alerts <alerts@example.com>" }, "bare email address"},
		{func(o *Options) { o.SMTPAddr, o.SMTPFrom = "mail.example.com:587", "alerts@example.com\r\nBcc: x@y" }, "bare email address"},
		{func(o *Options) {
			o.SMTPAddr, o.SMTPFrom, o.SMTPTLS = "mail.example.com:587", "alerts@example.com", "ssl"
		}, "TLS mode"},
		{func(o *Options) { o.PublicURL = "https://alerts.example.com" }, ""},
		{func(o *Options) { o.PublicURL = "ftp://alerts.example.com" }, "--public-url"},
		{func(o *Options) { o.PublicURL = "https://alerts.example.com/?a=b" }, "--public-url"},
	} {
		o := DefaultOptions()
		o.AccessKeyID, o.SecretAccessKey, o.SMTPPassword = "", "", ""
		c.mod(&o)
		err := o.validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", o, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", o, err, c.want)
		}
	}
}

// TestSigningKeyKept: the signing key and certificate are generated once and reloaded, so the
// SigningCertURL of messages still in the outbox stays valid across restarts.
func TestSigningKeyKept(t *testing.T) {
	o := DefaultOptions()
	o.DataDir = t.TempDir()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	k1, pem1, name1, err := s.signingKey(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, pem2, name2, err := s.signingKey(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) || string(pem1) != string(pem2) || name1 != name2 || !strings.HasPrefix(name1, "SimpleNotificationService-") {
		t.Fatalf("signing material changed: %s vs %s", name1, name2)
	}
	if got := s.publicURL(); got != "http://"+DefaultListen {
		t.Errorf("default public URL %q", got)
	}
	s.opts.Listen = "0.0.0.0:4590"
	if got := s.publicURL(); got != "http://127.0.0.1:4590" {
		t.Errorf("public URL of a wildcard listener %q", got)
	}
	s.opts.PublicURL = "https://alerts.example.com"
	if got := s.publicURL(); got != "https://alerts.example.com" {
		t.Errorf("--public-url ignored: %q", got)
	}
}

// TestDeliveriesCommand runs a server with a mail server that refuses connections, publishes one
// message, and reads the outbox with `trailwatch deliveries`.
func TestDeliveriesCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	d := sns.Delivery{MessageID: "m-1", Type: sns.TypeNotification, TopicARN: "arn:aws:sns:us-east-1:1:t", SubscriptionARN: "arn:aws:sns:us-east-1:1:t:s",
		Protocol: "email", Endpoint: "ops@example.com", Body: "secret body", Created: t0, NextAttempt: t0, Policy: sns.EmailPolicy}
	if _, err := db.Enqueue(ctx, "", "m-1", []sns.Delivery{d, d}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: 1, N: 1, At: t0, Duration: 1500 * time.Microsecond, Outcome: "retry", Detail: "connection refused"}, sns.DeliveryPending, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordAttempt(ctx, sns.Attempt{DeliveryID: 2, N: 1, At: t0, Outcome: "delivered", Detail: "250"}, sns.DeliveryDelivered, t0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out, errOut bytes.Buffer
	if code := runDeliveries(ctx, []string{"--data", dir, "--status", "pending"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("output:\n%s", out.String())
	}
	var r deliveryRecord
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	if r.ID != 1 || r.Status != "pending" || r.LastError != "connection refused" || len(r.Attempts) != 1 || r.Attempts[0].DurationMS != 1.5 ||
		r.NextAttempt == nil || !r.NextAttempt.Equal(t0.Add(10*time.Second)) || r.Body != "" {
		t.Fatalf("record %+v", r)
	}
	out.Reset()
	if code := runDeliveries(ctx, []string{"--data", dir, "--body"}, &out, &errOut); code != 0 || strings.Count(out.String(), "secret body") != 2 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if code := runDeliveries(ctx, []string{"--data", dir, "--status", "lost"}, &out, &errOut); code != 2 {
		t.Fatalf("bad status: exit %d", code)
	}
	if code := runDeliveries(ctx, []string{"--data", t.TempDir()}, &out, &errOut); code != 1 {
		t.Fatalf("empty directory: exit %d", code)
	}
}
