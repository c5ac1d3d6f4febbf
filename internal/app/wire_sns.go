package app

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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

// Finished SNS deliveries (and publish dedup keys) are kept this long for inspection with
// `trailwatch deliveries`, then pruned; pending ones are kept until delivered or expired.
const (
	deliveryRetention  = 14 * 24 * time.Hour
	deliveryPruneEvery = time.Hour
)

// snsParts is the SNS component once wired.
type snsParts struct {
	svc    *sns.Service
	api    *awsapi.Service
	pages  map[string]http.Handler
	worker *notify.Worker
	// base is the public URL without a trailing slash: the base of SNS's links, receiver
	// endpoints and console links.
	base string
	// metrics stores the AWS/SNS metrics of svc and worker.
	metrics *snsMetrics
	// receivers are the Slack, PagerDuty, Teams and webhook receivers (wire_receivers.go).
	receivers *receiverParts
}

// wireSNS builds the SNS service, its delivery worker (started on wg) and its pages.
func (s *Server) wireSNS(ctx context.Context, db backend, wg *sync.WaitGroup) (*snsParts, error) {
	key, certPEM, certName, err := s.signingKey(ctx, db.Replicas())
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
		s.logger.Warn("no --smtp-addr: email and email-json deliveries stay in the outbox, retried under SNS's email policy (over six hours), until trailwatch runs with an SMTP server")
	}
	w := &notify.Worker{Outbox: db.DeliveryOutbox(), Senders: senders, Now: s.now}
	w.OnError = func(err error) { s.logger.Warn("SNS delivery worker", "err", err) }
	w.OnAttempt = func(d sns.Delivery, a sns.Attempt) {
		s.tel.DeliveryAttempt(d.Protocol, a.Outcome)
		level := s.logger.Info
		if a.Outcome != notify.OutcomeDelivered {
			level = s.logger.Warn
		}
		level("SNS delivery attempt", "message_id", d.MessageID, "type", d.Type, "protocol", d.Protocol, "subscription", d.SubscriptionARN,
			"attempt", a.N, "outcome", a.Outcome, "detail", a.Detail, "duration", a.Duration)
	}
	if s.opts.SMTPAddr == "" {
		// Without a mail server, email deliveries fail their attempts like an unreachable
		// server's would: restarting with --smtp-addr within the policy's six hours delivers them.
		w.Senders["email"], w.Senders["email-json"] = waitingSender{}, waitingSender{}
	}
	svc.OnEnqueue = w.Notify
	receivers := s.wireReceivers(db, svc, w, &key.PublicKey, base, base+"/"+certName)
	am := &snsMetrics{store: db.MetricStore(), logger: s.logger}
	svc.Metrics, w.Metrics = am, am
	wg.Go(func() { _ = w.Run(ctx) })
	every(ctx, wg, deliveryPruneEvery, func() {
		if !s.claimRound(ctx, db, roundPrune, s.now().Truncate(deliveryPruneEvery)) {
			return
		}
		if n, err := db.PruneDeliveries(ctx, s.now().Add(-deliveryRetention)); err != nil {
			s.logger.Warn("SNS delivery pruning failed", "err", err)
		} else if n > 0 {
			s.logger.Info("pruned finished SNS deliveries", "deliveries", n)
		}
	})
	pages := snsapi.Pages(svc, certName, certPEM)
	pages[ReceiversPath] = receivers.endpoint
	return &snsParts{svc: svc, api: snsapi.NewService(svc), pages: pages, worker: w, base: base, metrics: am, receivers: receivers}, nil
}

// waitingSender is the email sender when no SMTP server is configured: every attempt fails, so
// messages stay in the outbox under the email retry policy.
type waitingSender struct{}

func (waitingSender) Send(context.Context, sns.Delivery) (string, error) {
	return "", errors.New("no SMTP server configured (--smtp-addr)")
}

// alarmPublisher is the Publisher the alarm action dispatcher should use: it publishes to SNS
// (with log evidence from logsSvc when non-nil). Before wireSNS has run there is nothing to
// publish to: alarm.NoPublisher keeps every action pending (never reported as executed) until
// a server with SNS delivers it.
func (s *Server) alarmPublisher(logsSvc notify.LogSearcher) alarm.Publisher {
	if s.sns == nil {
		s.logger.Warn("alarm actions stay pending: SNS is not wired")
		return alarm.NoPublisher{}
	}
	s.logger.Info("alarm actions publish to SNS")
	// Emails link to the alarm's console page under the public URL, as the receivers do.
	return &notify.AlarmPublisher{SNS: s.sns.svc, Logs: logsSvc, PublicURL: s.sns.base}
}

