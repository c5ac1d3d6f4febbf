package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// TestBackfillEndsAtCreation runs logs.Service.Backfill over stored events around a filter's
// creation: by default it ends at the creation time and skips events stored after it (a late
// delivery with an older timestamp included), so nothing the filter counted live is counted
// again; an explicit later end reaches an event stored earlier with a later timestamp.
func TestBackfillEndsAtCreation(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := logs.NewService(openLogsDB(t), func() time.Time { return now })
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	t0 := now.UnixMilli()
	putN(t, s, "g", "s", t0-10*60_000, "hit old")   // before the filter, older
	putN(t, s, "g", "s", t0+30*60_000, "hit ahead") // before the filter, timestamp after it
	now = now.Add(time.Minute)
	created := now.UnixMilli()
	mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "hits", FilterPattern: "hit",
		MetricTransformations: []logs.MetricTransformation{{MetricName: "Hits", MetricNamespace: "App", MetricValue: "1"}}}))
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", t0-5*60_000, "hit late") // counted live: a late delivery
	putN(t, s, "g", "s", now.UnixMilli(), "hit new")

	count := func(out logs.BackfillOutput) float64 {
		n := 0.0
		for _, smp := range out.Samples {
			n += max(smp.Count, 1)
		}
		return n
	}
	out, err := s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: t0 - time.Hour.Milliseconds()})
	mustOK(t, err)
	if out.EndTime != created || out.CreationTime != created || out.Events != 2 || out.Skipped != 1 || count(out) != 1 {
		t.Fatalf("default backfill: end %d (created %d), %d events, %d skipped, %v counted; want end at creation, 2, 1, 1",
			out.EndTime, created, out.Events, out.Skipped, count(out))
	}
	out, err = s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: t0 - time.Hour.Milliseconds(),
		EndTime: now.Add(time.Hour).UnixMilli()})
	mustOK(t, err)
	if out.Events != 4 || out.Skipped != 2 || count(out) != 2 {
		t.Fatalf("backfill past the creation: %d events, %d skipped, %v counted; want 4, 2, 2 (old and ahead)", out.Events, out.Skipped, count(out))
	}
	out, err = s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: created})
	mustOK(t, err)
	if out.Events != 0 || len(out.Samples) != 0 {
		t.Fatalf("a start at the creation time backfills nothing by default: %+v", out)
	}
}
