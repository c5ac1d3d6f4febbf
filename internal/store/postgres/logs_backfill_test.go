package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
)

// Ported from internal/store/sqlite (logs_backfill_test.go): the semantic tests of the log store, run on PostgreSQL
// so that both backends behave alike. SQLite-only tests (schema upgrades, query plans) stay there.

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

// TestBackfillAfterReput: a metric filter put again keeps counting what it counted. An identical
// re-put (a re-run setup script, a Terraform apply) leaves the default backfill's end and its
// "counted live" cutoff at the time the definition went live, so an event the filter counted is not
// counted again (the reviewer's case: the re-put used to move both to the re-put's time). A changed
// definition is live only from its put: the default backfill then reaches, and counts under the new
// definition, the events stored before it.
func TestBackfillAfterReput(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := logs.NewService(openLogsDB(t), func() time.Time { return now })
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	put := func(pattern, value string) {
		mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "hits", FilterPattern: pattern,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Hits", MetricNamespace: "App", MetricValue: value}}}))
	}
	sum := func(out logs.BackfillOutput) float64 {
		n := 0.0
		for _, smp := range out.Samples {
			n += smp.Value * max(smp.Count, 1)
		}
		return n
	}
	start := now.Add(-time.Hour).UnixMilli()
	putN(t, s, "g", "s", now.UnixMilli(), "hit before")
	now = now.Add(time.Minute)
	live := now.UnixMilli()
	put("hit", "1")
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), "hit live") // counted as it arrives
	for range 2 {
		now = now.Add(time.Minute)
		put("hit", "1") // the same filter again
		now = now.Add(time.Minute)
		out, err := s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start})
		mustOK(t, err)
		if out.EndTime != live || out.LiveSince != live || out.CreationTime == live || sum(out) != 1 || out.Skipped != 0 {
			t.Fatalf("default backfill after an identical re-put: end %d, live since %d, created %d, sum %v, %d skipped; want end and live since %d, only the event before it counted",
				out.EndTime, out.LiveSince, out.CreationTime, sum(out), out.Skipped, live)
		}
		out, err = s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start, EndTime: now.UnixMilli()})
		mustOK(t, err)
		if sum(out) != 1 || out.Skipped != 1 {
			t.Fatalf("backfill to now after an identical re-put: sum %v, %d skipped; want the live event skipped", sum(out), out.Skipped)
		}
	}

	now = now.Add(time.Minute)
	changed := now.UnixMilli()
	put("hit", "10") // a new definition: it counted nothing yet
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), "hit after change")
	out, err := s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "hits", StartTime: start})
	mustOK(t, err)
	if out.EndTime != changed || out.LiveSince != changed || sum(out) != 20 {
		t.Fatalf("default backfill after a changed re-put: end %d, live since %d, sum %v; want end %d, both earlier events counted at 10",
			out.EndTime, out.LiveSince, sum(out), changed)
	}
}

// TestBackfillAfterReenable: a filter disabled for its dimensions' cardinality and enabled again by
// a PutMetricFilter of the same definition keeps the time since which it was live; the default
// backfill then counts the events stored while it was disabled, and none of those it counted
// before or after.
func TestBackfillAfterReenable(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000)
	s := logs.NewService(openLogsDB(t), func() time.Time { return now })
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	put := func() {
		mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "users", FilterPattern: "{ $.user = * }",
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1",
				Dimensions: map[string]string{"User": "$.user"}}}}))
	}
	start := now.Add(-time.Hour).UnixMilli()
	live := now.UnixMilli()
	put()
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"early"}`) // counted live
	now = now.Add(time.Minute)
	var evs []logs.InputLogEvent
	for i := range 1001 {
		evs = append(evs, logs.InputLogEvent{Timestamp: now.UnixMilli(), Message: fmt.Sprintf(`{"user":"u%d"}`, i)})
	}
	_, err := s.PutLogEvents(ctx, svcScope, logs.PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: evs})
	mustOK(t, err) // the 1,001st user disables the filter
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"while disabled"}`)
	now = now.Add(time.Minute)
	reenabled := now.UnixMilli()
	put()
	now = now.Add(time.Minute)
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"late"}`) // counted live

	out, err := s.Backfill(ctx, svcScope, logs.BackfillInput{LogGroupName: "g", FilterName: "users", StartTime: start})
	mustOK(t, err)
	var users []string
	for _, smp := range out.Samples {
		users = append(users, smp.Dimensions[0].Value)
	}
	if out.LiveSince != live || out.PausedUntil != reenabled || out.EndTime != reenabled || len(users) != 1 || users[0] != "while disabled" {
		t.Fatalf("default backfill after re-enabling: live since %d, paused until %d, end %d, %d users %v...; want live since %d, paused and end %d, only the user stored while disabled",
			out.LiveSince, out.PausedUntil, out.EndTime, len(users), users[:min(len(users), 5)], live, reenabled)
	}
}

// TestLiveSinceMigration: a metric filter stored before schema_150 is taken as live since its
// creation time, which is what backfill assumed before, and keeps it across an identical re-put.
