// Package telemetry is trailwatch's Prometheus instrumentation: one registry per server, the
// metric families it exports on the metrics listener, and small typed observers that the
// application wires to the hooks of the domain packages (which never import Prometheus).
//
// Every label takes its values from a fixed, small set (source type, service and operation of the
// served APIs, outcome, SNS protocol, alarm state), never from events, log group or topic names:
// an account with thousands of log groups must not turn into thousands of time series. State that
// lives in the store (alarm states, outbox depth, WAL size) is read when Prometheus scrapes, by a
// Collector over a StateSource, rather than kept in sync by counters.
package telemetry

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every family trailwatch exports.
const Namespace = "trailwatch"

// Source is where ingested CloudTrail events came from: the label value of the ingest families.
type Source string

// The ingest sources. File ingestion (`trailwatch ingest`) reaches a server through PutLogEvents.
const (
	SourcePutLogEvents Source = "putlogevents"
	SourceS3           Source = "s3"
	SourceSQS          Source = "sqs"
	SourceEventBridge  Source = "eventbridge"
	SourceFirehose     Source = "firehose"
)

// Sources lists every Source, so that their series exist (at zero) before the first event.
var Sources = []Source{SourcePutLogEvents, SourceS3, SourceSQS, SourceEventBridge, SourceFirehose}

// Unknown is the label value of anything outside a label's known set: an operation no service
// implements, a service the request did not resolve to, a protocol trailwatch does not know.
const Unknown = "unknown"

// API request outcomes, by HTTP status class.
const (
	OutcomeSuccess     = "success"
	OutcomeClientError = "client_error"
	OutcomeServerError = "server_error"
)

// Alarm evaluation kinds and outcomes.
const (
	EvaluationRegular = "regular"
	EvaluationEarly   = "early"
	OutcomeOK         = "ok"
	OutcomeError      = "error"
)

// snsProtocols are the SNS subscription protocols, plus "receiver" for the messages to Slack,
// PagerDuty, Teams and webhook receivers that share the outbox; any other value is reported as
// Unknown.
var snsProtocols = map[string]bool{
	"email": true, "email-json": true, "http": true, "https": true, "sqs": true,
	"lambda": true, "sms": true, "application": true, "firehose": true, "receiver": true,
}

// deliveryOutcomes are notify's attempt outcomes; any other value is reported as Unknown.
var deliveryOutcomes = map[string]bool{"delivered": true, "retry": true, "failed": true}

// Telemetry owns the registry and the families. Its observer methods are safe for concurrent use
// and cheap (a label lookup and an atomic add); a nil *Telemetry observes nothing, so code paths
// with telemetry turned off need no checks.
type Telemetry struct {
	reg          *prometheus.Registry
	now          func() time.Time
	stateTimeout time.Duration
	// apiOps bounds the service and operation labels: signing name → its operation names.
	apiOps atomic.Pointer[map[string]map[string]bool]

	ingestEvents  *prometheus.CounterVec
	ingestBytes   *prometheus.CounterVec
	ingestLag     *prometheus.HistogramVec
	apiRequests   *prometheus.CounterVec
	filterMatches prometheus.Counter
	evaluations   *prometheus.CounterVec
	evalDuration  *prometheus.HistogramVec
	deliveries    *prometheus.CounterVec
	commitLatency prometheus.Histogram
}

// Options configures New.
type Options struct {
	// Now is the clock of ingest lag (now minus eventTime) and outbox ages; nil means time.Now.
	Now func() time.Time
	// StateTimeout bounds how long a scrape waits for the StateSource; zero means 2 s.
	StateTimeout time.Duration
	// Process adds the Go runtime and process collectors (off in unit tests, whose expectations
	// would otherwise depend on the test process).
	Process bool
}

// lagBuckets are the ingest lag histogram's upper bounds in seconds: CloudTrail delivers to S3
// within about 5 minutes and to EventBridge within seconds, so the buckets span a second to a day.
var lagBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400}

// New creates the registry and registers every family.
func New(opts Options) *Telemetry {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StateTimeout <= 0 {
		opts.StateTimeout = 2 * time.Second
	}
	t := &Telemetry{reg: prometheus.NewRegistry(), now: opts.Now, stateTimeout: opts.StateTimeout}
	t.ingestEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "ingest_events_total",
		Help: "CloudTrail events accepted for storage, by source (duplicates included: they were delivered)."}, []string{"source"})
	t.ingestBytes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "ingest_bytes_total",
		Help: "Message bytes of the events counted by trailwatch_ingest_events_total, by source."}, []string{"source"})
	t.ingestLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "ingest_lag_seconds",
		Help: "Time from an event's eventTime (its log event timestamp) to its ingestion, by source.", Buckets: lagBuckets}, []string{"source"})
	t.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "api_requests_total",
		Help: "AWS API requests answered, by service (SigV4 signing name), operation and outcome (HTTP status class)."}, []string{"service", "operation", "outcome"})
	t.filterMatches = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "metric_filter_matches_total",
		Help: "Metric filter matches: the datapoints metric filters derived from log events (default values excluded)."})
	t.evaluations = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "alarm_evaluations_total",
		Help: "Metric alarm evaluations, by kind (regular each period, early on new data) and outcome."}, []string{"kind", "outcome"})
	t.evalDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "alarm_evaluation_duration_seconds",
		Help: "Duration of metric alarm evaluations, by kind.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}, []string{"kind"})
	t.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "sns_delivery_attempts_total",
		Help: "SNS delivery attempts, by subscription protocol and outcome (delivered, retry, failed)."}, []string{"protocol", "outcome"})
	t.commitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "store_commit_duration_seconds",
		Help:    "Time a write transaction waits from being queued until it is durably committed (group commit and WAL sync).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	t.reg.MustRegister(t.ingestEvents, t.ingestBytes, t.ingestLag, t.apiRequests, t.filterMatches, t.evaluations,
		t.evalDuration, t.deliveries, t.commitLatency)
	for _, s := range Sources {
		t.ingestEvents.WithLabelValues(string(s))
		t.ingestBytes.WithLabelValues(string(s))
	}
	if opts.Process {
		t.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return t
}

