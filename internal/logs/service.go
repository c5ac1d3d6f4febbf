package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// Service implements the CloudWatch Logs operations on top of a Store. It is safe for concurrent
// use.
type Service struct {
	store Store
	now   func() time.Time
	// OnSamples, when non-nil, is called after a batch that produced metric samples has committed
	// (the alarm scheduler's trigger): every batch that stored events does, since its AWS/Logs
	// samples count them. It must not block for long.
	OnSamples func([]metrics.Sample)
	// IsRecordGroup, when non-nil, tells whether a log group receives CloudTrail records (a trail
	// delivers to it), which makes PutLogEvents deduplicate its events by RecordKey. It is asked
	// when the group's state is loaded; call Forget when its answer changes.
	IsRecordGroup func(ctx context.Context, sc Scope, group string) (bool, error)
	// RecordKey returns the deduplication key of a record group's event message, "" for none.
	RecordKey func(message string) string
	// OnPutLogEvents, when non-nil, is called after a PutLogEvents call has stored its batch, with
	// the events it accepted (those not rejected for their time; duplicates of a record group
	// included): the server's ingest metrics. It must not block for long.
	OnPutLogEvents func(sc Scope, group string, accepted []InputLogEvent)
	// OnStored, when non-nil, is called after every batch of events has committed, from
	// PutLogEvents and PutRecords alike, with the events stored (duplicates left out): the
	// console's live event feed. It must not block; MatchingFilters tells which filters match.
	OnStored func(StoredBatch)
	// Logger, when non-nil, receives what an operator must know about metric filters: one
	// disabled for its dimensions' cardinality, one whose stored pattern no longer compiles.
	Logger *slog.Logger

	mu     sync.Mutex
	groups map[groupKey]*groupState // cached per-group ingestion state, see groupState
	gen    uint64                   // bumped by every forget
	limits map[filterKey]*dimLimit  // dimension limits of metric filters, see dimLimit
}

// NewService returns a Service over store; now is its clock (nil means time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, groups: make(map[groupKey]*groupState), limits: make(map[filterKey]*dimLimit)}
}

func (s *Service) nowMillis() int64 { return s.now().UnixMilli() }

// LogGroupARN is a log group's ARN as TagResource and DescribeLogGroups' logGroupArn use it.
// (DescribeLogGroups' older arn member is this plus ":*".)
func LogGroupARN(sc Scope, name string) string {
	return "arn:aws:logs:" + sc.Region + ":" + sc.AccountID + ":log-group:" + name
}

// LogStreamARN is a log stream's ARN as DescribeLogStreams reports it.
func LogStreamARN(sc Scope, group, stream string) string {
	return LogGroupARN(sc, group) + ":log-stream:" + stream
}

// resolveGroup picks the log group name from logGroupName or logGroupIdentifier (a name or an
// ARN, with or without the ":*" suffix). Both at once is AWS's ValidationException (LocalStack
// snapshot test_logs_streams "error-both-name-and-identifier").
func resolveGroup(sc Scope, name, identifier string) (string, error) {
	if name != "" && identifier != "" {
		return "", &Error{CodeValidation, "LogGroup name and LogGroup ARN are mutually exclusive parameters."}
	}
	if identifier == "" {
		return name, nil
	}
	if !strings.HasPrefix(identifier, "arn:") {
		return identifier, nil
	}
	rest, ok := strings.CutPrefix(identifier, "arn:aws:logs:"+sc.Region+":"+sc.AccountID+":log-group:")
	if !ok {
		return "", ErrLogGroupNotFound
	}
	return strings.TrimSuffix(rest, ":*"), nil
}

// CreateLogGroupInput is the input of CreateLogGroup.
type CreateLogGroupInput struct {
	LogGroupName  string
	KMSKeyID      string
	LogGroupClass string
	Tags          map[string]string
}

