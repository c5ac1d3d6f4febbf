package logs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// PutLogEvents batch rules (PutLogEvents API reference; aws-alarms-sns-protocols.md §4.4).
const (
	maxBatchEvents  = 10000
	maxBatchBytes   = 1048576 // sum of UTF-8 message bytes plus eventOverhead per event
	maxEventBytes   = 262144  // one event, counted the same way
	eventOverhead   = 26
	maxBatchSpan    = 24 * 60 * 60 * 1000      // newest minus oldest timestamp, ms
	maxFuture       = 2 * 60 * 60 * 1000       // events later than now+2h are "too new"
	maxPast         = 14 * 24 * 60 * 60 * 1000 // events before now-14d are "too old"
	dayMillis       = 24 * 60 * 60 * 1000
	maxResponseSize = 1048576 // GetLogEvents/FilterLogEvents return at most 1 MB of events
	// filterScanBudget bounds the events one FilterLogEvents call examines; when it runs out the
	// call returns what it found with a nextToken, as AWS does ("This operation can return empty
	// results while there are more log events available through the token").
	filterScanBudget = 200000
)

// Texts AWS returns for batch-rule violations, all InvalidParameterException (issue threads:
// moby/moby#41529, aws/aws-sdk-js-v3#6164, nhs-england-tools/terraform-aws-opennext#27; LocalStack
// snapshot test_logs_events "error-wrong-order").
var (
	errNotChronological = invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
	errSpanTooLong      = invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
)

// PutLogEventsInput is the input of PutLogEvents. SequenceToken is accepted and ignored: AWS no
// longer checks sequence tokens and never returns InvalidSequenceTokenException or
// DataAlreadyAcceptedException.
type PutLogEventsInput struct {
	LogGroupName  string
	LogStreamName string
	LogEvents     []InputLogEvent
	SequenceToken string
}

// RejectedLogEventsInfo reports the events of a batch that were not stored. Nil fields are absent.
type RejectedLogEventsInfo struct {
	// TooNewLogEventStartIndex is the index of the first event more than 2 hours in the future
	// (inclusive).
	TooNewLogEventStartIndex *int
	// TooOldLogEventEndIndex is the index after the last event more than 14 days old (exclusive).
	TooOldLogEventEndIndex *int
	// ExpiredLogEventEndIndex is the index after the last event older than the group's retention
	// period (exclusive).
	ExpiredLogEventEndIndex *int
}

// PutLogEventsOutput is the output of PutLogEvents.
type PutLogEventsOutput struct {
	NextSequenceToken     string
	RejectedLogEventsInfo *RejectedLogEventsInfo
}

// validateBatch applies the request-level rules that reject the whole batch.
func validateBatch(in *PutLogEventsInput) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", in.LogGroupName); err != nil {
		return err
	}
	if err := checkLogStreamName(&v, "logStreamName", in.LogStreamName); err != nil {
		return err
	}
	switch n := len(in.LogEvents); {
	case n < 1:
		v.add("[]", "logEvents", "Member must have length greater than or equal to 1")
	case n > maxBatchEvents:
		v.add(fmt.Sprintf("[%d log events]", n), "logEvents", "Member must have length less than or equal to 10000")
	}
	for i, e := range in.LogEvents {
		if e.Message == "" {
			v.add("", "logEvents."+strconv.Itoa(i+1)+".member.message", "Member must have length greater than or equal to 1")
		}
		if e.Timestamp < 0 {
			v.add(e.Timestamp, "logEvents."+strconv.Itoa(i+1)+".member.timestamp", "Member must have value greater than or equal to 0")
		}
	}
	if err := v.err(); err != nil {
		return err
	}
	total := 0
	for _, e := range in.LogEvents {
		size := len(e.Message) + eventOverhead
		if size > maxEventBytes {
			return invalidParameter("Log event too large: %d bytes exceeds limit of %d", size, maxEventBytes)
		}
		total += size
	}
	if total > maxBatchBytes {
		return invalidParameter("Upload too large: %d bytes exceeds limit of %d", total, maxBatchBytes)
	}
	for i := 1; i < len(in.LogEvents); i++ {
		if in.LogEvents[i].Timestamp < in.LogEvents[i-1].Timestamp {
			return errNotChronological
		}
	}
	if in.LogEvents[len(in.LogEvents)-1].Timestamp-in.LogEvents[0].Timestamp > maxBatchSpan {
		return errSpanTooLong
	}
	return nil
}

