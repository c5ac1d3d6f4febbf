package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/ingest"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/trail"
	"github.com/trailwatch/trailwatch/internal/web"
)

// backend is what the server needs of its storage: the domain stores, the health probe, and what
// replicas sharing one database coordinate through. Two implement it: sqliteBackend (one process
// under --data, which is alone and so always the leader) and postgresBackend (--database-url,
// any number of replicas).
type backend interface {
	alarm.Store
	sns.Store
	trail.Store
	ingest.ObjectLog
	receiver.Store
	// DeliveryLog is what the web console reads of the SNS outbox: its delivery log and each
	// receiver's newest message (wire_console.go).
	web.DeliveryLog

	// MetricStore is the metrics store; on PostgreSQL it also tells the other replicas of the
	// datapoints it stored (NotifySamples), so that the lease holder evaluates early.
	MetricStore() metrics.Store
	// LogStore is the log-event store.
	LogStore() logs.Store
	// DeliveryOutbox is the SNS outbox as this replica drains it: on PostgreSQL each delivery it
	// returns is claimed for this replica.
	DeliveryOutbox() notify.Outbox
	// ActionQueue is the alarm action outbox as this replica drains it (claimed, on PostgreSQL).
	ActionQueue() alarm.ActionQueue
	// PruneDeliveries deletes finished deliveries created before before.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
	// TrailsToRun lists every trail of every scope, for starting their sources.
	TrailsToRun(ctx context.Context) ([]scopedTrail, error)
	// ResourceScopes lists the (account, region) pairs that hold resources, sorted: the scopes
	// the web console asks the domain services about.
	ResourceScopes(ctx context.Context) ([]web.Scope, error)
	// OutboxStats reports the pending part of both outboxes (the telemetry gauges and the web
	// console's sources page).
	OutboxStats(ctx context.Context) ([]telemetry.OutboxStat, error)
	// WALSize is the write-ahead log's size in bytes (0 where the server does not own the log).
	WALSize() (int64, error)
	// CompactBacklog counts the log group hours whose small blocks compaction has yet to merge.
	CompactBacklog(ctx context.Context) (int, error)
	// Ready reports whether the database answers and its migrations ran (/healthz, /readyz).
	Ready(ctx context.Context) error
	// ClaimRound reports whether this replica runs the round of the periodic job name that
	// starts at slot: true for exactly one replica per slot (always true on SQLite).
	ClaimRound(ctx context.Context, name string, slot time.Time) (bool, error)
	// Replicas is what replicas sharing the database coordinate through; nil for a backend
	// that only one process uses (SQLite), where every lease is this process's.
	Replicas() replicas
	// Close releases the database.
	Close() error
}

// replicas is the coordination of replicas sharing one database (internal/store/postgres).
type replicas interface {
	// TryLease and ReleaseLease are what postgres.Leader keeps a lease with.
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (postgres.Grant, bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
	// SharedValue returns the deployment-wide value name, creating it with create the first time.
	SharedValue(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, bool, error)
	// ListenSamples hands fn the metrics any replica stored datapoints of, until ctx ends.
	ListenSamples(ctx context.Context, fn func(scope metrics.Scope, ms []metrics.Metric)) error
	// NotifySamples tells the listening replicas of new datapoints.
	NotifySamples(ctx context.Context, samples []metrics.Sample) error
	// ListenAlarms hands fn the key of every alarm any replica changed, until ctx ends.
	ListenAlarms(ctx context.Context, fn func(alarm.AlarmKey)) error
}

// scopedTrail is a trail with its scope, as TrailsToRun lists them.
type scopedTrail struct {
	Scope trail.Scope
	Trail trail.Trail
}

// Names of the leases and rounds replicas share (the rows of the leases and rounds tables).
const (
	// leaseAlarms is the lease under which one replica evaluates alarms; its token fences every
	// transition the scheduler writes.
	leaseAlarms = "alarm-evaluation"
	// leaseIngest is the lease under which one replica runs every S3/SQS trail source. One lease
	// for all sources rather than one per source: sources are few, a trail change on any replica
	// must reach the one running them, and the processed-object record and eventID dedup make a
	// short overlap at a takeover harmless (an object is stored once whoever reads it).
	leaseIngest = "ingest-sources"
	// roundRetention and roundCompaction are the once-per-round jobs (ClaimRound).
	roundRetention  = "retention-sweep"
	roundCompaction = "metric-compaction"
	roundPrune      = "delivery-prune"
)

// DefaultClaimTimeout is how long a replica's claim on an SNS delivery or an alarm action lasts
// before another replica may take it over. It must be longer than the slowest claimed batch
// takes to send, or a slow but live replica's message would be sent again by another. The SNS
// worker claims 4×Concurrency (64) deliveries at once and sends 16 at a time, so a batch is at
// most four waves; the slowest send is an SMTP session (notify.Mailer's 30 s timeout), an HTTP/S
// one is bounded by notify.HTTPTimeout (15 s). Four waves of 30 s are two minutes; five minutes
// leaves a wide margin, and is the longest a message held by a replica killed mid-send waits
// before another replica sends it. The alarm action dispatcher's sends are writes to the local
// SNS outbox, far faster.
const DefaultClaimTimeout = 5 * time.Minute

// openBackend opens the storage the options name: PostgreSQL with DatabaseURL, else SQLite under
// DataDir.
func (s *Server) openBackend(ctx context.Context) (backend, error) {
	if s.opts.DatabaseURL != "" {
		pgOpts := postgres.Options{Now: s.now, OnListening: s.listening.listened}
		b, err := openPostgres(ctx, s.opts.DatabaseURL, pgOpts, s.replicaID(), s.logger)
		if err != nil {
			return nil, err
		}
		if s.opts.ClaimTimeout > 0 {
			b.claimFor = s.opts.ClaimTimeout
		}
		return b, nil
	}
	dbOpts := sqlite.Options{Now: s.now, OwnFiles: dataFiles(), Logger: s.logger}
	if s.tel != nil {
		dbOpts.OnCommit = s.tel.Committed
	}
	db, err := sqlite.Open(ctx, s.opts.DataDir, dbOpts)
	if err != nil {
		return nil, err
	}
	return sqliteBackend{db}, nil
}

// replicaID is this replica's name in leases and claims: Options.ReplicaID, else the host name,
// the process id and a random suffix, so that a restarted process (same host, maybe the same
// pid in a container) is a new holder and never mistakes its predecessor's claims for its own.
func (s *Server) replicaID() string {
	s.idOnce.Do(func() {
		if s.opts.ReplicaID != "" {
			s.id = s.opts.ReplicaID
			return
		}
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "trailwatch"
		}
		s.id = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomString(8, "abcdefghijklmnopqrstuvwxyz0123456789"))
	})
	return s.id
}
