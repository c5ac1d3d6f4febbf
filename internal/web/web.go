// Package web is trailwatch's console: the pages an operator opens to see what fired, the
// evidence behind it, whether every account and region is covered and whether alerts get out.
// It is served on the API listener under /console/, embedded in the binary (templates and
// vendored assets through go:embed; nothing is fetched at run time), rendered on the server with
// html/template, with a little JavaScript for live updates and the alarm graph (uPlot).
//
// It reads everything through small interfaces declared here and implemented by the domain
// services (alarm, metrics, logs, sns, trail, receiver) and the store's outbox, so it sees exactly what the
// AWS APIs see and never reads a storage table itself.
//
// # Security contract
//
//   - Login with the API credentials (access key id and secret key), checked by Options.Authenticate
//     in constant time; sessions are kept on the server (an unguessable token in a cookie that is
//     HttpOnly, SameSite=Strict, Path=/, and Secure with the __Host- prefix over TLS); a session ends
//     after IdleTimeout without requests, after MaxAge in any case, and at POST /console/logout.
//     Login attempts are limited per client address (LoginBurst, refilled every LoginRefill). There
//     is no default password.
//   - Every state change is a POST behind net/http's CrossOriginProtection; no GET changes state.
//   - Every response carries ContentSecurityPolicy (own origin only, no inline script, no eval),
//     X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and frame-ancestors 'none'.
//   - Everything read from log events is rendered by html/template (contextual escaping), never as
//     template.HTML; the live feed's script sets every value with textContent.
//
// # Decisions
//
//   - Sessions live in memory: a restart logs everyone out, which is the safe failure, and no session
//     secret is ever written to disk. Idle timeout 30 minutes, absolute 12 hours; logins: a burst of 5
//     per client address, then one every 12 seconds. The address is the connection's peer: forwarding
//     headers are not trusted, so behind a proxy all clients share one budget.
//   - The cookie is Secure (and __Host-) when the listener serves TLS or the public URL is https (a
//     TLS-terminating proxy), since the browser then speaks HTTPS.
//   - The coverage matrix's accounts and regions are the CloudTrail streams' names
//     (<account>_CloudTrail_<region>, as CloudTrail names them), not trailwatch's own scopes: those are
//     where the records come from. A filter is "exact" when its text is Security Hub's CloudWatch.1
//     pattern byte for byte (what the check compares), "same meaning" when it parses to the same
//     pattern, and absent otherwise.
//   - The board's notification column reports the alarm's Action history items of its latest
//     transition: "published to SNS" means the topic accepted the message; each delivery and attempt is
//     on the notifications page.
//   - The event feed keeps the last 500 matches in memory, and matches stored batches only while
//     someone looks (a stream open, or the page shown within 10 minutes): a second evaluation of
//     every batch would otherwise cost ingestion CPU all the time. After a start or a time nobody
//     looked, the next look primes it from the store: the newest 200 events of the 5 most recently
//     active streams of up to 50 log groups with metric filters (bounded reads from the streams'
//     ends). Older matches are reached from an alarm's evidence or the workbench.
//   - Receivers (issue 12) are listed on the notifications page with their settings masked by the
//     receiver package (Receiver.Masked; the console masks again whatever is not in masked form,
//     so a secret can never reach a page), their endpoint <public-url>/receivers/<name>, the
//     subscriptions whose endpoint it is, and their newest message in the outbox with its last
//     attempt. A subscription to a receiver endpoint with no receiver behind it is flagged: its
//     deliveries are answered 404, which SNS counts as delivered, so nobody is notified.
//   - The coverage matrix's notification check passes when an alarm's topic has a confirmed
//     subscription to anything but a receiver endpoint, or a confirmed subscription to a receiver
//     that exists; a confirmed subscription to a receiver endpoint without a receiver counts as
//     reaching nobody.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/trail"
)

// Prefix is the path under which the console is served.
const Prefix = "/console/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Scope is an (account, region) pair of trailwatch resources.
type Scope struct {
	AccountID string
	Region    string
}

// AlarmSource is what the console reads of alarms (*alarm.Service).
type AlarmSource interface {
	All() []*alarm.Record
	Get(scope alarm.Scope, name string) *alarm.Record
	DescribeAlarmHistory(ctx context.Context, scope alarm.Scope, in alarm.HistoryInput) ([]alarm.HistoryItem, string, error)
}