// classify splits a chronological batch into the accepted window [lo, hi) and the
// rejectedLogEventsInfo. Old events form a prefix and new ones a suffix because the batch is
// sorted. An event is too old when it is more than 14 days before now, expired when it is before
// the retention period, and too new when it is more than 2 hours after now; the boundaries
// themselves are accepted.
func classify(events []InputLogEvent, now int64, retentionDays int) (lo, hi int, info *RejectedLogEventsInfo) {
	tooOld := 0
	for tooOld < len(events) && events[tooOld].Timestamp < now-maxPast {
		tooOld++
	}
	expired := 0
	if retentionDays > 0 {
		cutoff := now - int64(retentionDays)*dayMillis
		for expired < len(events) && events[expired].Timestamp < cutoff {
			expired++
		}
	}
	tooNew := len(events)
	for tooNew > 0 && events[tooNew-1].Timestamp > now+maxFuture {
		tooNew--
	}
	lo, hi = max(tooOld, expired), tooNew
	if hi < lo {
		hi = lo
	}
	if tooOld == 0 && expired == 0 && tooNew == len(events) {
		return lo, hi, nil
	}
	info = &RejectedLogEventsInfo{}
	if tooOld > 0 {
		info.TooOldLogEventEndIndex = &tooOld
	}
	if expired > 0 {
		info.ExpiredLogEventEndIndex = &expired
	}
	if tooNew < len(events) {
		info.TooNewLogEventStartIndex = &tooNew
	}
	return lo, hi, info
}

// PutLogEvents validates a batch, stores its acceptable events together with the metric samples
// the group's metric filters derive from them and the AWS/Logs samples that count them (one
// transaction), then hands the samples to OnSamples.
func (s *Service) PutLogEvents(ctx context.Context, sc Scope, in PutLogEventsInput) (PutLogEventsOutput, error) {
	if err := validateBatch(&in); err != nil {
		return PutLogEventsOutput{}, err
	}
	st, err := s.group(ctx, sc, in.LogGroupName)
	if err != nil {
		return PutLogEventsOutput{}, err
	}
	now := s.nowMillis()
	lo, hi, info := classify(in.LogEvents, now, st.retentionDays)
	accepted := in.LogEvents[lo:hi]
	if st.dedup && s.RecordKey != nil && len(accepted) > 0 {
		keys := make([]string, len(accepted))
		for i, e := range accepted {
			keys[i] = s.RecordKey(e.Message)
		}
		res, err := s.appendUnique(ctx, sc, st, in.LogGroupName, in.LogStreamName, accepted, keys, now, false)
		if err != nil {
			return PutLogEventsOutput{}, err
		}
		if s.OnPutLogEvents != nil {
			s.OnPutLogEvents(sc, in.LogGroupName, accepted)
		}
		return PutLogEventsOutput{NextSequenceToken: sequenceToken(res.UploadSequence), RejectedLogEventsInfo: info}, nil
	}
	samples, _, tripped := st.samplesOf(sc, accepted, false, now)
	s.disable(ctx, sc, in.LogGroupName, st, tripped, now)
	samples = append(samples, incomingSamples(sc, in.LogGroupName, accepted, now)...)
	seq, err := s.store.AppendEvents(ctx, sc, AppendBatch{
		LogGroupName:  in.LogGroupName,
		LogStreamName: in.LogStreamName,
		Events:        accepted,
		IngestionTime: now,
		Samples:       samples,
	})
	if err != nil {
		return PutLogEventsOutput{}, storeErr("append log events", err)
	}
	if s.OnPutLogEvents != nil && len(accepted) > 0 {
		s.OnPutLogEvents(sc, in.LogGroupName, accepted)
	}
	s.stored(sc, in.LogGroupName, in.LogStreamName, accepted, nil, now)
	if len(samples) > 0 && s.OnSamples != nil {
		s.OnSamples(samples)
	}
	return PutLogEventsOutput{NextSequenceToken: sequenceToken(seq), RejectedLogEventsInfo: info}, nil
}

