// Package sqlite is trailwatch's embedded storage backend: one SQLite database file in the data
// directory, opened through the pure-Go driver modernc.org/sqlite so the binary needs no cgo.
//
// The database runs in WAL mode, and no write is acknowledged before the WAL holding it is fsynced: a
// transaction its caller was told committed survives a kill -9 or a power cut, which is what lets the API
// acknowledge PutLogEvents only after its events and metric datapoints are durable. The fsync is made by
// a goroutine of its own, one for every group committed meanwhile, rather than by SQLite inside each
// commit (synchronous=NORMAL plus syncLoop; see withTx). Writes go through a single connection (SQLite
// allows one writer at a time; serialising in Go avoids SQLITE_BUSY storms), reads use a small pool that
// WAL lets run beside the writer.
//
// Each domain package declares the store interface it needs; DB implements all of them, one file per
// domain (logs.go, metrics.go, ...), each with its own embedded schema_<part>_<NNN>.sql migrations.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailwatch/trailwatch/internal/store/logblock"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the name of the database file inside the data directory.
const FileName = "trailwatch.db"

//go:embed schema_*.sql
var schemaFS embed.FS

// DB is the SQLite backend. Its methods are safe for concurrent use.
type DB struct {
	path  string
	write *sql.DB // exactly one connection, used only by the committer goroutine (and migrations)
	read  *sql.DB // a pool of read-only connections
	ckpt  *sql.DB // one connection for WAL checkpoints
	now   func() time.Time

	commits   chan *txRequest // write transactions waiting for the committer
	quit      chan struct{}   // closed by Close: the committer drains the queue and stops
	committer sync.WaitGroup

	// synced receives the committer's committed groups; syncLoop makes them durable and answers
	// their callers (see withTx).
	synced   chan committedGroup
	syncer   sync.WaitGroup
	syncWAL  func() error          // fsyncs the WAL file; replaced in tests
	syncFail atomic.Pointer[error] // the first failed sync: every later write gets it

	onCommit func(time.Duration) // Options.OnCommit

	// WAL resets (resetWAL, checkpointLoop).
	groups      atomic.Int64  // groups committed: checkpointLoop tells idleness by it
	walKick     chan struct{} // resetWAL asks checkpointLoop for a passive checkpoint now
	walCaughtUp atomic.Bool   // the checkpoint asked for copied what the WAL held
	walLap      atomic.Int64  // WAL file size at the last RESTART: the next lap ends past it
	walRetryAt  time.Time     // committer only: no rewind attempt before it (walRetryBackoff)
	walReset    int64         // Options.WALResetSize or walResetSize
	rewindRetry time.Duration // Options.RewindRetry or walRetryBackoff
	walRestarts atomic.Int64  // WAL rewinds in place (RESTART), for tests
	walTruncs   atomic.Int64  // WAL truncations (TRUNCATE), for tests
	ckptEvery   time.Duration // Options.CheckpointEvery or checkpointEvery

	// checkpointLoop's ticks and clock, and its idle-truncation hook (Options.checkpointTicks ...).
	ckptTicks <-chan time.Time // nil: a ticker every checkpointPoll
	ckptNow   func() time.Time // time.Now unless a test sets it
	idleTrunc func(ok bool)    // nil unless a test sets it

	// readStmts caches prepared read statements by query text (see readStmt).
	readStmts sync.Map // string -> *sql.Stmt
	// writeStmts are the statements prepared on the write connection at Open (prepareWrites); not
	// changed after.
	writeStmts map[stmtKey]*sql.Stmt

	// blocks encodes and decodes log blocks (logs_blocks.go); compactKick wakes compactLoop, which
	// compactor waits for at Close.
	blocks      *logblock.Codec
	compactKick chan struct{}
	// compactTicks, compacted and hourRounds are Options' test hooks of the same names.
	compactTicks <-chan time.Time
	compacted    func(n int)
	hourRounds   int
	// keys is the committer's set of recent dedup keys (logs_keys.go).
	keys      *keyCache
	compactor sync.WaitGroup
	logger    *slog.Logger

	// closing guards closed: withTx enqueues under the read lock, Close sets closed under the write lock,
	// so nothing is enqueued after the committer's final drain.
	closing sync.RWMutex
	closed  bool
}

