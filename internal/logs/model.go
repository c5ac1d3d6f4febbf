package logs

import "github.com/trailwatch/trailwatch/internal/metrics"

// Scope is the (account, region) pair every resource belongs to; nothing is visible across
// scopes.
type Scope struct {
	AccountID string
	Region    string
}

// LogGroup is a stored log group. Times are epoch milliseconds.
type LogGroup struct {
	Name         string
	CreationTime int64
	// RetentionInDays is 0 when events never expire.
	RetentionInDays int
	KMSKeyID        string
	// LogGroupClass is STANDARD, INFREQUENT_ACCESS, DELIVERY or ESSENTIALS.
	LogGroupClass string
	// MetricFilterCount and StoredBytes are filled by the store when listing.
	MetricFilterCount int
	StoredBytes       int64
	// Tags is filled by GetLogGroup (and accepted by CreateLogGroup); ListLogGroups may leave it nil.
	Tags map[string]string
}

// LogStream is a stored log stream. The event times are 0 until the first event arrives.
type LogStream struct {
	Name                string
	CreationTime        int64
	FirstEventTimestamp int64
	LastEventTimestamp  int64
	LastIngestionTime   int64
	StoredBytes         int64
	// UploadSequence counts accepted PutLogEvents calls; it backs the (ignored) sequence tokens.
	UploadSequence int64
}

// InputLogEvent is one event of a PutLogEvents request.
type InputLogEvent struct {
	Timestamp int64
	Message   string
}

// Event is a stored log event. Seq is the store's ingestion order, unique across the database;
// (Timestamp, Seq) is the order in which reads return events.
type Event struct {
	Seq           int64
	LogStreamName string
	Timestamp     int64
	IngestionTime int64
	Message       string
}

// MetricFilter is a stored metric filter.
type MetricFilter struct {
	LogGroupName   string
	FilterName     string
	FilterPattern  string
	CreationTime   int64
	Transformation MetricTransformation
	// LiveSince is trailwatch's, not AWS's: the time (epoch ms) since which the filter's current
	// definition (Definition) has been live, so that every event stored after it was counted as it
	// arrived, except those stored while the filter was disabled (PausedFrom, PausedUntil).
	// CreationTime is the time of the latest PutMetricFilter, which is not the same thing: putting
	// an identical filter again (a re-run setup script, a Terraform apply) changes no count. A
	// backfill uses LiveSince as its default end and its "counted live" cutoff (CountedLive). 0 means
	// unknown (a filter read from AWS): CreationTime stands in for it.
	LiveSince int64
	// PausedFrom and PausedUntil (epoch ms, both 0 when there is none) bound the latest period in
	// which the filter, disabled for its dimensions' cardinality, counted nothing, before a
	// PutMetricFilter of the same definition enabled it again: events stored in it are not counted
	// live and a backfill may count them. Only the latest such period is kept: an earlier one is
	// treated as counted (a backfill skips its events), which can lose datapoints but never counts
	// an event twice.
	PausedFrom, PausedUntil int64
	// Status, when non-nil, says why the filter publishes nothing. A Store keeps a
	// FilterStateDisabled status (Store.DisableMetricFilter) until PutMetricFilter replaces the
	// filter; FilterStateInvalid is found by the service when it compiles the filter and is never
	// stored. AWS's MetricFilter shape has no member for either (see FilterStatus).
	Status *FilterStatus
}

// Metric filter states other than active. AWS's API has no member for a filter's state, so
// trailwatch shows these outside AWS's shape: DescribeMetricFilters adds trailwatchFilterState and
// trailwatchFilterStateReason to such a filter only (SDKs skip members they do not model), and the
// server logs the change once.
const (
	// FilterStateDisabled: trailwatch disabled the filter because its dimensions generated more
	// than 1,000 distinct name/value pairs within an hour, as CloudWatch Logs does.
	FilterStateDisabled = "DISABLED"
	// FilterStateInvalid: the stored pattern no longer compiles (a pattern-language change since it
	// was put), so the filter is skipped when its group is loaded.
	FilterStateInvalid = "INVALID"
)