// GetLogEventsInput is the input of GetLogEvents. StartTime is inclusive and EndTime exclusive;
// zero means unbounded.
type GetLogEventsInput struct {
	LogGroupName       string
	LogGroupIdentifier string
	LogStreamName      string
	StartTime          int64
	EndTime            int64
	NextToken          string
	// Limit is the page size; nil means the maximum.
	Limit         *int
	StartFromHead bool
}

// GetLogEventsOutput is the output of GetLogEvents. Both tokens are always set.
type GetLogEventsOutput struct {
	Events            []Event
	NextForwardToken  string
	NextBackwardToken string
}

// GetLogEvents reads one stream in timestamp order. Without a token it returns the newest page
// (or the oldest with StartFromHead); "f/…" tokens page forward and "b/…" tokens backward. At the
// end of the stream the token passed in comes back unchanged, as the API reference says ("If you
// have reached the end of the stream, it returns the same token you passed in").
func (s *Service) GetLogEvents(ctx context.Context, sc Scope, in GetLogEventsInput) (GetLogEventsOutput, error) {
	group, err := resolveGroup(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return GetLogEventsOutput{}, err
	}
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return GetLogEventsOutput{}, err
	}
	if err := checkLogStreamName(&v, "logStreamName", in.LogStreamName); err != nil {
		return GetLogEventsOutput{}, err
	}
	checkLimit(&v, in.Limit, maxEventsLimit)
	if in.StartTime < 0 {
		v.add(in.StartTime, "startTime", "Member must have value greater than or equal to 0")
	}
	if in.EndTime < 0 {
		v.add(in.EndTime, "endTime", "Member must have value greater than or equal to 0")
	}
	if err := v.err(); err != nil {
		return GetLogEventsOutput{}, err
	}
	var (
		dir    byte
		cursor EventCursor
	)
	if in.NextToken != "" {
		if dir, cursor, err = decodeEventToken(in.NextToken); err != nil {
			return GetLogEventsOutput{}, err
		}
	}
	st, err := s.group(ctx, sc, group)
	if err != nil {
		return GetLogEventsOutput{}, err
	}
	if _, err := s.store.GetLogStream(ctx, sc, group, in.LogStreamName); err != nil {
		return GetLogEventsOutput{}, storeErr("get log stream", err)
	}
	limit := limitOr(in.Limit, maxEventsLimit)
	q := EventQuery{LogGroupName: group, Streams: []string{in.LogStreamName}}
	q.StartTime, q.EndTime = s.window(st, in.StartTime, in.EndTime)
	switch {
	case dir == 'f':
		q.After = &cursor
	case dir == 'b':
		q.Before = &cursor
		q.Descending = true
	case !in.StartFromHead:
		q.Descending = true
	}
	var events []Event
	size := 0
	err = s.store.ScanEvents(ctx, sc, q, func(e Event) bool {
		size += len(e.Message) + eventOverhead
		if len(events) > 0 && size > maxResponseSize {
			return false
		}
		events = append(events, e)
		return len(events) < limit
	})
	if err != nil {
		return GetLogEventsOutput{}, storeErr("read log events", err)
	}
	if q.Descending {
		slices.Reverse(events)
	}
	out := GetLogEventsOutput{Events: events}
	switch {
	case len(events) > 0:
		first, last := events[0], events[len(events)-1]
		out.NextForwardToken = encodeEventToken('f', EventCursor{last.Timestamp, last.Seq})
		out.NextBackwardToken = encodeEventToken('b', EventCursor{first.Timestamp, first.Seq})
	case dir == 'f':
		out.NextForwardToken = in.NextToken
		out.NextBackwardToken = encodeEventToken('b', EventCursor{cursor.Timestamp, cursor.Seq + 1})
	case dir == 'b':
		out.NextBackwardToken = in.NextToken
		out.NextForwardToken = encodeEventToken('f', EventCursor{cursor.Timestamp, max(cursor.Seq-1, 0)})
	default:
		out.NextForwardToken = encodeEventToken('f', EventCursor{})
		out.NextBackwardToken = encodeEventToken('b', EventCursor{})
	}
	return out, nil
}

// window intersects the requested time range with the group's retention: events older than the
// retention period are never returned, even before ExpireEvents deletes them.
func (s *Service) window(st *groupState, start, end int64) (int64, int64) {
	if st.retentionDays > 0 {
		start = max(start, s.nowMillis()-int64(st.retentionDays)*dayMillis)
	}
	return start, end
}