// maxGroup bounds how many queued write transactions share one commit.
const maxGroup = 64

// committedGroup is a committed group's transactions and their outcomes, waiting for the WAL
// sync that makes them durable.
type committedGroup struct {
	reqs    []*txRequest
	results []error
}

// syncQueue bounds how many committed groups may wait for a sync, which is how far the committer
// may run ahead of durability.
const syncQueue = 64

// txRequest is one caller's write transaction, queued for group commit.
type txRequest struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// errClosed is returned for writes attempted after Close.
var errClosed = errors.New("database is closed")

// Options tunes Open; the zero value is the production default.
type Options struct {
	// Now is the clock used for bookkeeping timestamps (creation and ingestion times); nil means
	// time.Now.
	Now func() time.Time
	// ReadConns is the size of the read pool; zero means 4.
	ReadConns int
	// WALResetSize is how far the WAL may grow before the committer rewinds it; zero means
	// walResetSize (256 MiB). Tests make it small to see resets without writing gigabytes.
	WALResetSize int64
	// CheckpointEvery is how often the WAL is checkpointed without heavy writes, and how long without
	// a commit counts as idle; zero means checkpointEvery (5 s).
	CheckpointEvery time.Duration
	// RewindRetry is how long a failed WAL rewind waits before it is tried again; zero means
	// walRetryBackoff (500 ms).
	RewindRetry time.Duration
	// checkpointTicks, when set (by tests), replaces checkpointLoop's ticker, and checkpointNow its
	// clock (time.Now): the test decides when the loop looks at the WAL and what time it is then, so
	// idleness and retry gaps need no real-time sleeps. idleTruncated, when set, is told the outcome
	// of every idle truncation attempt.
	checkpointTicks <-chan time.Time
	checkpointNow   func() time.Time
	idleTruncated   func(ok bool)
	// compactTicks, when set (by tests), replaces the compactor's wait of compactEvery between
	// rounds; compacted, when set, is told how many blocks each background round removed; and
	// hourRounds, when set, replaces maxHourRounds.
	compactTicks <-chan time.Time
	compacted    func(n int)
	hourRounds   int
	// noCompactor, when set (by tests that run compaction rounds themselves), starts no background
	// compactor, whose rounds would race theirs.
	noCompactor bool
	// OwnFiles names the other files trailwatch keeps in the data directory (credentials, keys). A
	// directory that holds only those and the database's files is trailwatch's own, which Open may
	// make private (see prepareDir).
	OwnFiles []string
	// Logger receives Open's warnings (a data directory others may enter that is not trailwatch's
	// alone); nil discards them.
	Logger *slog.Logger
	// OnCommit, when non-nil, is told how long each committed write transaction took from being
	// queued until it was durable (group commit plus WAL sync), on the Now clock: the server's
	// commit latency metric. It runs on the caller's goroutine, after the commit.
	OnCommit func(took time.Duration)
	// DedupCacheKeys bounds the dedup keys the committer keeps in memory (logs_keys.go); zero means
	// defaultDedupCacheKeys. Tests make it small to see minutes evicted and read again.
	DedupCacheKeys int
}

