package sqlite

import (
	"context"
	"testing"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/metrics/metricstest"
)

func openMetricsDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMetricsConformance(t *testing.T) {
	metricstest.Run(t, func(t *testing.T) metrics.Store { return openMetricsDB(t) })
}