// MetricSource answers the alarm graph's per-minute questions (*metrics.Service).
type MetricSource interface {
	Aggregates(ctx context.Context, scope metrics.Scope, q metrics.AggregateQuery) ([]metrics.Aggregate, error)
}

// LogSource is what the console reads and changes of CloudWatch Logs (*logs.Service). The one
// change is PutMetricFilter, from the workbench.
type LogSource interface {
	DescribeLogGroups(ctx context.Context, sc logs.Scope, in logs.DescribeLogGroupsInput) (logs.DescribeLogGroupsOutput, error)
	DescribeLogStreams(ctx context.Context, sc logs.Scope, in logs.DescribeLogStreamsInput) (logs.DescribeLogStreamsOutput, error)
	DescribeMetricFilters(ctx context.Context, sc logs.Scope, in logs.DescribeMetricFiltersInput) (logs.DescribeMetricFiltersOutput, error)
	FilterLogEvents(ctx context.Context, sc logs.Scope, in logs.FilterLogEventsInput) (logs.FilterLogEventsOutput, error)
	GetLogEvents(ctx context.Context, sc logs.Scope, in logs.GetLogEventsInput) (logs.GetLogEventsOutput, error)
	TestMetricFilter(ctx context.Context, pat string, messages []string) ([]logs.MetricFilterMatch, error)
	PutMetricFilter(ctx context.Context, sc logs.Scope, in logs.PutMetricFilterInput) error
	MatchingFilters(ctx context.Context, sc logs.Scope, group string, messages []string) ([][]string, error)
}

// TopicSource is what the console reads of SNS (*sns.Service).
type TopicSource interface {
	ListTopics(ctx context.Context, sc sns.Scope, nextToken string) ([]string, string, error)
	ListSubscriptions(ctx context.Context, sc sns.Scope, topicARN, nextToken string) ([]sns.SubscriptionSummary, string, error)
}

// DeliveryLog is the SNS delivery outbox, newest first, with each delivery's attempts, and each
// receiver's newest message.
type DeliveryLog interface {
	RecentDeliveries(ctx context.Context, before int64, limit int) ([]sns.Delivery, error)
	Attempts(ctx context.Context, deliveryID int64) ([]sns.Attempt, error)
	// LastReceiverDelivery returns the newest receiver message to a receiver endpoint; ok is
	// false when there is none.
	LastReceiverDelivery(ctx context.Context, endpoint string) (d sns.Delivery, ok bool, err error)
}

// TrailSource is what the console reads of trails (*trail.Service).
type TrailSource interface {
	Describe(ctx context.Context, sc trail.Scope, names []string) ([]trail.Trail, error)
	GetStatus(ctx context.Context, sc trail.Scope, nameOrARN string) (trail.TrailStatus, error)
}

// Endpoint is an ingest endpoint (EventBridge, Firehose) as the sources page shows it.
type Endpoint struct {
	Name     string
	Path     string
	LogGroup string
	// LastDelivery and LastError are what the endpoint saw last (zero and "" before any).
	LastDelivery time.Time
	LastError    string
	LastErrorAt  time.Time
}

// Outbox is the depth of the durable queues alerts go through.
type Outbox struct {
	// Deliveries are pending SNS deliveries by protocol.
	Deliveries []OutboxQueue
	// Actions are pending alarm actions.
	Actions OutboxQueue
}

// OutboxQueue is one queue's depth and the age of its oldest entry.
type OutboxQueue struct {
	Name   string
	Count  int
	Oldest time.Time
}

// HealthSource reports the pipeline's moving parts that live outside the domain services.
type HealthSource interface {
	Endpoints() []Endpoint
	Outbox(ctx context.Context) (Outbox, error)
}