// Open opens (creating if needed) the database in dir and applies pending migrations.
func Open(ctx context.Context, dir string, opts Options) (*DB, error) {
	if err := prepareDir(dir, opts.OwnFiles, opts.Logger); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// wal_autocheckpoint(0): checkpoints run on their own connection (checkpointLoop), not inside a commit,
	// where copying pages back and syncing the database file would stall every waiting writer.
	// synchronous(NORMAL): commits do not fsync the WAL themselves; syncLoop does, before any caller
	// is told its transaction committed (see withTx). Checkpoints still sync as under FULL.
	//
	// page_size(16384) only takes effect while the database file is new, and only before it is in WAL
	// mode. initFile now sets it (with auto_vacuum) on a new file before this connection opens; the
	// pragma stays in the list, where it changes nothing on a file initFile prepared. The driver runs
	// the _pragma list sorted by name (journal_mode before page_size), so WAL is asked for with
	// _journal_mode, which it applies after the list. Databases created before 16 KiB pages keep
	// their 4 KiB pages (changing it needs a VACUUM out of WAL mode).
	//
	// cache_size(-4096): the write connection caches 4 MiB of pages. The driver's C allocator
	// (modernc.org/memory) serves a 16 KiB page with its header, just over its largest slot, from a
	// 64 KiB region of its own, so a page costs four times its size: a 64 MiB cache held 256 MiB and
	// the server's RSS reached 430 MiB under load. 16 MiB ingested as fast or faster (TestIngestLoad,
	// 1M events: 97k events/s and 149 MiB peak RSS against 88k and 432 MiB), the OS page cache
	// serving the rest. Reads of data not yet checkpointed (the last few seconds') are slower,
	// BenchmarkScanEvents over an uncheckpointed WAL 580k -> 450k events/s; after a checkpoint the
	// two are the same. Since events are stored in compressed blocks (issue 15), an append writes a
	// blob of a few overflow pages instead of rows and entries in three per-event indexes, so a
	// large cache no longer pays, and it cost far more than the arithmetic above: with 16 MiB the
	// server's C heap (the 1 MiB slab mappings of /proc/PID/smaps) stood at 140-145 MiB under
	// TestIngestLoad (800k events) and its RSS peaked at 274-297 MiB, over the test's bound; with
	// 4 MiB the C heap stayed at 31-40 MiB and RSS peaked at 168-173 MiB, ingesting as fast on the
	// same (noisy, shared) machine.
	if err := initFile(ctx, path); err != nil {
		return nil, err
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=page_size(16384)&_journal_mode=WAL&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-4096)&_txlock=immediate"
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
	// Checkpoints wait at most 100 ms for readers (and hold off writers meanwhile): a RESTART or
	// TRUNCATE blocks new writers while it waits, so with the 10 s of the other connections one long
	// read stalled every write behind it, or failed a write with "database is locked" (found in
	// review). A checkpoint that gives up is retried later, and the WAL grows meanwhile.
	ckpt, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db := &DB{path: path, write: write, read: read, ckpt: ckpt, now: now,
		commits: make(chan *txRequest, 1024), quit: make(chan struct{}), synced: make(chan committedGroup, syncQueue),
		walKick: make(chan struct{}, 1), walReset: cmp.Or(opts.WALResetSize, walResetSize), ckptEvery: cmp.Or(opts.CheckpointEvery, checkpointEvery),
		rewindRetry: cmp.Or(opts.RewindRetry, walRetryBackoff),
		ckptTicks:   opts.checkpointTicks, ckptNow: opts.checkpointNow, idleTrunc: opts.idleTruncated, onCommit: opts.OnCommit,
		compactTicks: opts.compactTicks, compacted: opts.compacted, hourRounds: cmp.Or(opts.hourRounds, maxHourRounds),
		compactKick: make(chan struct{}, 1), logger: opts.Logger, keys: newKeyCache(opts.DedupCacheKeys)}
	if db.blocks, err = logblock.NewCodec(); err != nil {
		write.Close()
		read.Close()
		ckpt.Close()
		return nil, err
	}
	if db.ckptNow == nil {
		db.ckptNow = time.Now
	}
	db.syncWAL = db.fsyncWAL
	err = db.migrate(ctx)
	if err == nil {
		err = db.syncWAL() // migrations commit under synchronous=NORMAL too
	}
	if err == nil {
		err = db.prepareWrites(ctx)
	}
	if err != nil {
		write.Close()
		read.Close()
		ckpt.Close()
		return nil, err
	}
	db.syncer.Go(db.syncLoop)
	db.committer.Go(db.commitLoop)
	db.committer.Go(db.checkpointLoop)
	if !opts.noCompactor {
		db.compactor.Go(db.compactLoop)
	}
	db.kickCompactor() // small blocks left by the last run, or by the conversion of schema 161
	return db, nil
}

// The data directory and the database's files are private to the user trailwatch runs as: the
// database holds CloudTrail records and SNS subscription and confirmation secrets, and its WAL holds
// recent copies of the same pages.