// publicURL is the base of links in messages: --public-url, else the listener's address (with
// 127.0.0.1 for a wildcard host, which no link can use: such a server should set --public-url).
func (s *Server) publicURL() string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if s.opts.TLSCert != "" {
		scheme = "https"
	}
	addr := s.opts.Listen
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			addr = net.JoinHostPort("127.0.0.1", port)
			s.logger.Warn("links in SNS messages point at 127.0.0.1; set --public-url to the address subscribers can reach", "listen", s.opts.Listen)
		}
	}
	return scheme + "://" + addr
}

// signingKey loads the SNS signing key and certificate from the data directory, creating them on
// first start; with replicas (shared non-nil) from the database they share instead, so that every
// replica signs with the same key and serves the same certificate.
func (s *Server) signingKey(ctx context.Context, shared replicas) (*rsa.PrivateKey, []byte, string, error) {
	if shared != nil {
		return s.sharedSigningKey(ctx, shared)
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o700); err != nil {
		return nil, nil, "", fmt.Errorf("create data directory: %w", err)
	}
	keyPath, certPath := filepath.Join(s.opts.DataDir, signingKeyFile), filepath.Join(s.opts.DataDir, signingCertFile)
	keyPEM, kerr := os.ReadFile(keyPath)
	certPEM, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		return parseSigningKey(keyPEM, certPEM, keyPath, certPath)
	}
	key, keyPEM, certPEM, name, err := s.newSigningKey()
	if err != nil {
		return nil, nil, "", err
	}
	if err := writeFileAtomic(keyPath, keyPEM); err != nil {
		return nil, nil, "", fmt.Errorf("write SNS signing key: %w", err)
	}
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return nil, nil, "", fmt.Errorf("write SNS signing certificate: %w", err)
	}
	return key, certPEM, name, nil
}

// parseSigningKey decodes a PKCS#8 RSA key and its certificate, both PEM; keyFrom and certFrom
// name where they were read, for errors.
func parseSigningKey(keyPEM, certPEM []byte, keyFrom, certFrom string) (*rsa.PrivateKey, []byte, string, error) {
	blk, _ := pem.Decode(keyPEM)
	if blk == nil {
		return nil, nil, "", fmt.Errorf("read %s: no PEM block", keyFrom)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("parse %s: %w", keyFrom, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, "", fmt.Errorf("%s is not an RSA key", keyFrom)
	}
	cblk, _ := pem.Decode(certPEM)
	if cblk == nil {
		return nil, nil, "", fmt.Errorf("read %s: no PEM block", certFrom)
	}
	return key, certPEM, certName(cblk.Bytes), nil
}

// newSigningKey generates an SNS signing key and its self-signed certificate, both PEM.
func (s *Server) newSigningKey() (key *rsa.PrivateKey, keyPEM, certPEM []byte, name string, err error) {
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("generate SNS signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("encode SNS signing key: %w", err)
	}
	certPEM, name, err = sns.SigningCertificate(key, s.now())
	if err != nil {
		return nil, nil, nil, "", err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), certPEM, name, nil
}

// sharedSigningKeyName is the shared value holding the SNS signing key and its certificate
// together (JSON of sharedSigningKey), so that replicas racing at first start cannot end up with
// one replica's key and another's certificate.
const sharedSigningKeyName = "sns-signing-key"

// sharedSigningKey is the form of the shared value sharedSigningKeyName.
type sharedSigningKey struct {
	KeyPEM  []byte `json:"keyPem"`
	CertPEM []byte `json:"certPem"`
}

// sharedSigningKey returns the deployment's SNS signing key and certificate from the database,
// generating them when no replica has yet.
func (s *Server) sharedSigningKey(ctx context.Context, shared replicas) (*rsa.PrivateKey, []byte, string, error) {
	v, _, err := shared.SharedValue(ctx, sharedSigningKeyName, func() ([]byte, error) {
		_, keyPEM, certPEM, _, err := s.newSigningKey()
		if err != nil {
			return nil, err
		}
		return json.Marshal(sharedSigningKey{KeyPEM: keyPEM, CertPEM: certPEM})
	})
	if err != nil {
		return nil, nil, "", fmt.Errorf("shared SNS signing key: %w", err)
	}
	var sk sharedSigningKey
	if err := json.Unmarshal(v, &sk); err != nil {
		return nil, nil, "", fmt.Errorf("decode shared SNS signing key: %w", err)
	}
	return parseSigningKey(sk.KeyPEM, sk.CertPEM, "shared SNS signing key", "shared SNS signing certificate")
}

// certName is the SigningCertURL file name of a certificate.
func certName(der []byte) string { return sns.CertificateName(der) }

// deliveryRecord is one line of `trailwatch deliveries`.
type deliveryRecord struct {
	ID              int64           `json:"id"`
	MessageID       string          `json:"messageId"`
	Type            string          `json:"type"`
	Protocol        string          `json:"protocol"`
	Endpoint        string          `json:"endpoint"`
	SubscriptionARN string          `json:"subscriptionArn"`
	TopicARN        string          `json:"topicArn"`
	Status          string          `json:"status"`
	Created         time.Time       `json:"created"`
	NextAttempt     *time.Time      `json:"nextAttempt,omitempty"`
	LastError       string          `json:"lastError,omitempty"`
	Attempts        []attemptRecord `json:"attempts"`
	Body            string          `json:"body,omitempty"`
}

type attemptRecord struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	DurationMS float64   `json:"durationMs"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail"`
}