// SetAPIOperations names the operations of every served AWS service, by SigV4 signing name: the
// only values the service and operation labels of trailwatch_api_requests_total take besides
// Unknown. The server calls it once its services are built.
func (t *Telemetry) SetAPIOperations(ops map[string][]string) {
	if t == nil {
		return
	}
	m := map[string]map[string]bool{}
	for svc, names := range ops {
		set := map[string]bool{}
		for _, op := range names {
			set[op] = true
		}
		m[svc] = set
	}
	t.apiOps.Store(&m)
}

// RegisterState adds the scrape-time gauges read from src (alarm states, outboxes, WAL size).
// It may be called once.
func (t *Telemetry) RegisterState(src StateSource) {
	if t == nil {
		return
	}
	t.reg.MustRegister(&stateCollector{src: src, timeout: t.stateTimeout, now: t.now})
}

// Registry is the registry every family is registered in.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{Registry: t.reg})
}

// Ingested counts events of src that storage accepted, and their message bytes.
func (t *Telemetry) Ingested(src Source, events int, bytes int64) {
	if t == nil || events <= 0 {
		return
	}
	t.ingestEvents.WithLabelValues(string(src)).Add(float64(events))
	t.ingestBytes.WithLabelValues(string(src)).Add(float64(bytes))
}

// Lag observes, for each event timestamp (epoch milliseconds, CloudTrail's eventTime) delivered
// by src, how long before now it happened; a timestamp in the future counts as no lag.
func (t *Telemetry) Lag(src Source, timestamps []int64) {
	if t == nil || len(timestamps) == 0 {
		return
	}
	lag := t.ingestLag.WithLabelValues(string(src))
	now := t.now().UnixMilli()
	for _, ts := range timestamps {
		lag.Observe(float64(max(now-ts, 0)) / 1000)
	}
}

// APIRequest counts one answered AWS API request. service and operation outside the configured
// set are reported as Unknown, so that a client sending made-up operation names cannot create
// series.
func (t *Telemetry) APIRequest(service, operation string, status int) {
	if t == nil {
		return
	}
	var ops map[string]bool
	ok := false
	if m := t.apiOps.Load(); m != nil {
		ops, ok = (*m)[service]
	}
	if !ok {
		service, operation = Unknown, Unknown
	} else if !ops[operation] {
		operation = Unknown
	}
	t.apiRequests.WithLabelValues(service, operation, outcomeOf(status)).Inc()
}

// outcomeOf classifies an HTTP status.
func outcomeOf(status int) string {
	switch {
	case status >= 500 || status == 0:
		return OutcomeServerError
	case status >= 400:
		return OutcomeClientError
	default:
		return OutcomeSuccess
	}
}

// MetricFilterMatches counts n metric filter matches.
func (t *Telemetry) MetricFilterMatches(n int) {
	if t == nil || n <= 0 {
		return
	}
	t.filterMatches.Add(float64(n))
}

// AlarmEvaluated records one metric alarm evaluation: early or regular, how long it took, and
// whether it failed.
func (t *Telemetry) AlarmEvaluated(early bool, d time.Duration, err error) {
	if t == nil {
		return
	}
	kind, outcome := EvaluationRegular, OutcomeOK
	if early {
		kind = EvaluationEarly
	}
	if err != nil {
		outcome = OutcomeError
	}
	t.evaluations.WithLabelValues(kind, outcome).Inc()
	t.evalDuration.WithLabelValues(kind).Observe(d.Seconds())
}

// DeliveryAttempt counts one SNS delivery attempt of protocol with outcome (notify's
// OutcomeDelivered, OutcomeRetry or OutcomeFailed).
func (t *Telemetry) DeliveryAttempt(protocol, outcome string) {
	if t == nil {
		return
	}
	if !snsProtocols[protocol] {
		protocol = Unknown
	}
	if !deliveryOutcomes[outcome] {
		outcome = Unknown
	}
	t.deliveries.WithLabelValues(protocol, outcome).Inc()
}

// Committed records the latency of one committed write transaction.
func (t *Telemetry) Committed(d time.Duration) {
	if t == nil {
		return
	}
	t.commitLatency.Observe(d.Seconds())
}
