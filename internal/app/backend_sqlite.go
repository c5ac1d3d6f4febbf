package app

import (
	"context"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/store/sqlite"
	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/internal/web"
)

// sqliteBackend is the single-process backend: one SQLite database under --data. The process is
// alone, so it holds every lease, claims every round and drains the outboxes unclaimed.
type sqliteBackend struct {
	*sqlite.DB
}

var _ backend = sqliteBackend{}

// MetricStore implements backend.
func (b sqliteBackend) MetricStore() metrics.Store { return b.DB }

// LogStore implements backend.
func (b sqliteBackend) LogStore() logs.Store { return b.DB }

// DeliveryOutbox implements backend.
func (b sqliteBackend) DeliveryOutbox() notify.Outbox { return b.DB }

// ActionQueue implements backend.
func (b sqliteBackend) ActionQueue() alarm.ActionQueue { return b.DB }

// TrailsToRun implements backend.
func (b sqliteBackend) TrailsToRun(ctx context.Context) ([]scopedTrail, error) {
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

// ResourceScopes implements backend.
func (b sqliteBackend) ResourceScopes(ctx context.Context) ([]web.Scope, error) {
	scs, err := b.Scopes(ctx)
	out := make([]web.Scope, len(scs))
	for i, sc := range scs {
		out[i] = web.Scope(sc)
	}
	return out, err
}

// OutboxStats implements backend.
func (b sqliteBackend) OutboxStats(ctx context.Context) ([]telemetry.OutboxStat, error) {
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

// ClaimRound implements backend: the only process runs every round.
func (sqliteBackend) ClaimRound(context.Context, string, time.Time) (bool, error) { return true, nil }

// Replicas implements backend: SQLite has one process, no replicas.
func (sqliteBackend) Replicas() replicas { return nil }
