package app

import (
	"strings"
	"testing"
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
	k1, pem1, name1, err := s.signingKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, pem2, name2, err := s.signingKey()
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) || string(pem1) != string(pem2) || name1 != name2 || !strings.HasPrefix(name1, "SimpleNotificationService-") {
		t.Fatalf("signing material changed: %s vs %s", name1, name2)
	}
	if got := s.publicURL(); got != "http://"+DefaultListen {
		t.Errorf("default public URL %q", got)
	}
}