// FilterLogEventsInput is the input of FilterLogEvents. Interleaved is deprecated and ignored:
// results are always interleaved across streams.
type FilterLogEventsInput struct {
	LogGroupName        string
	LogGroupIdentifier  string
	LogStreamNames      []string
	LogStreamNamePrefix string
	StartTime           int64
	EndTime             int64
	FilterPattern       string
	NextToken           string
	// Limit is the page size; nil means the maximum.
	Limit *int
}

// FilterLogEventsOutput is the output of FilterLogEvents.
type FilterLogEventsOutput struct {
	Events    []Event
	NextToken string
}

// EventID is the eventId FilterLogEvents reports for e.
func EventID(e Event) string { return eventID(e) }

// FilterLogEvents searches a whole log group, interleaving its streams in (timestamp, ingestion)
// order, keeping the events that match the filter pattern.
func (s *Service) FilterLogEvents(ctx context.Context, sc Scope, in FilterLogEventsInput) (FilterLogEventsOutput, error) {
	group, err := resolveGroup(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return FilterLogEventsOutput{}, err
	}
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return FilterLogEventsOutput{}, err
	}
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		c := "Member must have length greater than or equal to 1"
		if len(in.LogStreamNames) > 100 {
			c = "Member must have length less than or equal to 100"
		}
		v.add(fmt.Sprint(in.LogStreamNames), "logStreamNames", c)
	}
	for _, n := range in.LogStreamNames {
		if err := checkLogStreamName(&v, "logStreamNames.member", n); err != nil {
			return FilterLogEventsOutput{}, err
		}
	}
	if in.LogStreamNamePrefix != "" {
		if err := checkLogStreamName(&v, "logStreamNamePrefix", in.LogStreamNamePrefix); err != nil {
			return FilterLogEventsOutput{}, err
		}
	}
	checkLimit(&v, in.Limit, maxEventsLimit)
	if in.StartTime < 0 {
		v.add(in.StartTime, "startTime", "Member must have value greater than or equal to 0")
	}
	if in.EndTime < 0 {
		v.add(in.EndTime, "endTime", "Member must have value greater than or equal to 0")
	}
	if err := v.err(); err != nil {
		return FilterLogEventsOutput{}, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		// "If you specify a value for both logStreamNamePrefix and logStreamNames, the action
		// returns an InvalidParameterException error." (FilterLogEvents API reference). AWS's
		// message text is not recorded; this wording is ours.
		return FilterLogEventsOutput{}, invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	match, err := compileSearch(in.FilterPattern)
	if err != nil {
		return FilterLogEventsOutput{}, err
	}
	q := EventQuery{LogGroupName: group, Streams: in.LogStreamNames, StreamPrefix: in.LogStreamNamePrefix}
	if in.NextToken != "" {
		dir, c, err := decodeEventToken(in.NextToken)
		if err != nil || dir != 'f' {
			return FilterLogEventsOutput{}, errInvalidToken
		}
		q.After = &c
	}
	st, err := s.group(ctx, sc, group)
	if err != nil {
		return FilterLogEventsOutput{}, err
	}
	q.StartTime, q.EndTime = s.window(st, in.StartTime, in.EndTime)
	limit := limitOr(in.Limit, maxEventsLimit)
	var (
		out     FilterLogEventsOutput
		size    int
		scanned int
		last    EventCursor // the last event examined, where a next page resumes
		more    bool
	)
	err = s.store.ScanEvents(ctx, sc, q, func(e Event) bool {
		if len(out.Events) >= limit || scanned >= filterScanBudget {
			more = true
			return false
		}
		if match(e.Message) {
			size += len(e.Message) + eventOverhead
			if len(out.Events) > 0 && size > maxResponseSize {
				more = true
				return false
			}
			out.Events = append(out.Events, e)
		}
		scanned++
		last = EventCursor{e.Timestamp, e.Seq}
		return true
	})
	if err != nil {
		return FilterLogEventsOutput{}, storeErr("filter log events", err)
	}
	if more && scanned > 0 {
		out.NextToken = encodeEventToken('f', last)
	}
	return out, nil
}

// minuteMillis truncates an epoch-ms timestamp to its minute.
func minuteMillis(ts int64) int64 { return ts - ((ts%60000)+60000)%60000 }

// millisTime converts epoch milliseconds to a time.Time in UTC.
func millisTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