// CreateLogGroup creates a log group. kmsKeyId is recorded but not used: trailwatch does not
// encrypt at rest per group. logGroupClass defaults to STANDARD.
func (s *Service) CreateLogGroup(ctx context.Context, sc Scope, in CreateLogGroupInput) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", in.LogGroupName); err != nil {
		return err
	}
	if len(in.KMSKeyID) > maxKMSKeyIDLen {
		v.add(in.KMSKeyID, "kmsKeyId", "Member must have length less than or equal to 256")
	}
	class := in.LogGroupClass
	if class == "" {
		class = "STANDARD"
	} else if !validLogGroupClass[class] {
		v.add(class, "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]")
	}
	checkTags(&v, "tags", in.Tags)
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.CreateLogGroup(ctx, sc, LogGroup{
		Name:          in.LogGroupName,
		CreationTime:  s.nowMillis(),
		KMSKeyID:      in.KMSKeyID,
		LogGroupClass: class,
		Tags:          in.Tags,
	})
	s.forget(sc, in.LogGroupName)
	return storeErr("create log group", err)
}

// DeleteLogGroup deletes a log group with everything in it.
func (s *Service) DeleteLogGroup(ctx context.Context, sc Scope, name string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", name); err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.DeleteLogGroup(ctx, sc, name)
	s.forget(sc, name)
	s.dropLimits(sc, name)
	return storeErr("delete log group", err)
}

// DescribeLogGroupsInput is the input of DescribeLogGroups.
type DescribeLogGroupsInput struct {
	LogGroupNamePrefix  string
	LogGroupNamePattern string
	NextToken           string
	// Limit is the page size; nil means the maximum.
	Limit *int
}

// DescribeLogGroupsOutput is the output of DescribeLogGroups.
type DescribeLogGroupsOutput struct {
	LogGroups []LogGroup
	NextToken string
	// Abbreviated is set when the request used logGroupNamePattern: AWS then returns only the
	// arn, creationTime and logGroupName members (plus the newer logGroupArn, logGroupClass and
	// metricFilterCount: LocalStack snapshot test_logs_groups "describe-log-groups-pattern").
	Abbreviated bool
}

