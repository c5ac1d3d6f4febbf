package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/awsapi/snsapi"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
)

// Files in the data directory holding the SNS signing key and its certificate. Both are kept so
// that messages still in the outbox after a restart verify against the certificate they name.
const (
	signingKeyFile  = "sns-signing-key.pem"
	signingCertFile = "sns-signing-cert.pem"
)

// snsParts is the SNS component once wired.
type snsParts struct {
	svc    *sns.Service
	api    *awsapi.Service
	pages  map[string]http.Handler
	worker *notify.Worker
}

// wireSNS builds the SNS service, its delivery worker (started on wg) and its pages.
func (s *Server) wireSNS(ctx context.Context, db *sqlite.DB, wg *sync.WaitGroup) (*snsParts, error) {
	key, certPEM, certName, err := s.signingKey()
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(s.publicURL(), "/")
	svc := sns.NewService(db, sns.NewSigner(key, base+"/"+certName), base, s.now)
	senders := map[string]notify.Sender{}
	httpSender := notify.NewHTTPSender(s.opts.SNSAllowPrivate, nil)
	senders["http"], senders["https"] = httpSender, httpSender
	if s.opts.SMTPAddr != "" {
		m := &notify.Mailer{Addr: s.opts.SMTPAddr, From: s.opts.SMTPFrom, TLS: s.opts.SMTPTLS, Username: s.opts.SMTPUser, Password: s.opts.SMTPPassword, Now: s.now}
		senders["email"], senders["email-json"] = m, m
	} else {
		s.logger.Warn("no --smtp-addr: email and email-json deliveries wait in the outbox until trailwatch is restarted with an SMTP server")
	}
	w := &notify.Worker{Outbox: db, Senders: senders, Now: s.now}
	w.OnError = func(err error) { s.logger.Warn("SNS delivery worker", "err", err) }
	w.OnAttempt = func(d sns.Delivery, a sns.Attempt) {
		level := s.logger.Info
		if a.Outcome != notify.OutcomeDelivered {
			level = s.logger.Warn
		}
		level("SNS delivery attempt", "message_id", d.MessageID, "type", d.Type, "protocol", d.Protocol, "subscription", d.SubscriptionARN,
			"attempt", a.N, "outcome", a.Outcome, "detail", a.Detail, "duration", a.Duration)
	}
	if s.opts.SMTPAddr == "" {
		// Without a mail sender the worker would burn the email retry policy; leave email
		// deliveries pending instead.
		w.Senders["email"], w.Senders["email-json"] = waitingSender{}, waitingSender{}
	}
	svc.OnEnqueue = w.Notify
	wg.Go(func() { _ = w.Run(ctx) })
	return &snsParts{svc: svc, api: snsapi.NewService(svc), pages: snsapi.Pages(svc, certName, certPEM), worker: w}, nil
}

// waitingSender is the email sender when no SMTP server is configured: every attempt fails, so
// messages stay in the outbox under the email retry policy.
type waitingSender struct{}

func (waitingSender) Send(context.Context, sns.Delivery) (string, error) {
	return "", errors.New("no SMTP server configured (--smtp-addr)")
}

// alarmPublisher is the Publisher the alarm action dispatcher should use: it publishes to SNS
// (with log evidence from logsSvc when non-nil). Before wireSNS has run it records only.
func (s *Server) alarmPublisher(logsSvc notify.LogSearcher) alarm.Publisher {
	if s.sns == nil {
		return alarm.RecordOnly{}
	}
	s.logger.Info("alarm actions publish to SNS")
	return &notify.AlarmPublisher{SNS: s.sns.svc, Logs: logsSvc}
}

// publicURL is the base of links in messages: --public-url, else the listener's address.
func (s *Server) publicURL() string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if s.opts.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + s.opts.Listen
}

// signingKey loads the SNS signing key and certificate from the data directory, creating them on
// first start.
func (s *Server) signingKey() (*rsa.PrivateKey, []byte, string, error) {
	if err := os.MkdirAll(s.opts.DataDir, 0o700); err != nil {
		return nil, nil, "", fmt.Errorf("create data directory: %w", err)
	}
	keyPath, certPath := filepath.Join(s.opts.DataDir, signingKeyFile), filepath.Join(s.opts.DataDir, signingCertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		blk, _ := pem.Decode(keyPEM)
		if blk == nil {
			return nil, nil, "", fmt.Errorf("read %s: no PEM block", keyPath)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, nil, "", fmt.Errorf("parse %s: %w", keyPath, err)
		}
		key, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, "", fmt.Errorf("%s is not an RSA key", keyPath)
		}
		cblk, _ := pem.Decode(certPEM)
		if cblk == nil {
			return nil, nil, "", fmt.Errorf("read %s: no PEM block", certPath)
		}
		return key, certPEM, certName(cblk.Bytes), nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, "", fmt.Errorf("generate SNS signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, "", fmt.Errorf("encode SNS signing key: %w", err)
	}
	certPEM, name, err := sns.SigningCertificate(key, s.now())
	if err != nil {
		return nil, nil, "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, nil, "", fmt.Errorf("write SNS signing key: %w", err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return nil, nil, "", fmt.Errorf("write SNS signing certificate: %w", err)
	}
	return key, certPEM, name, nil
}

// certName is the SigningCertURL file name of a certificate.
func certName(der []byte) string { return sns.CertificateName(der) }