// prepareDir creates dir with mode 0700, or checks the mode of a directory that already exists. One
// that others may enter (group or other permission bits) is tightened to 0700 when it is trailwatch's
// own: empty, or holding nothing but the database's files and ownFiles (a directory made by hand
// before the first start, or by an earlier trailwatch that left it 0755). Any other directory is
// left as it is, with a warning: it holds someone else's files, whose access trailwatch has no
// business changing. It is used all the same, because the database's files are 0600 whatever the
// directory's mode (createPrivate), and because such directories are common where refusing would
// stop the alerting: a volume's root with lost+found, a Kubernetes volume made group-writable by
// fsGroup.
func prepareDir(dir string, ownFiles []string, logger *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check data directory: %w", err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("check data directory: %w", err)
	}
	for _, e := range entries {
		if !ownFile(e.Name(), ownFiles) {
			if logger != nil {
				logger.Warn("data directory is open to other users and holds files that are not trailwatch's, so it is left as it is; "+
					"trailwatch's own files in it are private (0600), but their names are visible: make it private (chmod 700) or choose a directory of its own",
					"dir", dir, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()), "file", e.Name())
			}
			return nil
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make data directory private: %w", err)
	}
	return nil
}

// initFile gives a database file that holds no table yet 16 KiB pages and auto_vacuum=INCREMENTAL
// (see reclaimFreePages), before the write connection puts it in WAL mode. Both settings only take
// effect while a file is new, and setting auto_vacuum through the driver's _pragma list, which it
// runs sorted by name, wrote the file's header before page_size: its pages were 4 KiB. The VACUUM
// of a file without tables writes its header with both; a file that has tables is left as it is.
func initFile(ctx context.Context, path string) error {
	// A file with content has its header already, written by an earlier initFile or by SQLite:
	// only an empty one (createPrivate's, or one whose content is still all in its WAL) is opened
	// here, which spares every other start a connection and the checkpoint its close makes.
	if fi, err := os.Stat(path); err != nil {
		return fmt.Errorf("open database: %w", err)
	} else if fi.Size() > 0 {
		return nil
	}
	boot, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer boot.Close()
	conn, err := boot.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer conn.Close()
	var tables int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if tables > 0 {
		return nil
	}
	for _, stmt := range []string{`PRAGMA page_size = 16384`, `PRAGMA auto_vacuum = INCREMENTAL`, `VACUUM`} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("initialize database: %w", err)
		}
	}
	return nil
}

// dbSuffixes returns the suffixes of the database's files: the database, the WAL, its shared-memory
// index and a rollback journal.
func dbSuffixes() []string { return []string{"", "-wal", "-shm", "-journal"} }

// ownFile reports whether name is one of trailwatch's files in the data directory.
func ownFile(name string, ownFiles []string) bool {
	for _, suf := range dbSuffixes() {
		if name == FileName+suf {
			return true
		}
	}
	return slices.Contains(ownFiles, name)
}

// createPrivate creates the database file with mode 0600 before SQLite opens it, and takes group and
// other permissions off the files of an existing database. SQLite creates the WAL and shared-memory
// files with the database file's permissions (unix VFS, robust_open/findCreateFileMode), so a 0600
// database gets a 0600 WAL; left to the driver, the database itself would be 0644 under umask 022.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	for _, suf := range dbSuffixes() {
		fi, err := os.Stat(path + suf)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check database file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path+suf, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make database file private: %w", err)
			}
		}
	}
	return nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close waits for queued writes to commit, then closes both connection pools. A WAL checkpoint runs as
