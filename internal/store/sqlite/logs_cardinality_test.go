package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/logs"
	"github.com/trailwatch/trailwatch/internal/metrics"
)

// TestDisabledFilterSurvivesReopen disables a metric filter through PutLogEvents (1,001 distinct
// dimension values within an hour), then closes and reopens the database under a new service, as a
// restart does: the filter is still disabled (DescribeMetricFilters shows it, nothing is published,
// not even for a value counted before), until PutMetricFilter puts it again.
func TestDisabledFilterSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.UnixMilli(1_700_000_000_000)
	open := func() (*DB, *logs.Service, *int) {
		db, err := Open(ctx, dir, Options{Now: func() time.Time { return now }})
		mustOK(t, err)
		s := logs.NewService(db, func() time.Time { return now })
		published := new(int)
		s.OnSamples = func(ss []metrics.Sample) { *published += len(filterSamples(ss)) }
		return db, s, published
	}
	db, s, published := open()
	mustOK(t, s.CreateLogGroup(ctx, svcScope, logs.CreateLogGroupInput{LogGroupName: "g"}))
	mustOK(t, s.CreateLogStream(ctx, svcScope, "g", "s"))
	put := func(s *logs.Service) {
		mustOK(t, s.PutMetricFilter(ctx, svcScope, logs.PutMetricFilterInput{LogGroupName: "g", FilterName: "users", FilterPattern: `{ $.user = * }`,
			MetricTransformations: []logs.MetricTransformation{{MetricName: "Calls", MetricNamespace: "App", MetricValue: "1",
				Dimensions: map[string]string{"User": "$.user"}}}}))
	}
	put(s)
	msgs := make([]string, 1001)
	for i := range msgs {
		msgs[i] = fmt.Sprintf(`{"user":"u%d"}`, i)
	}
	putN(t, s, "g", "s", now.UnixMilli(), msgs...)
	if *published != 1000 {
		t.Fatalf("published %d samples, want the first 1,000", *published)
	}
	state := func(s *logs.Service) *logs.FilterStatus {
		out, err := s.DescribeMetricFilters(ctx, svcScope, logs.DescribeMetricFiltersInput{LogGroupName: "g"})
		mustOK(t, err)
		return out.MetricFilters[0].Status
	}
	if st := state(s); st == nil || st.State != logs.FilterStateDisabled || st.Time != now.UnixMilli() {
		t.Fatalf("status after 1,001 values: %+v", st)
	}
	mustOK(t, db.Close())

	db, s, published = open()
	defer db.Close()
	if st := state(s); st == nil || st.State != logs.FilterStateDisabled {
		t.Fatalf("status after reopening: %+v", st)
	}
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"u0"}`)
	if *published != 0 {
		t.Fatalf("a disabled filter published %d samples after reopening", *published)
	}
	now = now.Add(time.Second) // a new creation time
	put(s)
	if st := state(s); st != nil {
		t.Fatalf("status after PutMetricFilter: %+v", st)
	}
	putN(t, s, "g", "s", now.UnixMilli(), `{"user":"u0"}`)
	if *published != 1 {
		t.Fatalf("the filter put again published %d samples, want 1", *published)
	}
}
