package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// smtpBackend is a go-smtp backend that records messages and, with user set, requires PLAIN auth.
type smtpBackend struct {
	mu         sync.Mutex
	user, pass string
	got        []string
	tls        []bool
}

type smtpSession struct {
	be     *smtpBackend
	conn   *smtp.Conn
	authed bool
}

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{be: b, conn: c}, nil
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.be.user || pass != s.be.pass {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if s.be.user != "" && !s.authed {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	return nil
}
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	_, isTLS := s.conn.TLSConnectionState()
	s.be.mu.Lock()
	s.be.got = append(s.be.got, string(b))
	s.be.tls = append(s.be.tls, isTLS)
	s.be.mu.Unlock()
	return nil
}

// testTLS returns a server certificate for 127.0.0.1 and a client config trusting it.
func testTLS(t *testing.T) (*tls.Config, *tls.Config) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	cert := srv.TLS.Certificates[0]
	srv.Close()
	pool := x509.NewCertPool()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(leaf)
	return &tls.Config{Certificates: []tls.Certificate{cert}}, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// startSMTP serves be; implicit wraps the listener in TLS; serverTLS enables STARTTLS.
func startSMTP(t *testing.T, be *smtpBackend, serverTLS *tls.Config, implicit bool) string {
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.TLSConfig = serverTLS
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

func mailDelivery() sns.Delivery {
	return sns.Delivery{MessageID: "mid-1", SubscriptionARN: "arn:aws:sns:us-east-1:1:t:s", Protocol: "email", Endpoint: "ops@example.com",
		Subject: "ALARM: \"root\" in US East (N. Virginia)", FromName: "AWS Notifications", Body: "You are receiving this email because ..."}
}

func TestMailerModes(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct {
		name       string
		serverTLS  *tls.Config
		implicit   bool
		mode       string
		user, pass string // server requires these; the mailer sends them
		wantTLS    bool
		fail       string
	}{
		{name: "plain", mode: TLSNone},
		{name: "opportunistic without TLS offered", mode: TLSOpportunistic},
		{name: "opportunistic upgrades", serverTLS: serverTLS, mode: TLSOpportunistic, wantTLS: true},
		{name: "starttls required", serverTLS: serverTLS, mode: TLSStartTLS, wantTLS: true},
		{name: "starttls required but not offered", mode: TLSStartTLS, fail: "STARTTLS"},
		{name: "implicit TLS", serverTLS: serverTLS, implicit: true, mode: TLSImplicit, wantTLS: true},
		{name: "auth over STARTTLS", serverTLS: serverTLS, mode: TLSStartTLS, user: "alerts", pass: "s3cret", wantTLS: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := &smtpBackend{user: c.user, pass: c.pass}
			addr := startSMTP(t, be, c.serverTLS, c.implicit)
			m := &Mailer{Addr: addr, From: "alerts@example.com", TLS: c.mode, Username: c.user, Password: c.pass, TLSConfig: clientTLS, Timeout: 5 * time.Second}
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := m.Send(ctx, mailDelivery())
			if c.fail != "" {
				if err == nil || !strings.Contains(strings.ToUpper(err.Error()), c.fail) {
					t.Fatalf("err %v, want one mentioning %s", err, c.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(be.got) != 1 || be.tls[0] != c.wantTLS || !strings.Contains(be.got[0], "X-Amz-Sns-Message-Id: mid-1") {
				t.Fatalf("received %d messages, TLS %v", len(be.got), be.tls)
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		be := &smtpBackend{user: "alerts", pass: "right"}
		addr := startSMTP(t, be, serverTLS, false)
		m := &Mailer{Addr: addr, From: "alerts@example.com", TLS: TLSStartTLS, Username: "alerts", Password: "wrong", TLSConfig: clientTLS, Timeout: 5 * time.Second}
		if _, err := m.Send(ctx, mailDelivery()); err == nil || len(be.got) != 0 {
			t.Fatalf("err %v, %d delivered", err, len(be.got))
		}
	})
}
