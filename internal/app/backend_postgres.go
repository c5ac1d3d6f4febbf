package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store/postgres"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/web"
)

// postgresBackend is the backend of replicas sharing one PostgreSQL database: every domain store
// is the database's, the outboxes are drained through claims held by holder (this replica), and
// datapoints stored here are announced to the other replicas.
type postgresBackend struct {
	*postgres.DB
	holder string
	// claimFor is the claim timeout of both outboxes (DefaultClaimTimeout).
	claimFor time.Duration
	logger   *slog.Logger
}

var _ backend = (*postgresBackend)(nil)

// openPostgres opens (and migrates) the database at url for the replica holder.
func openPostgres(ctx context.Context, url string, opts postgres.Options, holder string, logger *slog.Logger) (*postgresBackend, error) {
	if opts.Logger == nil {
		opts.Logger = logger
	}
	db, err := postgres.Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	return &postgresBackend{DB: db, holder: holder, claimFor: DefaultClaimTimeout, logger: logger}, nil
}

// MetricStore implements backend: the database, announcing every committed batch of datapoints
// (PutMetricData, backfills, SNS's own metrics) to the replicas, whose lease holder evaluates
// the alarms on them early.
func (b *postgresBackend) MetricStore() metrics.Store {
	return notifyingMetrics{DB: b.DB, logger: b.logger}
}

// LogStore implements backend: log groups, streams, events (in compressed blocks) and metric
// filters live in the database, so every replica reads and deduplicates the same events.
func (b *postgresBackend) LogStore() logs.Store { return b.DB }

// DeliveryOutbox implements backend: deliveries are claimed for this replica.
func (b *postgresBackend) DeliveryOutbox() notify.Outbox {
	return postgres.ClaimingOutbox{DB: b.DB, Holder: b.holder, ClaimFor: b.claimFor}
}

// ActionQueue implements backend: alarm actions are claimed for this replica.
func (b *postgresBackend) ActionQueue() alarm.ActionQueue {
	return postgres.ClaimingActionQueue{DB: b.DB, Holder: b.holder, ClaimFor: b.claimFor}
}

// TrailsToRun implements backend.
func (b *postgresBackend) TrailsToRun(ctx context.Context) ([]scopedTrail, error) {
	all, err := b.AllTrails(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]scopedTrail, len(all))
	for i, st := range all {
		out[i] = scopedTrail{Scope: st.Scope, Trail: st.Trail}
	}
	return out, nil
}

// ResourceScopes implements backend: the scopes of the database's alarms, topics, trails and log
// groups.
func (b *postgresBackend) ResourceScopes(ctx context.Context) ([]web.Scope, error) {
	scs, err := b.Scopes(ctx)
	out := make([]web.Scope, len(scs))
	for i, sc := range scs {
		out[i] = web.Scope(sc)
	}
	return out, err
}

// OutboxStats implements backend.
func (b *postgresBackend) OutboxStats(ctx context.Context) ([]telemetry.OutboxStat, error) {
	pending, err := b.PendingDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]telemetry.OutboxStat, 0, len(pending)+1)
	for _, p := range pending {
		out = append(out, telemetry.OutboxStat{Outbox: telemetry.OutboxSNSDelivery, Protocol: p.Protocol, Depth: p.Count, Oldest: p.Oldest})
	}
	n, oldest, err := b.PendingActionCount(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, telemetry.OutboxStat{Outbox: telemetry.OutboxAlarmAction, Protocol: "sns", Depth: n, Oldest: oldest}), nil
}

// WALSize implements backend: PostgreSQL's WAL is the database server's, not this replica's, so
// the gauge stays 0 rather than report one replica's view of a shared server.
func (b *postgresBackend) WALSize() (int64, error) { return 0, nil }

// Replicas implements backend.
func (b *postgresBackend) Replicas() replicas { return b.DB }

// notifyingMetrics is the PostgreSQL metrics store with every committed AddSamples announced to
// the replicas (postgres.DB.NotifySamples).
type notifyingMetrics struct {
	*postgres.DB
	logger *slog.Logger
}

// AddSamples implements metrics.Store. A failed announcement is logged, not returned: the
// datapoints are stored, and the lease holder evaluates them at its next regular round anyway.
func (m notifyingMetrics) AddSamples(ctx context.Context, samples []metrics.Sample) error {
	if err := m.DB.AddSamples(ctx, samples); err != nil {
		return err
	}
	if err := m.NotifySamples(ctx, samples); err != nil {
		m.logger.Warn("announcing new datapoints to the replicas failed", "err", fmt.Errorf("notify samples: %w", err))
	}
	return nil
}
