package logs

import (
	"context"
	"errors"
)

// DedupTag marks a log group whose events are CloudTrail records: with the tag set to
// DedupTagValue, PutLogEvents stores a record whose key (Service.RecordKey) the group already holds
// only once, and counts it once in the metric filters. Groups a trail delivers to are marked by
// Service.IsRecordGroup instead. Ordinary groups pay nothing for this: the flag is read when the
// group's state is loaded and cached.
const (
	DedupTag      = "trailwatch:dedup"
	DedupTagValue = "eventID"
)

// Forget drops the cached state of a log group, for callers outside this package that change
// what the state depends on (a trail starting to deliver to the group).
func (s *Service) Forget(sc Scope, group string) { s.forget(sc, group) }

// PutRecordsInput is a batch of CloudTrail records for one log stream, from trailwatch's own
// sources (S3, EventBridge, Firehose).
type PutRecordsInput struct {
	LogGroupName  string
	LogStreamName string
	// Events must follow PutLogEvents' batch rules: chronological, at most 10,000 events and
	// 1,048,576 bytes, spanning at most 24 hours.
	Events []InputLogEvent
	// DedupKeys is parallel to Events; "" means the event is never a duplicate.
	DedupKeys []string
}

// PutRecordsOutput counts what PutRecords did with a batch.
type PutRecordsOutput struct {
	Stored, Duplicates int
	// Rejected counts events outside PutLogEvents' time window (14 days back, 2 hours ahead,
	// the group's retention), which CloudWatch Logs would also have refused.
	Rejected int
}

// PutRecords stores a batch of records the way CloudTrail delivers to CloudWatch Logs: the
// stream is created when missing, events CloudWatch Logs would reject for their time are dropped,
// and a record whose key the group already holds is not stored again nor counted by the metric
// filters. Events and samples commit in one transaction; OnSamples then sees the stored samples.
func (s *Service) PutRecords(ctx context.Context, sc Scope, in PutRecordsInput) (PutRecordsOutput, error) {
	if len(in.Events) == 0 {
		return PutRecordsOutput{}, nil
	}
	if len(in.DedupKeys) != len(in.Events) {
		return PutRecordsOutput{}, errors.New("put records: DedupKeys must be parallel to Events")
	}
	pin := PutLogEventsInput{LogGroupName: in.LogGroupName, LogStreamName: in.LogStreamName, LogEvents: in.Events}
	if err := validateBatch(&pin); err != nil {
		return PutRecordsOutput{}, err
	}
	st, err := s.group(ctx, sc, in.LogGroupName)
	if err != nil {
		return PutRecordsOutput{}, err
	}
	now := s.nowMillis()
	lo, hi, _ := classify(in.Events, now, st.retentionDays)
	out := PutRecordsOutput{Rejected: len(in.Events) - (hi - lo)}
	if hi == lo {
		return out, nil
	}
	// CloudTrail creates its stream on first delivery (CreateStream in appendUnique).
	res, err := s.appendUnique(ctx, sc, st, in.LogGroupName, in.LogStreamName, in.Events[lo:hi], in.DedupKeys[lo:hi], now, true)
	if err != nil {
		return out, err
	}
	for _, d := range res.Duplicate {
		if d {
			out.Duplicates++
		} else {
			out.Stored++
		}
	}
	return out, nil
}

// appendUnique stores events with dedup keys, their metric-filter samples and the AWS/Logs samples
// that count them, creating the stream when missing if create is set (CloudTrail's own delivery
// does; PutLogEvents does not), then reports the stored samples.
func (s *Service) appendUnique(ctx context.Context, sc Scope, st *groupState, group, stream string, events []InputLogEvent, keys []string, now int64, create bool) (AppendResult, error) {
	samples, index, tripped := st.samplesOf(sc, events, true, now)
	s.disable(ctx, sc, group, st, tripped, now)
	// The AWS/Logs samples count every uploaded event, duplicates included (incomingSamples), so
	// they belong to no single event and are never dropped with one.
	for _, smp := range incomingSamples(sc, group, events, now) {
		samples, index = append(samples, smp), append(index, -1)
	}
	res, err := s.store.AppendUnique(ctx, sc, AppendBatch{
		LogGroupName:  group,
		LogStreamName: stream,
		Events:        events,
		IngestionTime: now,
		Samples:       samples,
		DedupKeys:     keys,
		SampleEvents:  index,
		CreateStream:  create,
	})
	if err != nil {
		return res, storeErr("append log events", err)
	}
	s.stored(sc, group, stream, events, res.Duplicate, now)
	if len(res.Samples) > 0 && s.OnSamples != nil {
		s.OnSamples(res.Samples)
	}
	return res, nil
}
