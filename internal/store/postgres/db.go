// Package postgres is trailwatch's shared storage backend: one PostgreSQL database that several
// trailwatch replicas use at once, through pgx. It implements the same domain stores as
// internal/store/sqlite (and passes the same conformance suites), plus what replicas need to
// coordinate: values generated once and shared (credentials, the SNS signing key), leases with
// fencing tokens, outbox claims and once-per-round jobs.
//
// Where SQLite's single writer serialises every write, PostgreSQL runs transactions side by side, so
// each read-modify-write here takes a row lock first (the metric's series row, the trail row, the
// alarm action row) and locks are taken in a fixed order, so that two replicas never lose each
// other's writes or deadlock.
//
// Log events are stored in the compressed blocks of issue 15 (package logblock), as in SQLite, with
// the metric-filter samples of an append committed in the append's transaction (logs_blocks.go).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trailwatch/trailwatch/internal/store/logblock"
)

//go:embed schema_*.sql
var schemaFS embed.FS

// migrationLockKey is the first key of the advisory lock that serialises migrations; the second is
// the hash of the current schema, so databases of different schemas (tests) do not wait for each
// other. The value spells "tw" in ASCII.
const migrationLockKey = 0x7477

// DB is the PostgreSQL backend. Its methods are safe for concurrent use, by any number of
// processes on the same database.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// schema is the current schema at Open (the URL's search_path, "public" by default): it
	// names the NOTIFY channels (see channel).
	schema string
	// onListening is Options.OnListening.
	onListening func(channel string)
	// listenPing is Options.ListenPing.
	listenPing time.Duration
	logger     *slog.Logger
	// blocks encodes and decodes log blocks (logs_blocks.go); compactKick wakes compactLoop, which
	// stops when quit is closed and which Close waits for.
	blocks      *logblock.Codec
	compactKick chan struct{}
	quit        chan struct{}
	compactor   sync.WaitGroup
	closeOnce   sync.Once
}

// Options tunes Open; the zero value is the production default.
type Options struct {
	// Now is the clock for bookkeeping timestamps; nil means time.Now. Leases and claims use the
	// database's clock instead, so that replicas with skewed clocks still agree on expiry.
	Now func() time.Time
	// MaxConns bounds the connection pool; zero means pgxpool's default (the larger of 4 and the
	// number of CPUs).
	MaxConns int32
	// OnListening, when non-nil, is called each time a LISTEN of ListenSamples or ListenAlarms
	// is in place (again, after a reconnection), with ChannelSamples or ChannelAlarms: from then
	// on that listener hears every notification. A server is ready for traffic only once it
	// listens, or it would miss what other replicas announce meanwhile.
	OnListening func(channel string)
	// ListenPing is how long a LISTEN connection may stay quiet before it is pinged, and how long
	// the ping may take before the connection is given up; zero means DefaultListenPing.
	ListenPing time.Duration
	// Logger receives the background log-block compactor's warnings; nil discards them.
	Logger *slog.Logger
	// noCompactor, when set (by tests that run compaction rounds themselves), starts no background
	// compactor, whose rounds would race theirs.
	noCompactor bool
}

// Open connects to the database at url (a postgres:// URL or a libpq keyword/value string) and
// applies the migrations it lacks. Several processes may call Open on one database at once: the
// migrations run under an advisory lock, each in its own transaction, so exactly one process applies
// each and the others find it applied.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	codec, err := logblock.NewCodec()
	if err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool, now: now, onListening: opts.OnListening, listenPing: opts.ListenPing, logger: opts.Logger, blocks: codec,
		compactKick: make(chan struct{}, 1), quit: make(chan struct{})}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&db.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("read schema: %w", err)
	}
	if !opts.noCompactor {
		db.compactor.Go(db.compactLoop)
		db.kickCompactor() // small blocks left by the last run of any replica
	}
	return db, nil
}

// Close stops the compactor and closes every connection of the pool.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.quit)
		db.compactor.Wait()
		db.pool.Close()
	})
	return nil
}

// migration is one embedded schema file.
type migration struct {
	name string // file name without "schema_" and ".sql", e.g. "010_metrics"
	sql  string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(schemaFS, "schema_*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for _, n := range names {
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		out = append(out, migration{name: strings.TrimSuffix(strings.TrimPrefix(n, "schema_"), ".sql"), sql: string(b)})
	}
	return out, nil
}

// migrate applies the migrations not yet recorded in schema_migrations, holding the advisory lock
// for the whole run on one connection, so replicas starting together apply each migration once.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLockKey); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer func() {
		// A failed unlock leaves the lock to the session, which the pool closes below.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLockKey); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create migration table: %w", err)
	}
	applied := map[string]bool{}
	rows, err := conn.Query(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read applied migrations: %w", err)
	}
	for _, n := range names {
		applied[n] = true
	}
	for _, m := range ms {
		if applied[m.name] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied) VALUES ($1, $2)`, m.name, db.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	return nil
}

// withTx runs fn in a read-committed transaction and commits it, or rolls it back when fn or the
// commit fails.
func (db *DB) withTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// Ready reports whether the database answers a read of the format row the first migration wrote,
// so a nil error also says the migrations ran: the server's readiness and health probe. ctx
// should carry a short deadline.
func (db *DB) Ready(ctx context.Context) error {
	var format string
	if err := db.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'format'`).Scan(&format); err != nil {
		return fmt.Errorf("query database: %w", err)
	}
	return nil
}

// errNoRows reports whether err says a query returned no row.
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
