package postgres

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
// left here are PostgreSQL's own: several replicas on one database (logs_replicas_test.go).

var svcScope = logs.Scope{AccountID: "111111111111", Region: "us-east-1"}

// openLogsDB opens a new, empty database whose clock is fixed, for the benchmarks.
func openLogsDB(t testing.TB) *DB {
	t.Helper()
	return openTest(t, Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
}

func TestLogsStoreConformance(t *testing.T) {
	logstest.Run(t, func(t *testing.T) logs.Store { return openTest(t, Options{}) })
}

func TestLogsBackend(t *testing.T) {
	logstest.RunBackend(t, logsBackend)
}

// logsBackend opens a database in a new schema for logstest.RunBackend; Reopen closes it and opens
// the schema again with a new pool.
func logsBackend(t *testing.T, now func() time.Time) logstest.Backend {
	t.Helper()
	u := testSchema(t)
	return logstest.Restartable(t, expireBlocks, func() (logstest.DB, error) { return Open(context.Background(), u, Options{Now: now}) })
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPutLogEvents is logstest.BenchPutLogEvents over PostgreSQL, with the same corpus,
// batches and filters as SQLite's, so that the two backends compare in one run.
func BenchmarkPutLogEvents(b *testing.B) {
	logstest.BenchPutLogEvents(b, func(b testing.TB) logs.Store { return openLogsDB(b) })
}

// BenchmarkScanEvents is logstest.BenchScanEvents over PostgreSQL.
func BenchmarkScanEvents(b *testing.B) {
	logstest.BenchScanEvents(b, func(b testing.TB) logs.Store { return openLogsDB(b) })
}