// runDeliveries is `trailwatch deliveries`: it prints the SNS delivery outbox of a data directory,
// one JSON object per delivery with every recorded attempt, oldest first. It reads the database
// of a running server safely (WAL readers do not block the writer).
func runDeliveries(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deliveries", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", DefaultDataDir, "`directory` of the server's database")
	status := fs.String("status", "", "show only deliveries in this `status`: pending, delivered or failed")
	limit := fs.Int("limit", 100, "show at most `n` deliveries (the most recent ones)")
	body := fs.Bool("body", false, "include each message body")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch *status {
	case "", sns.DeliveryPending, sns.DeliveryDelivered, sns.DeliveryFailed:
	default:
		fmt.Fprintf(stderr, "trailwatch deliveries: --status %q is not pending, delivered or failed\n", *status)
		return 2
	}
	if _, err := os.Stat(filepath.Join(*dataDir, sqlite.FileName)); err != nil {
		fmt.Fprintf(stderr, "trailwatch deliveries: no database in %s\n", *dataDir)
		return 1
	}
	db, err := sqlite.Open(ctx, *dataDir, sqlite.Options{OwnFiles: dataFiles()})
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch deliveries: %v\n", err)
		return 1
	}
	defer db.Close()
	var keep []sns.Delivery
	for after := int64(0); ; {
		page, err := db.Deliveries(ctx, after, 1000)
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch deliveries: %v\n", err)
			return 1
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			if *status == "" || d.Status == *status {
				keep = append(keep, d)
			}
		}
		if len(keep) > *limit {
			keep = keep[len(keep)-*limit:]
		}
		after = page[len(page)-1].ID
	}
	enc := json.NewEncoder(stdout)
	for _, d := range keep {
		r := deliveryRecord{ID: d.ID, MessageID: d.MessageID, Type: d.Type, Protocol: d.Protocol, Endpoint: d.Endpoint,
			SubscriptionARN: d.SubscriptionARN, TopicARN: d.TopicARN, Status: d.Status, Created: d.Created, LastError: d.LastError,
			Attempts: []attemptRecord{}}
		if d.Status == sns.DeliveryPending {
			next := d.NextAttempt
			r.NextAttempt = &next
		}
		if *body {
			r.Body = d.Body
		}
		as, err := db.Attempts(ctx, d.ID)
		if err != nil {
			fmt.Fprintf(stderr, "trailwatch deliveries: %v\n", err)
			return 1
		}
		for _, a := range as {
			r.Attempts = append(r.Attempts, attemptRecord{N: a.N, At: a.At, DurationMS: float64(a.Duration.Microseconds()) / 1000, Outcome: a.Outcome, Detail: a.Detail})
		}
		if err := enc.Encode(r); err != nil {
			return 1
		}
	}
	return 0
}
