// Package sqlite is trailwatch's embedded storage backend: one SQLite database file in the data
// directory, opened through the pure-Go driver modernc.org/sqlite so the binary needs no cgo.
//
// The database runs in WAL mode with synchronous=FULL: a transaction that has committed survives a
// kill -9 or a power cut, which is what lets the API acknowledge PutLogEvents only after its events and
// metric datapoints are durable. Writes go through a single connection (SQLite allows one writer at a
// time; serialising in Go avoids SQLITE_BUSY storms), reads use a small pool that WAL lets run beside
// the writer.
//
// Each domain package declares the store interface it needs; DB implements all of them, one file per
// domain (logs.go, metrics.go, ...), each with its own embedded schema_<part>_<NNN>.sql migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the name of the database file inside the data directory.
const FileName = "trailwatch.db"

//go:embed schema_*.sql
var schemaFS embed.FS

// DB is the SQLite backend. Its methods are safe for concurrent use.
type DB struct {
	path  string
	write *sql.DB // exactly one connection: all writes are serialised here
	read  *sql.DB // a pool of read-only connections
	now   func() time.Time
}

// Options tunes Open; the zero value is the production default.
type Options struct {
	// Now is the clock used for bookkeeping timestamps (creation and ingestion times); nil means
	// time.Now.
	Now func() time.Time
	// ReadConns is the size of the read pool; zero means 4.
	ReadConns int
}

// Open opens (creating if needed) the database in dir and applies pending migrations.
func Open(ctx context.Context, dir string, opts Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 4
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db := &DB{path: path, write: write, read: read, now: now}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes both connection pools. A WAL checkpoint runs as the last connection closes.
func (db *DB) Close() error {
	rerr := db.read.Close()
	werr := db.write.Close()
	if werr != nil {
		return fmt.Errorf("close database: %w", werr)
	}
	if rerr != nil {
		return fmt.Errorf("close database: %w", rerr)
	}
	return nil
}

// migrate applies, in name order, every embedded schema file not yet recorded as applied. A migration
// file is never edited once released; a schema change is a new file.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(schemaFS, "schema_*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.applyMigration(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, name string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var seen int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&seen); err != nil {
		return fmt.Errorf("check migration %s: %w", name, err)
	}
	if seen > 0 {
		return nil
	}
	body, err := schemaFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("apply migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, db.now().UnixMilli()); err != nil {
		return fmt.Errorf("record migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration %s: %w", name, err)
	}
	return nil
}

// withTx runs fn in a write transaction and commits it when fn returns nil.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}