// the last connection closes.
func (db *DB) Close() error {
	db.closing.Lock()
	if !db.closed {
		db.closed = true
		close(db.quit)
	}
	db.closing.Unlock()
	db.compactor.Wait()
	db.committer.Wait()
	close(db.synced)
	db.syncer.Wait()
	db.ckpt.Close()
	db.readStmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	for _, st := range db.writeStmts {
		st.Close()
	}
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

// migrationPreStep returns the Go code a migration needs before its SQL runs, in the same
// transaction, for data changes SQL cannot express; nil for most migrations.
func migrationPreStep(name string) func(context.Context, *sql.Tx) error {
	switch name {
	case "schema_070_group_index_dedup.sql":
		return rehashDedupKeys
	case "schema_161_log_events_to_blocks.sql":
		return convertEventsToBlocks
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
	if step := migrationPreStep(name); step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
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

// readStmt returns the prepared statement for query on the read pool, preparing it on first use. Hot read
// paths (the alarm scheduler queries every active metric each minute) would otherwise have SQLite parse
// the same SQL on every call; database/sql keeps one prepared copy per pooled connection.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", err)
	}
	if prev, loaded := db.readStmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// stmtKey names a statement prepared on the write connection: a multi-row statement's kind and row
// count, or a single statement's SQL.
type stmtKey struct {
	name string
	rows int
}

// prepareWrites prepares, on the write connection, the statements of the ingest path: every
// multi-row insert and upsert at every row count its kind uses (multiRow.chunk), the metric upsert
// and the metric-minute reads. Until then every transaction re-parsed its own copies, and parsing a
// 100-row INSERT costs about as much as running it: a fifth of the committer's time went to it for a
// log group with the 14 CIS filters. They must be prepared here, before any transaction: the write
// pool is one connection, which an open transaction holds.
func (db *DB) prepareWrites(ctx context.Context) error {
	db.writeStmts = map[stmtKey]*sql.Stmt{}
	add := func(key stmtKey, query string) error {
		st, err := db.write.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", key.name, err)
		}
		db.writeStmts[key] = st
		return nil
	}
	for _, m := range []multiRow{writeMinutes} {
		for rows := m.max; ; rows = m.chunk(rows - 1) {
			if err := add(stmtKey{m.name, rows}, m.sql(rows)); err != nil {
				return err
			}
			if rows == 1 {
				break
			}
		}
	}
	for _, key := range []stmtKey{upsertSeriesKey, readMinutesKey, readMinuteKey,
		{insertBlockSQL, 0}, {allocSeqSQL, 0}, {insertKeysetSQL, 0}, {loadKeysetsSQL, 0}, {legacyKeysSQL, 0}} {
		if err := add(key, key.name); err != nil {
			return err
		}
	}
	return nil
}

// txStmt returns the statement key names bound to tx, the committer's transaction. Tx.StmtContext
// reuses what prepareWrites prepared, since the transaction runs on the same connection; a key it
// did not prepare is prepared for this transaction alone, from build (nil: key.name is the SQL).
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, key stmtKey, build func() string) (*sql.Stmt, error) {
	if st, ok := db.writeStmts[key]; ok {
		return tx.StmtContext(ctx, st), nil
	}
	query := key.name
	if build != nil {
		query = build()
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", key.name, err)
	}
	return st, nil
}

// checkpointEvery is how often the WAL is copied back into the database file. A checkpoint copies the
// newest version of every page changed since the last one, and ingestion rewrites the same index pages
// in commit after commit, so copying less often copies each of them fewer times: 5 s instead of 1 s
// took S3 ingest from 39-50k to 45-51k events/s (BenchmarkS3SourcePoll, alternating runs).
// Durability does not depend on it (commits fsync the WAL).
const checkpointEvery = 5 * time.Second

// walResetSize is how far the WAL may grow before the committer rewinds it. Under continuous writes a
// passive checkpoint never catches up with the writer, and SQLite only rewinds the WAL after a
// checkpoint that did, so without a reset the WAL grows without bound (3.3 GB after 2 million
// CloudTrail events), doubling disk use and slowing every page lookup. 256 MiB (not 64) makes resets a
// quarter as frequent for a bounded quarter gigabyte of disk.
const walResetSize = 256 << 20

