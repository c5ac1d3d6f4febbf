package logs

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

// StoredBatch is one batch of events that has committed, as OnStored reports it: only the events
// actually stored (a record group's duplicates are left out), in batch order.
type StoredBatch struct {
	Scope         Scope
	LogGroupName  string
	LogStreamName string
	IngestionTime int64
	Events        []InputLogEvent
}

// stored reports a committed batch to OnStored. dup, when non-nil, is parallel to events and
// marks those that were not stored.
func (s *Service) stored(sc Scope, group, stream string, events []InputLogEvent, dup []bool, now int64) {
	if s.OnStored == nil || len(events) == 0 {
		return
	}
	kept := events
	if dup != nil {
		kept = make([]InputLogEvent, 0, len(events))
		for i, e := range events {
			if i >= len(dup) || !dup[i] {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return
		}
	}
	s.OnStored(StoredBatch{Scope: sc, LogGroupName: group, LogStreamName: stream, IngestionTime: now, Events: kept})
}

// MatchingFilters tells, for each message, the names of the group's metric filters that match it
// (nil for none), with the filters ingestion uses (cached, disabled ones left out). It lets a
// consumer of OnStored, such as the console's event feed, find the matching events off the
// ingestion path: OnStored only hands the batch over, and the matching costs the consumer's time.
func (s *Service) MatchingFilters(ctx context.Context, sc Scope, group string, messages []string) ([][]string, error) {
	st, err := s.group(ctx, sc, group)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(messages))
	if len(st.filters) == 0 {
		return out, nil
	}
	for i, m := range messages {
		st.set.Eval(bytesOf(m), func(fi int, _ *pattern.Result) {
			name := st.filters[fi].FilterName
			for _, have := range out[i] {
				if have == name {
					return
				}
			}
			out[i] = append(out[i], name)
		})
	}
	return out, nil
}