// FilterStatus is the state of a metric filter that publishes nothing.
type FilterStatus struct {
	// State is FilterStateDisabled or FilterStateInvalid.
	State string
	// Reason says why, for people: the limit that was exceeded, or the compile error.
	Reason string
	// Time is when the filter was disabled, epoch ms; 0 for an invalid filter.
	Time int64
}

// MetricTransformation says what a metric filter publishes for each matching event.
type MetricTransformation struct {
	MetricName      string
	MetricNamespace string
	MetricValue     string
	// DefaultValue, when non-nil, is published for every minute with events but no match.
	DefaultValue *float64
	// Dimensions maps a dimension name to a field reference such as $.eventName or $user.
	Dimensions map[string]string
	// Unit is a CloudWatch StandardUnit name; "" means None.
	Unit string
}

// GroupQuery selects log groups for Store.ListLogGroups, sorted by name.
type GroupQuery struct {
	Prefix string
	// Contains is a case-sensitive substring (DescribeLogGroups logGroupNamePattern).
	Contains string
	// After, when non-empty, returns only names greater than it (pagination).
	After string
	Limit int
}

// StreamQuery selects log streams of one group for Store.ListLogStreams.
type StreamQuery struct {
	Prefix string
	// ByLastEventTime orders by (LastEventTimestamp, Name) instead of Name.
	ByLastEventTime bool
	Descending      bool
	// After is the pagination cursor: the sort key of the last stream already returned.
	After *StreamCursor
	Limit int
}

// StreamCursor is a position in a stream listing.
type StreamCursor struct {
	LastEventTimestamp int64
	Name               string
}

// EventCursor is a position in the (Timestamp, Seq) order of events.
type EventCursor struct {
	Timestamp int64
	Seq       int64
}

// EventQuery selects events of one log group (and optionally some of its streams) for
// Store.ScanEvents, in (Timestamp, Seq) order.
type EventQuery struct {
	LogGroupName string
	// Streams, when non-empty, restricts to these stream names.
	Streams []string
	// StreamPrefix, when non-empty, restricts to streams whose name starts with it.
	StreamPrefix string
	// StartTime is inclusive, EndTime exclusive; EndTime 0 means no upper bound.
	StartTime, EndTime int64
	// After and Before are exclusive cursors; nil means unbounded.
	After, Before *EventCursor
	// Descending scans from the newest event backwards.
	Descending bool
}

// FilterQuery selects metric filters for Store.ListMetricFilters, ordered by (group, filter name).
type FilterQuery struct {
	LogGroupName     string
	FilterNamePrefix string
	MetricName       string
	MetricNamespace  string
	// AfterGroup/AfterName form the pagination cursor.
	AfterGroup, AfterName string
	Limit                 int
}

// AppendBatch is what one PutLogEvents call writes: the accepted events (chronological) and the
// metric samples they produced, committed atomically.
type AppendBatch struct {
	LogGroupName  string
	LogStreamName string
	Events        []InputLogEvent
	IngestionTime int64
	Samples       []metrics.Sample
	// DedupKeys, when non-nil, is parallel to Events: an event with a non-empty key is stored only
	// if no event of the log group (already stored, or earlier in the batch) has that key and the
	// same timestamp. The timestamp is part of the identity so that stores can keep keys in time
	// order, where a batch's keys share a few index pages instead of one random page each; records
	// lose nothing by it, since a CloudTrail record's timestamp is its own eventTime and so is the
	// same in every delivery. Only Store.AppendUnique reads it.
	DedupKeys []string
	// SampleEvents, when non-nil, is parallel to Samples: the index in Events of the event that
	// produced each sample, or -1 for a sample tied to no single event (a defaultValue). A sample of
	// a dropped duplicate is dropped with it. Only Store.AppendUnique reads it.
	SampleEvents []int
	// CreateStream makes a missing stream be created (at IngestionTime) in the same transaction,
	// as CloudTrail's delivery creates its stream: a source with one stream per account and region
	// would otherwise spend three transactions on each new stream. Only Store.AppendUnique reads it.
	CreateStream bool
}