// Options configures a Console. Every source is required.
type Options struct {
	Alarms     AlarmSource
	Metrics    MetricSource
	Logs       LogSource
	Topics     TopicSource
	Deliveries DeliveryLog
	Receivers  ReceiverSource
	Trails     TrailSource
	Health     HealthSource
	// Scopes lists the (account, region) pairs that hold resources.
	Scopes func(ctx context.Context) ([]Scope, error)
	// Home is the server's own scope: the default of forms.
	Home Scope
	// Authenticate checks a login's key pair in constant time and returns the access key id's
	// principal on success.
	Authenticate func(accessKeyID, secretAccessKey string) bool
	// Secure is set when the listener serves TLS: the session cookie is then Secure and named
	// with the __Host- prefix, and responses carry HSTS.
	Secure bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives logins, failed logins and errors; nil discards them.
	Logger *slog.Logger
	// IdleTimeout ends a session unused this long (default 30 minutes); MaxAge ends any session
	// this long after login (default 12 hours).
	IdleTimeout, MaxAge time.Duration
}

// Default session and login limits.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	// LoginBurst failed or successful logins are allowed per client address at once, then one
	// more every LoginRefill.
	LoginBurst  = 5
	LoginRefill = 12 * time.Second
)

// Console is the web console. Its Handler serves everything under Prefix.
type Console struct {
	opts     Options
	now      func() time.Time
	log      *slog.Logger
	pages    *pages
	sessions *sessions
	limiter  *limiter
	feed     *feed
	evidence *evidenceCache
	handler  http.Handler
	// closing is closed by Close: open event streams end, so that a server shutting down does
	// not wait for browser tabs.
	closing   chan struct{}
	closeOnce sync.Once
}

// New checks the options and builds the console. Call Run to start its feed.
func New(opts Options) (*Console, error) {
	if opts.Alarms == nil || opts.Metrics == nil || opts.Logs == nil || opts.Topics == nil || opts.Deliveries == nil || opts.Receivers == nil ||
		opts.Trails == nil || opts.Health == nil || opts.Scopes == nil || opts.Authenticate == nil {
		return nil, errors.New("web: every source and Authenticate are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	p, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("parse console templates: %w", err)
	}
	c := &Console{
		opts: opts, now: opts.Now, log: opts.Logger, pages: p,
		sessions: newSessions(opts.Now, opts.IdleTimeout, opts.MaxAge),
		limiter:  newLimiter(opts.Now, LoginBurst, LoginRefill),
		feed:     newFeed(feedSize, opts.Now),
		evidence: newEvidenceCache(2048),
		closing:  make(chan struct{}),
	}
	c.handler = c.routes()
	return c, nil
}

// Handler serves the console; mount it at Prefix.
func (c *Console) Handler() http.Handler { return c.handler }

// OnStored is the logs service's OnStored hook: it hands the batch to the feed without waiting
// (a full queue drops the batch from the live feed, never slows ingestion).
func (c *Console) OnStored(b logs.StoredBatch) { c.feed.offer(b) }

// Close ends the open event streams (the board's and the feed's) and makes new ones end at
// once. Call it when the HTTP server shuts down (http.Server.RegisterOnShutdown): a stream never
// ends by itself, and Shutdown waits for every request to finish.
func (c *Console) Close() { c.closeOnce.Do(func() { close(c.closing) }) }

// Run matches stored batches against the metric filters for the event feed until ctx ends.
func (c *Console) Run(ctx context.Context) { c.feed.run(ctx, c.opts.Logs, c.log) }

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(static)))
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", c.logout)

	auth := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, c.requireSession(h)) }
	auth("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/board", http.StatusSeeOther)
	})
	auth("GET /console/board", c.board)
	auth("GET /console/board/stream", c.boardStream)
	auth("GET /console/alarms/{account}/{region}/{name}", c.alarmDetail)
	auth("GET /console/alarms/{account}/{region}/{name}/graph.json", c.alarmGraph)
	auth("GET /console/feed", c.feedPage)
	auth("GET /console/feed/stream", c.feedStream)
	auth("GET /console/evidence", c.evidencePage)
	auth("GET /console/coverage", c.coverage)
	auth("GET /console/workbench", c.workbench)
	auth("POST /console/workbench", c.workbench)
	auth("POST /console/workbench/create", c.createFilter)
	auth("GET /console/notifications", c.notifications)
	auth("GET /console/sources", c.sources)
	// Anything else under the prefix: a session still comes first, so that the set of URLs
	// tells nothing to a client without one.
	auth("/console/", func(w http.ResponseWriter, r *http.Request) { c.notFound(w, r, "No such page.") })

	cop := http.NewCrossOriginProtection()
	return securityHeaders(c.opts.Secure, cop.Handler(mux))
}