// DescribeLogGroups lists log groups sorted by name, 50 per page unless limit says fewer.
func (s *Service) DescribeLogGroups(ctx context.Context, sc Scope, in DescribeLogGroupsInput) (DescribeLogGroupsOutput, error) {
	var v violations
	if in.LogGroupNamePrefix != "" {
		if err := checkLogGroupName(&v, "logGroupNamePrefix", in.LogGroupNamePrefix); err != nil {
			return DescribeLogGroupsOutput{}, err
		}
	}
	if in.LogGroupNamePattern != "" {
		checkLen(&v, "logGroupNamePattern", in.LogGroupNamePattern, 0, maxNameLen)
		for _, r := range in.LogGroupNamePattern {
			if !isLogGroupNameChar(r) {
				v.add(in.LogGroupNamePattern, "logGroupNamePattern", `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*`)
				break
			}
		}
	}
	checkLimit(&v, in.Limit, maxDescribeLimit)
	if err := v.err(); err != nil {
		return DescribeLogGroupsOutput{}, err
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return DescribeLogGroupsOutput{}, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	limit := limitOr(in.Limit, maxDescribeLimit)
	q := GroupQuery{Prefix: in.LogGroupNamePrefix, Contains: in.LogGroupNamePattern, Limit: limit + 1}
	if in.NextToken != "" {
		parts, err := decodeKeyToken(in.NextToken, "g", 1)
		if err != nil {
			return DescribeLogGroupsOutput{}, err
		}
		q.After = parts[0]
	}
	groups, err := s.store.ListLogGroups(ctx, sc, q)
	if err != nil {
		return DescribeLogGroupsOutput{}, fmt.Errorf("list log groups: %w", err)
	}
	out := DescribeLogGroupsOutput{Abbreviated: in.LogGroupNamePattern != ""}
	if len(groups) > limit {
		groups = groups[:limit]
		out.NextToken = encodeKeyToken("g", groups[limit-1].Name)
	}
	out.LogGroups = groups
	return out, nil
}

// CreateLogStream creates a log stream in a log group.
func (s *Service) CreateLogStream(ctx context.Context, sc Scope, group, stream string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	if err := checkLogStreamName(&v, "logStreamName", stream); err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.CreateLogStream(ctx, sc, group, LogStream{Name: stream, CreationTime: s.nowMillis()})
	return storeErr("create log stream", err)
}

// DeleteLogStream deletes a log stream and its events.
func (s *Service) DeleteLogStream(ctx context.Context, sc Scope, group, stream string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	if err := checkLogStreamName(&v, "logStreamName", stream); err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	return storeErr("delete log stream", s.store.DeleteLogStream(ctx, sc, group, stream))
}

// DescribeLogStreamsInput is the input of DescribeLogStreams.
type DescribeLogStreamsInput struct {
	LogGroupName        string
	LogGroupIdentifier  string
	LogStreamNamePrefix string
	// OrderBy is LogStreamName (default) or LastEventTime.
	OrderBy    string
	Descending bool
	NextToken  string
	// Limit is the page size; nil means the maximum.
	Limit *int
}

// DescribeLogStreamsOutput is the output of DescribeLogStreams.
type DescribeLogStreamsOutput struct {
	LogStreams []LogStream
	// LogGroupName is the resolved group, for building stream ARNs.
	LogGroupName string
	NextToken    string
}

// DescribeLogStreams lists the streams of a group by name or by last event time.
func (s *Service) DescribeLogStreams(ctx context.Context, sc Scope, in DescribeLogStreamsInput) (DescribeLogStreamsOutput, error) {
	group, err := resolveGroup(sc, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return DescribeLogStreamsOutput{}, err
	}
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return DescribeLogStreamsOutput{}, err
	}
	if in.LogStreamNamePrefix != "" {
		if err := checkLogStreamName(&v, "logStreamNamePrefix", in.LogStreamNamePrefix); err != nil {
			return DescribeLogStreamsOutput{}, err
		}
	}
	byTime := false
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		byTime = true
	default:
		v.add(in.OrderBy, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	checkLimit(&v, in.Limit, maxDescribeLimit)
	if err := v.err(); err != nil {
		return DescribeLogStreamsOutput{}, err
	}
	if byTime && in.LogStreamNamePrefix != "" {
		// "If orderBy is LastEventTime, you cannot specify this parameter." (DescribeLogStreams
		// API reference, logStreamNamePrefix); the text is AWS's, as quoted in
		// turbot/steampipe-plugin-aws#1949.
		return DescribeLogStreamsOutput{}, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	limit := limitOr(in.Limit, maxDescribeLimit)
	q := StreamQuery{Prefix: in.LogStreamNamePrefix, ByLastEventTime: byTime, Descending: in.Descending, Limit: limit + 1}
	if in.NextToken != "" {
		parts, err := decodeKeyToken(in.NextToken, "s", 2)
		if err != nil {
			return DescribeLogStreamsOutput{}, err
		}
		var ts int64
		if _, err := fmt.Sscan(parts[0], &ts); err != nil {
			return DescribeLogStreamsOutput{}, errInvalidToken
		}
		q.After = &StreamCursor{LastEventTimestamp: ts, Name: parts[1]}
	}
	streams, err := s.store.ListLogStreams(ctx, sc, group, q)
	if err != nil {
		return DescribeLogStreamsOutput{}, storeErr("list log streams", err)
	}
	out := DescribeLogStreamsOutput{LogGroupName: group}
	if len(streams) > limit {
		streams = streams[:limit]
		last := streams[limit-1]
		out.NextToken = encodeKeyToken("s", fmt.Sprint(last.LastEventTimestamp), last.Name)
	}
	out.LogStreams = streams
	return out, nil
}

// PutRetentionPolicy sets how long a group keeps events. Events older than the retention stop
// being returned at once and are deleted by the next ExpireEvents sweep.
func (s *Service) PutRetentionPolicy(ctx context.Context, sc Scope, group string, days int) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	if !validRetention[days] {
		v.add(days, "retentionInDays", "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")
	}
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.SetRetention(ctx, sc, group, days)
	s.forget(sc, group)
	return storeErr("put retention policy", err)
}

// DeleteRetentionPolicy makes a group keep its events forever.
func (s *Service) DeleteRetentionPolicy(ctx context.Context, sc Scope, group string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.SetRetention(ctx, sc, group, 0)
	s.forget(sc, group)
	return storeErr("delete retention policy", err)
}

// ExpireEvents deletes every event older than its group's retention; the app calls it
// periodically. Reads never return such events even before the sweep.
func (s *Service) ExpireEvents(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.store.ExpireEvents(ctx, now.UnixMilli())
	if err != nil {
		return n, fmt.Errorf("expire log events: %w", err)
	}
	return n, nil
}

// groupFromARN extracts the log group name from a log group ARN of this scope
// (arn:aws:logs:<region>:<account>:log-group:<name>, optionally with ":*").
func groupFromARN(sc Scope, arn string) (string, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:logs:")
	if !ok {
		return "", invalidParameter("Invalid ARN: %s", arn)
	}
	region, rest, _ := strings.Cut(rest, ":")
	account, rest, _ := strings.Cut(rest, ":")
	name, ok := strings.CutPrefix(rest, "log-group:")
	if !ok || name == "" {
		return "", invalidParameter("Invalid ARN: %s", arn)
	}
	if region != sc.Region || account != sc.AccountID {
		return "", ErrLogGroupNotFound
	}
	return strings.TrimSuffix(name, ":*"), nil
}

// TagResource adds tags to a log group named by ARN.
func (s *Service) TagResource(ctx context.Context, sc Scope, arn string, tags map[string]string) error {
	var v violations
	checkTags(&v, "tags", tags)
	if len(tags) == 0 {
		v.add("{}", "tags", "Member must have length greater than or equal to 1")
	}
	if err := v.err(); err != nil {
		return err
	}
	group, err := groupFromARN(sc, arn)
	if err != nil {
		return err
	}
	err = s.store.TagLogGroup(ctx, sc, group, tags)
	s.forget(sc, group) // the dedup tag is part of the group's cached state
	return storeErr("tag log group", err)
}

// UntagResource removes tags from a log group named by ARN.
func (s *Service) UntagResource(ctx context.Context, sc Scope, arn string, keys []string) error {
	group, err := groupFromARN(sc, arn)
	if err != nil {
		return err
	}
	err = s.store.UntagLogGroup(ctx, sc, group, keys)
	s.forget(sc, group)
	return storeErr("untag log group", err)
}

// ListTagsForResource returns the tags of a log group named by ARN.
func (s *Service) ListTagsForResource(ctx context.Context, sc Scope, arn string) (map[string]string, error) {
	group, err := groupFromARN(sc, arn)
	if err != nil {
		return nil, err
	}
	return s.ListTagsLogGroup(ctx, sc, group)
}

// TagLogGroup is the legacy, name-addressed form of TagResource.
func (s *Service) TagLogGroup(ctx context.Context, sc Scope, group string, tags map[string]string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	checkTags(&v, "tags", tags)
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.TagLogGroup(ctx, sc, group, tags)
	s.forget(sc, group) // the dedup tag is part of the group's cached state
	return storeErr("tag log group", err)
}

// UntagLogGroup is the legacy, name-addressed form of UntagResource.
func (s *Service) UntagLogGroup(ctx context.Context, sc Scope, group string, keys []string) error {
	var v violations
	if err := checkLogGroupName(&v, "logGroupName", group); err != nil {
		return err
	}
	if err := v.err(); err != nil {
		return err
	}
	err := s.store.UntagLogGroup(ctx, sc, group, keys)
	s.forget(sc, group)
	return storeErr("untag log group", err)
}

// ListTagsLogGroup is the legacy, name-addressed form of ListTagsForResource.
func (s *Service) ListTagsLogGroup(ctx context.Context, sc Scope, group string) (map[string]string, error) {
	g, err := s.store.GetLogGroup(ctx, sc, group)
	if err != nil {
		return nil, storeErr("get log group", err)
	}
	if g.Tags == nil {
		g.Tags = map[string]string{}
	}
	return g.Tags, nil
}

// storeErr passes the package's own errors through unchanged (they are meant for clients) and
// wraps anything else as an internal failure.
func storeErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("%s: %w", what, err)
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
