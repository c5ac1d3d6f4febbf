package logs

import "context"

// Store persists log groups, streams, events and metric filters. Every method is scoped by
// account and region. Methods report missing or duplicate resources with the sentinel errors of
// this package (ErrLogGroupNotFound, ErrLogStreamExists, ...), wrapped or not; any other error is
// an internal failure.
type Store interface {
	// CreateLogGroup stores g (with g.Tags); ErrLogGroupExists if the name is taken.
	CreateLogGroup(ctx context.Context, s Scope, g LogGroup) error
	// DeleteLogGroup removes the group with its streams, events, metric filters and tags.
	DeleteLogGroup(ctx context.Context, s Scope, name string) error
	// GetLogGroup returns the group with its tags, metric filter count and stored bytes.
	GetLogGroup(ctx context.Context, s Scope, name string) (LogGroup, error)
	// ListLogGroups returns up to q.Limit groups sorted by name (Tags left nil).
	ListLogGroups(ctx context.Context, s Scope, q GroupQuery) ([]LogGroup, error)
	// SetRetention sets the retention in days; 0 removes the policy.
	SetRetention(ctx context.Context, s Scope, name string, days int) error
	// TagLogGroup adds or overwrites tags.
	TagLogGroup(ctx context.Context, s Scope, name string, tags map[string]string) error
	// UntagLogGroup removes tags by key; unknown keys are ignored.
	UntagLogGroup(ctx context.Context, s Scope, name string, keys []string) error

	// CreateLogStream stores st in group; ErrLogGroupNotFound or ErrLogStreamExists.
	CreateLogStream(ctx context.Context, s Scope, group string, st LogStream) error
	// GetLogStream returns one stream; ErrLogGroupNotFound or ErrLogStreamNotFound.
	GetLogStream(ctx context.Context, s Scope, group, name string) (LogStream, error)
	// DeleteLogStream removes the stream and its events.
	DeleteLogStream(ctx context.Context, s Scope, group, name string) error
	// ListLogStreams returns up to q.Limit streams of group in the order q asks for.
	ListLogStreams(ctx context.Context, s Scope, group string, q StreamQuery) ([]LogStream, error)

	// AppendEvents writes b.Events to the stream, updates the stream's bookkeeping (first/last
	// event timestamp, last ingestion time, stored bytes, upload sequence) and stores b.Samples, all
	// in one transaction. It returns the stream's new upload sequence. An empty b.Events still
	// checks that the stream exists and advances the sequence.
	AppendEvents(ctx context.Context, s Scope, b AppendBatch) (uploadSequence int64, err error)
	// AppendUnique is AppendEvents with deduplication by b.DedupKeys, decided inside the
	// transaction so that concurrent deliveries of one record store it once: duplicates are
	// skipped together with their samples (b.SampleEvents), and the stream's bookkeeping counts only
	// the events stored.
	AppendUnique(ctx context.Context, s Scope, b AppendBatch) (AppendResult, error)
	// ScanEvents calls fn for the events q selects, in (Timestamp, Seq) order (reversed when
	// q.Descending), until fn returns false or the events run out. It reports ErrLogGroupNotFound
	// for a missing group.
	ScanEvents(ctx context.Context, s Scope, q EventQuery, fn func(Event) bool) error
	// ExpireEvents deletes, across all scopes, the events older than their group's retention at
	// now (epoch ms) and returns how many it deleted.
	ExpireEvents(ctx context.Context, now int64) (int64, error)

	// PutMetricFilter creates or replaces (same group and name) a metric filter, storing
	// f.Replacing(the filter it replaces, read in the same transaction), so that a filter put again
	// with the same definition keeps its LiveSince; f.LiveSince is the put's time.
	// ErrMetricFilterLimit when creating one more than maxPerGroup in the group.
	PutMetricFilter(ctx context.Context, s Scope, f MetricFilter, maxPerGroup int) error
	// DeleteMetricFilter removes a filter; ErrMetricFilterNotFound if absent.
	DeleteMetricFilter(ctx context.Context, s Scope, group, name string) error
	// ListMetricFilters returns up to q.Limit filters ordered by (group name, filter name), each
	// with its stored Status; q.Limit 0 means all.
	ListMetricFilters(ctx context.Context, s Scope, q FilterQuery) ([]MetricFilter, error)
	// DisableMetricFilter stores st as the Status of the filter named name in group, if that filter
	// still has the given creation time; otherwise (replaced or deleted since) it does nothing and
	// returns nil. PutMetricFilter clears the status, since it replaces the filter.
	DisableMetricFilter(ctx context.Context, s Scope, group, name string, creationTime int64, st FilterStatus) error
}
