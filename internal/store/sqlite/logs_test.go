package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/logs/logstest"
)

// The behaviour of the log store is tested by the suites every backend runs: logstest.Run (the
// logs.Store contract), logstest.RunBackend (logs.Service over the store, metric datapoints,
// expiry, restarts) and logblocktest.Run (blocks and compaction, logs_blocks_test.go). The tests
// left here are SQLite's own: schema upgrades, query plans, the scale measurements.

func openLogsDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var svcScope = logs.Scope{AccountID: "111111111111", Region: "us-east-1"}

func TestLogsStoreConformance(t *testing.T) {
	logstest.Run(t, func(t *testing.T) logs.Store { return openLogsDB(t) })
}

func TestLogsBackend(t *testing.T) {
	logstest.RunBackend(t, logsBackend)
}

// logsBackend opens a database in a new directory for logstest.RunBackend; Reopen closes it and
// opens the directory again.
func logsBackend(t *testing.T, now func() time.Time) logstest.Backend {
	t.Helper()
	dir := t.TempDir()
	return logstest.Restartable(t, expireBlocks, func() (logstest.DB, error) { return Open(context.Background(), dir, Options{Now: now}) })
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cpuTime is the user plus system CPU time the process has used.
func cpuTime() time.Duration { return logstest.CPUTime() }

// corpusPath is the gen-cloudtrail corpus the benchmarks replay (logstest.CorpusPath).
func corpusPath() string { return logstest.CorpusPath() }

// BenchmarkPutLogEvents is logstest.BenchPutLogEvents over SQLite (WAL, WAL fsync before each
// answer).
func BenchmarkPutLogEvents(b *testing.B) {
	logstest.BenchPutLogEvents(b, func(b testing.TB) logs.Store { return openLogsDB(b) })
}

// BenchmarkScanEvents is logstest.BenchScanEvents over SQLite.
func BenchmarkScanEvents(b *testing.B) {
	logstest.BenchScanEvents(b, func(b testing.TB) logs.Store { return openLogsDB(b) })
}