// checkpointLoop copies committed WAL pages into the database file in the background. PASSIVE never
// waits for writers or readers, so ingestion is not stalled by the copy; rewinding the WAL is left to
// the committer (resetWAL), the one writer, which can do it between two groups.
//
// It checkpoints every checkpointEvery, on every tick while the WAL file is past half of
// walResetSize (heavy ingestion fills it in well under checkpointEvery), and at once when the
// committer asks (walKick) before a reset, so that the reset itself has only the last few commits
// to copy. After checkpointEvery without a commit it truncates a WAL file left large by heavy
// ingestion, which resetWAL does not (see there), giving the disk space back while nothing waits.
func (db *DB) checkpointLoop() {
	ticks := db.ckptTicks
	if ticks == nil {
		tick := time.NewTicker(min(checkpointPoll, db.ckptEvery))
		defer tick.Stop()
		ticks = tick.C
	}
	last, lastGroups := db.ckptNow(), db.groups.Load()
	idleSince := last
	var idleRetryAt time.Time // no idle truncation before it: one failed (a long read)
	for {
		kicked := false
		var now time.Time
		select {
		case <-db.quit:
			return
		case <-db.walKick:
			kicked, now = true, db.ckptNow()
		case now = <-ticks:
		}
		size := int64(0)
		if info, err := os.Stat(db.path + "-wal"); err == nil {
			size = info.Size()
		}
		if g := db.groups.Load(); g != lastGroups {
			lastGroups, idleSince = g, now
		} else if now.Sub(idleSince) >= db.ckptEvery && size > db.walReset/4 && !now.Before(idleRetryAt) {
			// Idle, even with a rewind pending (writes stopped right after the checkpoint it
			// asked for): truncate. A truncation holds off writers while it waits for readers, so
			// a failed one is not retried at once (the ticker may have a tick waiting): a write
			// arriving meanwhile must get its turn (found in review: retried back to back, they
			// kept a write waiting until its busy timeout failed it).
			ok := db.truncateWAL()
			if !ok {
				idleRetryAt = db.ckptNow().Add(max(db.ckptEvery, db.rewindRetry))
			}
			if db.idleTrunc != nil {
				db.idleTrunc(ok)
			}
			continue
		}
		if db.walCaughtUp.Load() || size > 2*db.walReset {
			// The committer is about to rewind (or truncate) the WAL: a checkpoint here would hold
			// the checkpoint connection its RESTART or TRUNCATE runs on, and make it wait.
			continue
		}
		if !kicked && now.Sub(last) < db.ckptEvery && size < db.walReset/2 {
			continue
		}
		// A failed checkpoint is retried on the next tick; nothing is lost by skipping one.
		if db.checkpoint(db.ckpt, "PASSIVE") && kicked {
			db.walCaughtUp.Store(true)
		}
		last = now
	}
}

// checkpoint runs a checkpoint of mode on conn and reports whether it copied every frame the WAL
// held when it started.
func (db *DB) checkpoint(conn *sql.DB, mode string) bool {
	var busy, frames, copied int
	err := conn.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
	return err == nil && busy == 0 && frames == copied
}

// truncateWAL checkpoints and truncates the WAL on the checkpoint connection, and reports whether it
// did; a truncated WAL has no rewind pending and starts a new lap.
func (db *DB) truncateWAL() bool {
	if !db.checkpoint(db.ckpt, "TRUNCATE") {
		return false
	}
	db.walCaughtUp.Store(false)
	db.walLap.Store(0)
	db.walTruncs.Add(1)
	return true
}

// checkpointPoll is how often checkpointLoop looks at the WAL's size.
const checkpointPoll = 250 * time.Millisecond

// resetWAL runs on the committer between groups. When the WAL has filled a lap (its file grew past
// walResetSize, or past its size at the last reset), it asks checkpointLoop for a passive checkpoint,
// and after that one has copied what the WAL held, it runs a RESTART checkpoint: that copies only the
// frames committed since, and makes the next commit write the WAL from its start again.
//
// RESTART, not TRUNCATE: truncating a 256 MiB file costs ~50-70 ms on this project's VMs (freeing
// its blocks), and the writes after it allocate them again, all while every writer waits; the reset
// was the server's worst stall under sustained ingestion (PutLogEvents p99 200-300 ms, TestIngestLoad).
// The WAL file keeps its size instead, and the next lap overwrites it in place. A lap can overshoot
// the file by what is committed while the passive checkpoint runs, so the file grows a little per
// lap; past twice walResetSize the reset truncates after all, without waiting for a passive
// checkpoint to catch up (with readers always overlapping the writes, none would). Both run on the
// checkpoint connection, so they wait for a running passive checkpoint instead of failing busy, and
// for readers at most its 100 ms; a failure (a reader holding old frames longer) is retried after
// Options.RewindRetry (walRetryBackoff).
func (db *DB) resetWAL() {
	info, err := os.Stat(db.path + "-wal")
	if err != nil || info.Size() <= max(db.walReset, db.walLap.Load()) {
		return
	}
	now := time.Now()
	if now.Before(db.walRetryAt) {
		return
	}
	if info.Size() > 2*db.walReset {
		// Past twice the limit, truncate whether or not a passive checkpoint caught up: while
		// readers keep overlapping the writes none ever does (it cannot copy frames a reader may
		// still need), and TRUNCATE waits for them (the busy handler) instead.
		if !db.truncateWAL() {
			db.walRetryAt = now.Add(db.rewindRetry)
		}
		return
	}
	if !db.walCaughtUp.Load() {
		select {
		case db.walKick <- struct{}{}:
		default:
		}
		return
	}
	if db.checkpoint(db.ckpt, "RESTART") {
		db.walCaughtUp.Store(false)
		db.walLap.Store(info.Size())
		db.walRestarts.Add(1)
	} else {
		db.walRetryAt = now.Add(db.rewindRetry)
	}
}

