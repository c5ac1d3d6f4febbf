package sqlite

import (
	"context"
	"testing"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// The backfill tests run for every backend in logstest.RunBackend; the upgrade of filters stored
// before live_since existed is SQLite's own.

// TestLiveSinceMigration: a metric filter stored before schema_150 is taken as live since its
// creation time, which is what backfill assumed before, and keeps it across an identical re-put.
func TestLiveSinceMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	mustOK(t, err)
	mustOK(t, db.CreateLogGroup(ctx, svcScope, logs.LogGroup{Name: "g", LogGroupClass: "STANDARD"}))
	f := logs.MetricFilter{LogGroupName: "g", FilterName: "f", FilterPattern: "x", CreationTime: 7, LiveSince: 7,
		Transformation: logs.MetricTransformation{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}
	mustOK(t, db.PutMetricFilter(ctx, svcScope, f, 100))
	// Back to the schema before 150, with the filter in it.
	_, err = db.write.ExecContext(ctx, `ALTER TABLE log_metric_filters DROP COLUMN live_since;
		ALTER TABLE log_metric_filters DROP COLUMN paused_from; ALTER TABLE log_metric_filters DROP COLUMN paused_until;
		DELETE FROM schema_migrations WHERE name = 'schema_150_metric_filter_live_since.sql'`)
	mustOK(t, err)
	mustOK(t, db.Close())

	db, err = Open(ctx, dir, Options{})
	mustOK(t, err)
	defer db.Close()
	got, err := db.ListMetricFilters(ctx, svcScope, logs.FilterQuery{})
	mustOK(t, err)
	if len(got) != 1 || got[0].LiveSince != 7 || got[0].PausedUntil != 0 {
		t.Fatalf("after the migration: %+v, want live since the creation time, 7", got)
	}
	f.CreationTime, f.LiveSince = 9, 9
	mustOK(t, db.PutMetricFilter(ctx, svcScope, f, 100))
	if got, _ = db.ListMetricFilters(ctx, svcScope, logs.FilterQuery{}); len(got) != 1 || got[0].LiveSince != 7 || got[0].CreationTime != 9 {
		t.Fatalf("identical re-put after the migration: %+v", got)
	}
}
