package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// NOTIFY channels, suffixed with the schema (see channel).
const (
	samplesChannel = "tw_samples_"
	alarmsChannel  = "tw_alarms_"
)

// The channels Options.OnListening names.
const (
	// ChannelSamples is ListenSamples' channel.
	ChannelSamples = "samples"
	// ChannelAlarms is ListenAlarms' channel.
	ChannelAlarms = "alarms"
)

// channel is the NOTIFY channel named base plus the schema Open found current, so that
// deployments (and tests) sharing a database but not a schema do not hear each other. It is the
// channel's name as pg_notify takes it; LISTEN takes it quoted (pgx.Identifier.Sanitize). A
// channel name is at most 63 bytes (pg_notify refuses a longer one, LISTEN truncates it): when
// base and the schema are longer, the schema is replaced by a hash of it.
func (db *DB) channel(base string) string {
	if len(base)+len(db.schema) <= maxChannelName {
		return base + db.schema
	}
	sum := sha256.Sum256([]byte(db.schema))
	return base + hex.EncodeToString(sum[:16])
}

// maxChannelName is PostgreSQL's limit on an identifier, a channel name included (NAMEDATALEN-1).
const maxChannelName = 63

// metricNote is one metric with new datapoints, as NotifySamples sends it.
type metricNote struct {
	Account, Region string
	Metric          metrics.Metric
}

// maxNotePayload keeps each notification under PostgreSQL's 8000-byte payload limit.
const maxNotePayload = 7000

// NotifySamples tells every replica listening (ListenSamples) which metrics just got datapoints,
// so that the replica holding the evaluation lease evaluates their alarms early, within a second
// of a write made on any replica. Notifications are delivered when they are sent (after the
// samples' transaction committed), to listeners that are connected then; a listener that misses
// one still evaluates at the next regular round.
func (db *DB) NotifySamples(ctx context.Context, samples []metrics.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	ch := db.channel(samplesChannel)
	seen := map[string]bool{}
	var batch []metricNote
	size := 0
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		b, err := json.Marshal(batch)
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		batch, size = nil, 0
		if _, err := db.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, ch, string(b)); err != nil {
			return fmt.Errorf("notify samples: %w", err)
		}
		return nil
	}
	for i := range samples {
		s := &samples[i]
		n := metricNote{Account: s.AccountID, Region: s.Region, Metric: s.Metric()}
		b, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		if seen[string(b)] {
			continue
		}
		seen[string(b)] = true
		if size+len(b) > maxNotePayload {
			if err := send(); err != nil {
				return err
			}
		}
		batch, size = append(batch, n), size+len(b)+1
	}
	return send()
}

// ListenSamples listens on one connection of its own until ctx ends and hands each notified
// metric to fn, grouped by scope. It returns ctx's error, or the connection's.
func (db *DB) ListenSamples(ctx context.Context, fn func(scope metrics.Scope, ms []metrics.Metric)) error {
	return db.listen(ctx, samplesChannel, ChannelSamples, func(payload string) {
		var notes []metricNote
		if err := json.Unmarshal([]byte(payload), &notes); err != nil {
			return // not ours
		}
		byScope := map[metrics.Scope][]metrics.Metric{}
		for _, m := range notes {
			sc := metrics.Scope{AccountID: m.Account, Region: m.Region}
			byScope[sc] = append(byScope[sc], m.Metric)
		}
		for sc, ms := range byScope {
			fn(sc, ms)
		}
	})
}

// listen LISTENs on the channel base (see channel) on a connection of its own until ctx ends or the
// connection fails, and hands each notification's payload to fn; once the LISTEN is in place it
// tells Options.OnListening, naming the channel as name.
func (db *DB) listen(ctx context.Context, base, name string, fn func(payload string)) error {
	ch := pgx.Identifier{db.channel(base)}.Sanitize()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", ch, err)
	}
	// The connection ends up LISTENing; it is closed rather than returned to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, `LISTEN `+ch); err != nil {
		return fmt.Errorf("listen on %s: %w", ch, err)
	}
	if db.onListening != nil {
		db.onListening(name)
	}
	every := db.listenPing
	if every <= 0 {
		every = DefaultListenPing
	}
	for {
		// A connection that died silently (a half-open TCP connection after a network fault or a
		// database failover) would otherwise block here for the kernel's keepalive (pgx's 5 min
		// idle, then probes: the better part of an hour) while notifications go unheard: after
		// every quiet interval the connection is pinged, and one that does not answer in time is
		// reported, so the caller listens again on a new one.
		wctx, cancel := context.WithTimeout(ctx, every)
		n, err := pc.WaitForNotification(wctx)
		cancel()
		if err == nil {
			fn(n.Payload)
			continue
		}
		if ctx.Err() != nil || wctx.Err() == nil {
			return fmt.Errorf("wait on %s: %w", ch, err)
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err = pc.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("ping the connection listening on %s: %w", ch, err)
		}
	}
}

// DefaultListenPing is how long a LISTEN connection may stay quiet before it is pinged, and how
// long the ping may take before the connection is given up (Options.ListenPing).
const DefaultListenPing = 15 * time.Second