// walRetryBackoff is how long the committer waits before trying again a rewind or truncation that
// failed, most likely because a long read kept it waiting its 100 ms. Retrying after every group would
// add those 100 ms to every group for as long as the read lasts, and no retry can succeed before the
// read ends (its snapshot pins the WAL); so writes lose at most a sixth of their time to retries, and
// the WAL grows by at most half a second of writes after the read.
const walRetryBackoff = 500 * time.Millisecond

// withTx runs fn in a write transaction and returns once that transaction has committed (nil) or failed.
//
// Writes use group commit: a durable commit costs an fsync (milliseconds to tens of milliseconds on
// virtualised disks), which would cap PutLogEvents at one batch per fsync. So a single committer goroutine
// takes every transaction queued while the previous commit ran, runs each fn inside its own SAVEPOINT of
// one shared transaction, and commits them together. A fn that fails is rolled back to its
// savepoint alone and gets its error; if the shared COMMIT fails, every fn of the group gets that error and
// none of them took effect. Each caller's outcome is therefore exactly that of its own transaction, as if
// run alone in the order the committer ran them.
//
// The fsync is not done by the commit itself (synchronous=NORMAL) but by syncLoop, on its own
// goroutine, and only then is each caller answered. So a caller still learns of success only once its
// transaction is durable, as under synchronous=FULL, but the committer runs the next group while the
// previous one syncs, and one fsync covers every group committed meanwhile. This was measured to matter
// more than anything else in the commit path: an fsync costs about 8 ms on this project's VMs, the
// committer sat idle through one per group, and the S3 ingest benchmarks ran 28-37% faster with
// synchronous=NORMAL alone (benchstat, five alternating runs). The price is that readers may see a
// transaction up to one fsync (milliseconds) before it is durable: an API read, or the SNS worker's
// timed poll of its outbox, which could then send a notification that a power cut in that window
// takes back (the alarm would transition and notify again after the restart). Every acknowledgement
// (PutLogEvents, EventBridge and Firehose answers, SQS deletes) still follows durability, and the WAL
// is replayed in commit order, so what survives a power loss is always a prefix of what was committed.
// A kill -9 loses nothing committed: the kernel keeps the written WAL.
//
// fn runs on the committer goroutine: it must only use tx (never call withTx itself, which would wait for
// the committer forever) and must not keep side effects outside tx if it returns an error.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if errp := db.syncFail.Load(); errp != nil {
		return *errp
	}
	var start time.Time
	if db.onCommit != nil {
		start = db.now()
	}
	req := &txRequest{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.closing.RLock()
	if db.closed {
		db.closing.RUnlock()
		return errClosed
	}
	select {
	case db.commits <- req:
	case <-ctx.Done():
		db.closing.RUnlock()
		return ctx.Err()
	}
	db.closing.RUnlock()
	// Once queued, wait for the outcome even if ctx ends: the caller must learn whether it committed.
	err := <-req.done
	if err == nil && db.onCommit != nil {
		db.onCommit(db.now().Sub(start))
	}
	return err
}