// AppendResult is what Store.AppendUnique did with a batch.
type AppendResult struct {
	UploadSequence int64
	// Duplicate is parallel to the batch's Events: true for an event that was not stored because
	// its key was already taken.
	Duplicate []bool
	// Samples are the samples stored (those of the stored events and the unattached ones).
	Samples []metrics.Sample
}

// SameDefinition reports whether f and g publish the same datapoints for the same events: the
// same pattern text and the same transformation (metric name, namespace, value, default value,
// dimensions and unit). Names, times and status are not part of the definition.
func (f MetricFilter) SameDefinition(g MetricFilter) bool {
	a, b := f.Transformation, g.Transformation
	if f.FilterPattern != g.FilterPattern || a.MetricName != b.MetricName || a.MetricNamespace != b.MetricNamespace ||
		a.MetricValue != b.MetricValue || a.Unit != b.Unit || (a.DefaultValue == nil) != (b.DefaultValue == nil) ||
		len(a.Dimensions) != len(b.Dimensions) {
		return false
	}
	if a.DefaultValue != nil && *a.DefaultValue != *b.DefaultValue {
		return false
	}
	for k, v := range a.Dimensions {
		if w, ok := b.Dimensions[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Replacing returns f, put at f.LiveSince, as it is stored in place of old, the filter of the same
// group and name it replaces (nil when there is none). A different definition is live only from
// the put: f is returned as it is. The same definition, active, keeps old's LiveSince and paused
// period, since it counted every event since then and a re-put changes nothing it publishes. The
// same definition, DISABLED for its dimensions' cardinality, is enabled again by the put: it keeps
// old's LiveSince, and the period from the disabling to the put becomes its paused period (events
// stored then were not counted, so a backfill may count them).
//
// trailwatch's choice for re-enabling: resetting LiveSince to the put would make a default backfill
// count again every event the filter counted before it was disabled; keeping it without a paused
// period would make the disabled period's events impossible to backfill.
func (f MetricFilter) Replacing(old *MetricFilter) MetricFilter {
	if old == nil || !f.SameDefinition(*old) {
		f.PausedFrom, f.PausedUntil = 0, 0
		return f
	}
	put := f.LiveSince
	f.LiveSince = old.LiveSince
	f.PausedFrom, f.PausedUntil = old.PausedFrom, old.PausedUntil
	if old.Status != nil && old.Status.State == FilterStateDisabled {
		f.PausedFrom, f.PausedUntil = old.Status.Time, put
	}
	return f
}

// liveSince is LiveSince, or CreationTime when it is unknown (a filter described by AWS).
func (f MetricFilter) liveSince() int64 {
	if f.LiveSince != 0 {
		return f.LiveSince
	}
	return f.CreationTime
}

// CountedLive reports whether the filter counted, as it arrived, an event stored at ingestionTime
// (epoch ms): one stored after LiveSince and not within the paused period. An event stored in the
// very millisecond of LiveSince or of the end of the paused period is not counted live (it may
// have been stored just before the put); one stored in the millisecond the filter was disabled is,
// since the batch that disabled the filter was partly counted. While the filter is disabled, the
// events stored since are taken as counted (skipped) until a put enables it again and so makes
// that period its paused period: a backfill of a disabled filter would publish what the limit
// refused.
func (f MetricFilter) CountedLive(ingestionTime int64) bool {
	if ingestionTime <= f.liveSince() {
		return false
	}
	return f.PausedUntil == 0 || ingestionTime <= f.PausedFrom || ingestionTime > f.PausedUntil
}
