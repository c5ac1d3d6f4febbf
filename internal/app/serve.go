package app

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/web"
)

// Defaults of `trailwatch serve`. The port is not LocalStack's 4566, so both can run side by side.
const (
	DefaultListen    = "127.0.0.1:4590"
	DefaultDataDir   = "trailwatch-data"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

// Options configures a trailwatch server. The zero value is not valid; start from DefaultOptions.
type Options struct {
	// Listen is the TCP address of the one listener that serves the AWS API and /healthz.
	Listen string
	// DataDir holds the SQLite database and the generated credentials; unused with DatabaseURL,
	// where the generated credentials and the SNS signing key live in the database.
	DataDir string
	// DatabaseURL, when set (--database-url or TRAILWATCH_DATABASE_URL), names the PostgreSQL
	// database that several replicas share (issue 16, backend_postgres.go); DataDir is then
	// optional.
	DatabaseURL string
	// ReplicaID names this replica in leases and claims; empty means host name, process id and
	// a random suffix (replicaID). Only used with DatabaseURL.
	ReplicaID string
	// ClaimTimeout is how long this replica's claims on outbox messages last; zero means
	// DefaultClaimTimeout. Only used with DatabaseURL.
	ClaimTimeout time.Duration
	// LeaseTTL is the time to live of the alarm evaluation and ingest leases; zero means
	// postgres.DefaultLeaseTTL. Only used with DatabaseURL.
	LeaseTTL time.Duration

	// Region is the region of the credentials' default scope and of resources created without one.
	Region string
	// AccountID is the 12-digit account every key of this server acts in.
	AccountID string
	// TLSCert and TLSKey, both set, make the listener serve HTTPS.
	TLSCert, TLSKey string
	// AccessKeyID and SecretAccessKey, both set, are the API credentials; when both are empty a pair is
	// generated on first start and kept in DataDir.
	AccessKeyID, SecretAccessKey string
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Stdout receives the one-time notice of generated credentials; nil discards it.
	Stdout io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ShutdownTimeout bounds how long in-flight requests may take to finish on shutdown.
	ShutdownTimeout time.Duration

	// PublicURL is the base of the links trailwatch puts in SNS messages (confirmation and
	// unsubscribe links, SigningCertURL); empty means http(s)://<Listen>.
	PublicURL string
	// SMTPAddr (host:port) is the mail server email subscriptions are delivered through; empty
	// leaves email deliveries waiting in the outbox.
	SMTPAddr string
	// SMTPFrom is the sender address of SNS emails.
	SMTPFrom string
	// SMTPTLS is starttls, tls (implicit), opportunistic (the default) or none.
	SMTPTLS string
	// SMTPUser and SMTPPassword authenticate to the mail server when SMTPUser is set.
	SMTPUser, SMTPPassword string
	// SNSAllowPrivate lets HTTP/S subscriptions deliver to loopback, link-local and private
	// addresses, which the SSRF guard refuses by default.
	SNSAllowPrivate bool
	// ReceiverCertHosts are where the signing certificates (and SubscribeURLs) of real AWS SNS
	// messages delivered to receiver endpoints may be; empty means sns.<region>.amazonaws.com
	// (receiverapi.Verifier.AllowedHosts).
	ReceiverCertHosts []string
	// ReceiverSNSAccounts are the AWS accounts whose real SNS topics may deliver to receiver
	// endpoints ("*": any); empty means none (receiverapi.Verifier.AllowedAccounts says why).
	ReceiverSNSAccounts []string
	// Ingest configures the CloudTrail sources and delivery endpoints (wire_ingest.go).
	Ingest IngestOptions
	// MetricsListen, when set, is the TCP address of a second, plain-HTTP listener that serves
	// Prometheus metrics at MetricsPath and nothing else; empty (the default) turns metrics off.
	// It is separate so that the API listener, which may face the internet, tells nothing about
	// the account to unauthenticated clients.
	MetricsListen string
}

// DefaultOptions returns the options of `trailwatch serve` without flags, with credentials taken from
// TRAILWATCH_ACCESS_KEY_ID and TRAILWATCH_SECRET_ACCESS_KEY when set.
func DefaultOptions() Options {
	return Options{
		Listen:          DefaultListen,
		DataDir:         DefaultDataDir,
		DatabaseURL:     os.Getenv("TRAILWATCH_DATABASE_URL"),
		Region:          DefaultRegion,
		AccountID:       DefaultAccountID,
		AccessKeyID:     os.Getenv("TRAILWATCH_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("TRAILWATCH_SECRET_ACCESS_KEY"),
		ShutdownTimeout: 30 * time.Second,
		SMTPTLS:         notify.TLSOpportunistic,
		SMTPPassword:    os.Getenv("TRAILWATCH_SMTP_PASSWORD"),
		Ingest:          DefaultIngestOptions(),
	}
}

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// validate reports every problem with the options at once.
func (o *Options) validate() error {
	var errs []error
	if o.Listen == "" {
		errs = append(errs, errors.New("--listen must not be empty"))
	}
	if o.MetricsListen != "" && o.MetricsListen == o.Listen && !strings.HasSuffix(o.Listen, ":0") {
		errs = append(errs, errors.New("--metrics-listen must differ from --listen"))
	}
	if o.DataDir == "" && o.DatabaseURL == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if o.DatabaseURL != "" {
		if err := databaseURLError(o.DatabaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if !regionRe.MatchString(o.Region) {
		errs = append(errs, fmt.Errorf("--region %q is not a region name such as us-east-1", o.Region))
	}
	if !accountIDRe.MatchString(o.AccountID) {
		errs = append(errs, fmt.Errorf("--account-id %q is not a 12-digit account id", o.AccountID))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		errs = append(errs, errors.New("TRAILWATCH_ACCESS_KEY_ID and TRAILWATCH_SECRET_ACCESS_KEY go together"))
	}
	if o.PublicURL != "" {
		if u, err := url.Parse(o.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--public-url %q is not an http(s) URL such as https://alerts.example.com", o.PublicURL))
		}
	}
	if o.SMTPAddr != "" || o.SMTPFrom != "" {
		m := notify.Mailer{Addr: o.SMTPAddr, From: o.SMTPFrom, TLS: o.SMTPTLS}
		if err := m.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--smtp-addr/--smtp-from/--smtp-tls: %w", err))
		}
	}
	return errors.Join(errs...)
}

// databaseURLError says what is wrong with the form of a --database-url, nil when nothing.
func databaseURLError(u string) error {
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return errors.New("--database-url must be a postgres:// URL such as postgres://trailwatch@db.example.com/trailwatch")
	}
	return nil
}

// Server is a running or runnable trailwatch server.
type Server struct {
	opts Options
	// ingestRoutes are the EventBridge and Firehose endpoints that wire adds to the mux.
	ingestRoutes map[string]http.Handler
	logger       *slog.Logger
	now          func() time.Time

	sns *snsParts // set by wireSNS during Run
	// endpoints records the ingest endpoints' last delivery and error for the console; console
	// is the web console, set by wire during Run.
	endpoints *endpointHealth
	console   *web.Console
	// anonymous is the budget of the bodies read before their sender is authenticated, shared by
	// the API's unsigned requests and the receiver endpoints (awsapi.AnonymousBodies).
	anonymous *awsapi.AnonymousBodies

	// tel is the Prometheus telemetry, nil without --metrics-listen (its observers then do
	// nothing); storeReady is the store's readiness probe, set once storage is open.
	tel        *telemetry.Telemetry
	storeReady func(context.Context) error
	// shared is set, with the PostgreSQL backend, to the database the replicas share: /healthz
	// then also says whether it answers.
	shared replicas
	// leases are this replica's leases (PostgreSQL only), for /readyz and tests.
	leases *replicaLeases
	// listening records the replica's LISTEN connections (PostgreSQL only), for /readyz.
	listening   listeners
	metricsAddr atomic.Value // string, set once the metrics listener listens

	idOnce sync.Once
	id     string // replicaID's

	ready chan struct{}
	addr  atomic.Value // string, set once listening
	live  atomic.Bool  // false while starting and shutting down: /healthz answers 503
}

// New validates the options and returns a server ready to Run.
func New(opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("invalid options: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	return &Server{opts: opts, logger: opts.Logger, now: opts.Now, ready: make(chan struct{}), endpoints: &endpointHealth{now: opts.Now}, anonymous: awsapi.NewAnonymousBodies()}, nil
}

// Ready is closed once the server accepts requests.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the listener's address; valid after Ready is closed.
func (s *Server) Addr() string {
	a, _ := s.addr.Load().(string)
	return a
}

// MetricsAddr is the metrics listener's address, "" without one; valid after Ready is closed.
func (s *Server) MetricsAddr() string {
	a, _ := s.metricsAddr.Load().(string)
	return a
}

// Run opens storage, serves until ctx is cancelled, then shuts down gracefully: it stops accepting, lets
// in-flight requests finish, stops background work and closes storage.
func (s *Server) Run(ctx context.Context) error {
	if s.opts.MetricsListen != "" {
		s.tel = telemetry.New(telemetry.Options{Now: s.now, Process: true})
	}
	var cred Credential
	if s.opts.DatabaseURL == "" {
		// As before backends: the key pair is read or generated before the database is opened.
		c, err := s.credential(ctx, nil)
		if err != nil {
			return err
		}
		cred = c
	}
	b, err := s.openBackend(ctx)
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer b.Close()
	s.storeReady = b.Ready
	if rep := b.Replicas(); rep != nil {
		s.shared = rep
		c, err := s.credential(ctx, rep)
		if err != nil {
			return err
		}
		cred = c
	}

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	defer background.Wait()
	defer stopBackground()

	snsParts, err := s.wireSNS(bgCtx, b, &background)
	if err != nil {
		return err
	}
	s.sns = snsParts
	services, err := s.wire(bgCtx, b, cred, &background)
	if err != nil {
		return err
	}
	services = append(services, snsParts.api)
	apiCfg := awsapi.Config{
		Services:    services,
		Credentials: &keyStore{accountID: s.opts.AccountID, keys: map[string]string{cred.AccessKeyID: cred.SecretAccessKey}},
		Now:         s.now,
		Logger:      s.logger,
		Anonymous:   s.anonymous,
	}
	if s.tel != nil {
		s.tel.SetAPIOperations(apiOperations(services))
		apiCfg.OnRequest = s.observeRequest
	}
	api, err := awsapi.NewHandler(apiCfg)
	if err != nil {
		return fmt.Errorf("build API: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	for pattern, h := range snsParts.pages {
		mux.Handle(pattern, h)
	}
	for p, h := range s.ingestRoutes {
		mux.Handle(p, h)
	}
	mux.Handle(web.Prefix, s.console.Handler())
	// "/console" itself too: otherwise this mux answers it with its own redirect to "/console/",
	// without the console's security headers.
	mux.Handle(strings.TrimSuffix(web.Prefix, "/"), s.console.Handler())
	mux.Handle("/", api)

	var metricsSrv *http.Server
	if s.tel != nil {
		mln, err := net.Listen("tcp", s.opts.MetricsListen)
		if err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET "+MetricsPath, s.tel.Handler())
		metricsSrv = newHTTPServer(metricsMux, s.logger)
		s.metricsAddr.Store(mln.Addr().String())
		go func() { _ = metricsSrv.Serve(mln) }()
		defer metricsSrv.Close()
		s.logger.Info("trailwatch metrics", "url", "http://"+mln.Addr().String()+MetricsPath)
	}

	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(mux, s.logger)
	srv.RegisterOnShutdown(s.console.Close) // the console's event streams never end by themselves
	scheme := "http"
	if s.opts.TLSCert != "" {
		certificate, err := tls.LoadX509KeyPair(s.opts.TLSCert, s.opts.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	s.addr.Store(ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.live.Store(true)
	close(s.ready)
	if s.opts.DatabaseURL == "" {
		s.logger.Info("trailwatch serving", "url", scheme+"://"+ln.Addr().String(), "region", s.opts.Region, "account", s.opts.AccountID, "data", s.opts.DataDir)
	} else {
		s.logger.Info("trailwatch serving", "url", scheme+"://"+ln.Addr().String(), "region", s.opts.Region, "account", s.opts.AccountID, "replica", s.replicaID())
	}

	select {
	case err := <-serveErr:
		s.live.Store(false)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.live.Store(false)
	s.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shut down metrics server: %w", err)
		}
	}
	return nil
}

// credential returns the configured key pair, or the generated one, generating and announcing it
// on first start: kept in the data directory (shared nil), or in the database the replicas share,
// so that every replica accepts the same key.
func (s *Server) credential(ctx context.Context, shared replicas) (Credential, error) {
	if s.opts.AccessKeyID != "" {
		return Credential{AccessKeyID: s.opts.AccessKeyID, SecretAccessKey: s.opts.SecretAccessKey}, nil
	}
	if shared != nil {
		cred, created, err := sharedCredential(ctx, shared)
		if err != nil {
			return Credential{}, err
		}
		if created {
			fmt.Fprintf(s.opts.Stdout, "trailwatch generated API credentials (kept in the database, shown only now):\n"+
				"  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n  export AWS_DEFAULT_REGION=%s\n",
				cred.AccessKeyID, cred.SecretAccessKey, s.opts.Region)
		}
		return cred, nil
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o700); err != nil {
		return Credential{}, fmt.Errorf("create data directory: %w", err)
	}
	cred, created, err := loadOrCreateCredential(s.opts.DataDir, s.logger.Warn)
	if err != nil {
		return Credential{}, err
	}
	if created {
		fmt.Fprintf(s.opts.Stdout, "trailwatch generated API credentials (kept in %s, shown only now):\n"+
			"  export AWS_ACCESS_KEY_ID=%s\n  export AWS_SECRET_ACCESS_KEY=%s\n  export AWS_DEFAULT_REGION=%s\n",
			s.opts.DataDir, cred.AccessKeyID, cred.SecretAccessKey, s.opts.Region)
	}
	return cred, nil
}

// healthz answers 200 while the server is live, 503 while it starts or stops. With the
// PostgreSQL backend it also says whether this replica reaches the database (503 "database
// unreachable" when a one-row read fails within readyTimeout): a replica cut off from the
// database can serve nothing. SQLite's database is a local file, not checked here (/readyz reads it).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.live.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "starting or stopping\n")
		return
	}
	if s.shared != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.storeReady(ctx); err != nil {
			s.logger.Warn("health probe: database unreachable", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "database unreachable\n")
			return
		}
	}
	io.WriteString(w, "ok\n")
}

// runServe is `trailwatch serve`.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts := DefaultOptions()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.Listen, "listen", opts.Listen, "`address` of the API listener")
	fs.StringVar(&opts.DataDir, "data", opts.DataDir, "`directory` for the database and generated credentials")
	// The flag's default stays empty: flag prints a non-empty default in the usage (-h, a bad
	// flag), and TRAILWATCH_DATABASE_URL may hold a password. The variable applies after Parse.
	envDatabaseURL := opts.DatabaseURL
	fs.StringVar(&opts.DatabaseURL, "database-url", "", "PostgreSQL `URL` shared by replicas, instead of SQLite under --data (default $TRAILWATCH_DATABASE_URL)")
	fs.StringVar(&opts.ReplicaID, "replica-id", "", "`name` of this replica in leases and claims (default host name, process id and a random suffix; with --database-url)")
	fs.DurationVar(&opts.ClaimTimeout, "claim-timeout", 0, "how long this replica's claim on an outbox message lasts before another replica may send it (default 5m; with --database-url)")
	fs.StringVar(&opts.Region, "region", opts.Region, "default `region`")
	fs.StringVar(&opts.AccountID, "account-id", opts.AccountID, "12-digit AWS account `id` of this server")
	fs.StringVar(&opts.TLSCert, "tls-cert", "", "PEM certificate `file`; with --tls-key the listener serves HTTPS")
	fs.StringVar(&opts.TLSKey, "tls-key", "", "PEM private key `file`")
	fs.StringVar(&opts.PublicURL, "public-url", "", "base `URL` of links in SNS messages (default http(s)://<listen>)")
	fs.StringVar(&opts.SMTPAddr, "smtp-addr", "", "SMTP server `host:port` for email subscriptions")
	fs.StringVar(&opts.SMTPFrom, "smtp-from", "", "sender `address` of SNS emails")
	fs.StringVar(&opts.SMTPTLS, "smtp-tls", opts.SMTPTLS, "SMTP TLS `mode`: starttls, tls (implicit), opportunistic or none")
	fs.StringVar(&opts.SMTPUser, "smtp-user", "", "SMTP `user` name (password from TRAILWATCH_SMTP_PASSWORD)")
	fs.BoolVar(&opts.SNSAllowPrivate, "sns-allow-private-endpoints", false, "let HTTP/S subscriptions reach loopback, link-local and private addresses")
	fs.Func("receiver-sns-cert-hosts", "comma-separated `hosts` where real AWS SNS signing certificates of messages to receiver endpoints may be (default: sns.<region>.amazonaws.com; http://host:port for tests)", func(v string) error {
		for h := range strings.SplitSeq(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				opts.ReceiverCertHosts = append(opts.ReceiverCertHosts, h)
			}
		}
		return nil
	})
	fs.Func("receiver-sns-accounts", "comma-separated AWS `account IDs` whose real SNS topics may deliver to receiver endpoints, or * for any (default: none)", func(v string) error {
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				opts.ReceiverSNSAccounts = append(opts.ReceiverSNSAccounts, a)
			}
		}
		return nil
	})
	fs.StringVar(&opts.MetricsListen, "metrics-listen", "", "`address` of a separate listener serving Prometheus metrics at "+MetricsPath+" (default: off)")
	opts.Ingest.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trailwatch serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if opts.DatabaseURL == "" {
		opts.DatabaseURL = envDatabaseURL
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts.Stdout = stdout
	srv, err := New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "trailwatch serve: %v\n", err)
		return 2
	}
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "trailwatch serve: %v\n", err)
		return 1
	}
	return 0
}

// newHTTPServer builds the listener's server. Every phase of a connection has a deadline, so that a
// client cannot hold a connection (and what its handler buffered) by sending slowly: the headers
// within 10 s, the whole request, body included, within 2 minutes (a 96 MiB Firehose delivery at
// 0.8 MiB/s; AWS API bodies are at most 10 MiB), and the response within 3 minutes of the headers
// (Go starts the write deadline when the headers are read, so it covers the body's read too).
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      3 * time.Minute,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
