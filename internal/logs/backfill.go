package logs

import (
	"context"
	"fmt"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// BackfillInput selects the events a metric filter is applied to after the fact.
type BackfillInput struct {
	LogGroupName, FilterName string
	// StartTime is inclusive and EndTime exclusive, epoch ms; EndTime 0 means no upper bound.
	StartTime, EndTime int64
}

// BackfillOutput is what applying the filter to stored events produced.
type BackfillOutput struct {
	Events  int
	Samples []metrics.Sample
}

// backfillChunk is how many events are evaluated per step.
const backfillChunk = 10000

// Backfill applies one metric filter to the events stored in its group between StartTime and
// EndTime and returns the samples the filter would have published had it existed when they
// arrived ("Filters do not retroactively filter data" is AWS's behaviour; this is trailwatch's
// extension). The caller publishes them. A defaultValue sample is produced for each minute with
// events but no match, as at ingestion. Events the filter already counted are counted again:
// callers pick a range older than the filter.
func (s *Service) Backfill(ctx context.Context, sc Scope, in BackfillInput) (BackfillOutput, error) {
	filters, err := s.store.ListMetricFilters(ctx, sc, FilterQuery{LogGroupName: in.LogGroupName, FilterNamePrefix: in.FilterName})
	if err != nil {
		return BackfillOutput{}, storeErr("list metric filters", err)
	}
	var f *MetricFilter
	for i := range filters {
		if filters[i].FilterName == in.FilterName {
			f = &filters[i]
		}
	}
	if f == nil {
		return BackfillOutput{}, &Error{CodeResourceNotFound, "The specified metric filter does not exist."}
	}
	cf, err := pattern.CompileFilter(f.FilterPattern, transformation(f.Transformation))
	if err != nil {
		return BackfillOutput{}, fmt.Errorf("compile metric filter: %w", err)
	}
	st := &groupState{filters: []MetricFilter{*f}, set: pattern.NewSet([]*pattern.Filter{cf})}
	var out BackfillOutput
	chunk := make([]InputLogEvent, 0, backfillChunk)
	flush := func() {
		out.Samples = append(out.Samples, st.samples(sc, chunk)...)
		out.Events += len(chunk)
		chunk = chunk[:0]
	}
	err = s.store.ScanEvents(ctx, sc, EventQuery{LogGroupName: in.LogGroupName, StartTime: in.StartTime, EndTime: in.EndTime}, func(e Event) bool {
		chunk = append(chunk, InputLogEvent{Timestamp: e.Timestamp, Message: e.Message})
		if len(chunk) == backfillChunk {
			flush()
		}
		return ctx.Err() == nil
	})
	if err != nil {
		return BackfillOutput{}, storeErr("scan log events", err)
	}
	if err := ctx.Err(); err != nil {
		return BackfillOutput{}, err
	}
	flush()
	return out, nil
}
