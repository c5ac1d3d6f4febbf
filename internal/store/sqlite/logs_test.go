package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/logs/logstest"
)

func openLogsDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{Now: func() time.Time { return time.UnixMilli(1_700_000_000_000) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLogsStoreConformance(t *testing.T) {
	logstest.Run(t, func(t *testing.T) logs.Store { return openLogsDB(t) })
}
