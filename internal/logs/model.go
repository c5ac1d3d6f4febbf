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