// commitLoop is the committer goroutine: it runs queued transactions in groups until Close.
func (db *DB) commitLoop() {
	group := make([]*txRequest, 0, maxGroup)
	for {
		var first *txRequest
		select {
		case first = <-db.commits:
		case <-db.quit:
			// Drain what was queued before Close, then stop.
			for {
				select {
				case req := <-db.commits:
					db.finish(db.commitGroup([]*txRequest{req}))
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	gather:
		for len(group) < maxGroup {
			select {
			case req := <-db.commits:
				group = append(group, req)
			default:
				break gather
			}
		}
		db.finish(db.commitGroup(slices.Clone(group)))
		db.groups.Add(1)
		db.resetWAL()
	}
}

// commitGroup runs the group's transactions in one SQLite transaction, each under a savepoint, and returns
// each outcome: nil for exactly the transactions that committed.
func (db *DB) commitGroup(group []*txRequest) committedGroup {
	results := make([]error, len(group))
	fail := func(err error) committedGroup {
		for i := range results {
			results[i] = err
		}
		return committedGroup{group, results}
	}
	tx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		return fail(fmt.Errorf("begin transaction: %w", err))
	}
	// The dedup key cache follows the transactions: a failed one's keys go, and a group that does
	// not commit empties it (see keyCache).
	abort := func(err error) committedGroup {
		tx.Rollback()
		db.keys.endGroup(false)
		return fail(err)
	}
	committed := 0
	for i, req := range group {
		if err := req.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT txreq"); err != nil {
			return abort(fmt.Errorf("begin savepoint: %w", err))
		}
		db.keys.beginFn()
		if err := req.fn(tx); err != nil {
			results[i] = err
			db.keys.endFn(false)
			if _, rerr := tx.Exec("ROLLBACK TO txreq"); rerr != nil {
				return abort(fmt.Errorf("roll back savepoint after %v: %w", err, rerr))
			}
		} else {
			committed++
			db.keys.endFn(true)
		}
		if _, err := tx.Exec("RELEASE txreq"); err != nil {
			return abort(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if committed == 0 {
		// Every transaction rolled back to its savepoint and took its keys out of the cache, and
		// what the others loaded is what was committed before the group: the cache stands.
		tx.Rollback()
		db.keys.endGroup(true)
	} else if err := tx.Commit(); err != nil {
		err = fmt.Errorf("commit transaction: %w", err)
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
		db.keys.endGroup(false)
	} else {
		db.keys.endGroup(true)
	}
	return committedGroup{group, results}
}

// finish answers a group's callers now if nothing of it committed, or hands it to syncLoop.
func (db *DB) finish(g committedGroup) {
	if !slices.Contains(g.results, nil) {
		g.answer(nil)
		return
	}
	db.synced <- g
}

// answer tells each caller its outcome; a sync error replaces the success of a committed
// transaction, whose durability it leaves unknown.
func (g committedGroup) answer(syncErr error) {
	for i, req := range g.reqs {
		err := g.results[i]
		if err == nil {
			err = syncErr
		}
		req.done <- err
	}
}

// syncLoop makes committed groups durable: it takes every group committed so far, fsyncs the WAL
// once for all of them, and answers their callers. After a failed fsync the kernel may have dropped
// the unwritten pages while SQLite believes them written, so the error is also kept and returned to
// every later write (withTx) until trailwatch is restarted and SQLite recovers from what is on disk.
func (db *DB) syncLoop() {
	var pending []committedGroup
	for g := range db.synced {
		pending = append(pending[:0], g)
	gather:
		for len(pending) < syncQueue {
			select {
			case g, ok := <-db.synced:
				if !ok {
					break gather
				}
				pending = append(pending, g)
			default:
				break gather
			}
		}
		var err error
		if errp := db.syncFail.Load(); errp != nil {
			err = *errp
		} else if err = db.syncWAL(); err != nil {
			err = fmt.Errorf("sync write-ahead log: %w", err)
			db.syncFail.CompareAndSwap(nil, &err)
		}
		for _, g := range pending {
			g.answer(err)
		}
		clear(pending)
	}
}

// fsyncWAL fsyncs the WAL file through a descriptor of its own (fsync flushes the file, whichever
// descriptor asks). A WAL that no longer exists was checkpointed into the database file, which
// SQLite syncs before it removes the WAL, so there is nothing left to sync.
func (db *DB) fsyncWAL() error {
	f, err := os.OpenFile(db.path+"-wal", os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
