// Package logsapi serves the CloudWatch Logs API (awsJson 1.1, X-Amz-Target Logs_20140328.<Op>)
// on the awsapi framework. It only maps the wire shapes, whose member names are the AWS model's
// camelCase ones, to the logs domain service and back; every rule and error text lives in
// package logs.
package logsapi

import (
	"context"

	"github.com/trailwatch/trailwatch/internal/awsapi"
	"github.com/trailwatch/trailwatch/internal/logs"
)

// NewService describes the CloudWatch Logs service for awsapi.NewHandler.
func NewService(l *logs.Service) *awsapi.Service {
	a := &adapter{l: l}
	return &awsapi.Service{
		SigningName:    "logs",
		TargetPrefixes: []string{"Logs_20140328"},
		JSONVersion:    "1.1",
		Operations: map[string]awsapi.Operation{
			"CreateLogGroup":        awsapi.Op(a.createLogGroup),
			"DeleteLogGroup":        awsapi.Op(a.deleteLogGroup),
			"DescribeLogGroups":     awsapi.Op(a.describeLogGroups),
			"ListLogGroups":         awsapi.Op(a.listLogGroups),
			"CreateLogStream":       awsapi.Op(a.createLogStream),
			"DeleteLogStream":       awsapi.Op(a.deleteLogStream),
			"DescribeLogStreams":    awsapi.Op(a.describeLogStreams),
			"PutLogEvents":          awsapi.Op(a.putLogEvents),
			"GetLogEvents":          awsapi.Op(a.getLogEvents),
			"FilterLogEvents":       awsapi.Op(a.filterLogEvents),
			"PutRetentionPolicy":    awsapi.Op(a.putRetentionPolicy),
			"DeleteRetentionPolicy": awsapi.Op(a.deleteRetentionPolicy),
			"PutMetricFilter":       awsapi.Op(a.putMetricFilter),
			"DescribeMetricFilters": awsapi.Op(a.describeMetricFilters),
			"DeleteMetricFilter":    awsapi.Op(a.deleteMetricFilter),
			"TestMetricFilter":      awsapi.Op(a.testMetricFilter),
			"TagResource":           awsapi.Op(a.tagResource),
			"UntagResource":         awsapi.Op(a.untagResource),
			"ListTagsForResource":   awsapi.Op(a.listTagsForResource),
			"TagLogGroup":           awsapi.Op(a.tagLogGroup),
			"UntagLogGroup":         awsapi.Op(a.untagLogGroup),
			"ListTagsLogGroup":      awsapi.Op(a.listTagsLogGroup),
		},
	}
}

type adapter struct{ l *logs.Service }

type empty struct{}

func scope(ctx context.Context) logs.Scope {
	id := awsapi.Caller(ctx)
	return logs.Scope{AccountID: id.AccountID, Region: id.Region}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func limit(p *int32) *int {
	if p == nil {
		return nil
	}
	n := int(*p)
	return &n
}

func ptr[T any](v T) *T { return &v }

// nonZero is nil for 0: Logs omits event-time members of streams that have no events yet.
func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// --- log groups ---

type createLogGroupInput struct {
	LogGroupName  *string           `json:"logGroupName,omitempty"`
	KmsKeyID      *string           `json:"kmsKeyId,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	LogGroupClass *string           `json:"logGroupClass,omitempty"`
}

func (a *adapter) createLogGroup(ctx context.Context, in *createLogGroupInput) (*empty, error) {
	return nil, a.l.CreateLogGroup(ctx, scope(ctx), logs.CreateLogGroupInput{
		LogGroupName: str(in.LogGroupName), KMSKeyID: str(in.KmsKeyID), LogGroupClass: str(in.LogGroupClass), Tags: in.Tags,
	})
}

type listLogGroupsInput struct {
	LogGroupNamePattern   *string  `json:"logGroupNamePattern,omitempty"`
	LogGroupClass         *string  `json:"logGroupClass,omitempty"`
	IncludeLinkedAccounts *bool    `json:"includeLinkedAccounts,omitempty"`
	AccountIdentifiers    []string `json:"accountIdentifiers,omitempty"`
	NextToken             *string  `json:"nextToken,omitempty"`
	Limit                 *int32   `json:"limit,omitempty"`
}

// logGroupSummary is the model's LogGroupSummary.
type logGroupSummary struct {
	LogGroupName  *string `json:"logGroupName,omitempty"`
	LogGroupArn   *string `json:"logGroupArn,omitempty"`
	LogGroupClass *string `json:"logGroupClass,omitempty"`
}

type listLogGroupsOutput struct {
	LogGroups []logGroupSummary `json:"logGroups"`
	NextToken *string           `json:"nextToken,omitempty"`
}

// listLogGroups serves ListLogGroups: name, ARN (without DescribeLogGroups' ":*") and class of
// each matching group. Cross-account observability has no linked accounts here, so
// includeLinkedAccounts and accountIdentifiers list the caller's own groups.
func (a *adapter) listLogGroups(ctx context.Context, in *listLogGroupsInput) (*listLogGroupsOutput, error) {
	sc := scope(ctx)
	res, err := a.l.ListLogGroups(ctx, sc, logs.ListLogGroupsInput{
		LogGroupNamePattern: str(in.LogGroupNamePattern), LogGroupClass: str(in.LogGroupClass),
		NextToken: str(in.NextToken), Limit: limit(in.Limit),
	})
	if err != nil {
		return nil, err
	}
	out := &listLogGroupsOutput{LogGroups: make([]logGroupSummary, 0, len(res.LogGroups))}
	if res.NextToken != "" {
		out.NextToken = ptr(res.NextToken)
	}
	for _, g := range res.LogGroups {
		out.LogGroups = append(out.LogGroups, logGroupSummary{LogGroupName: ptr(g.Name),
			LogGroupArn: ptr(logs.LogGroupARN(sc, g.Name)), LogGroupClass: ptr(g.LogGroupClass)})
	}
	return out, nil
}

type logGroupNameInput struct {
	LogGroupName *string `json:"logGroupName,omitempty"`
}

func (a *adapter) deleteLogGroup(ctx context.Context, in *logGroupNameInput) (*empty, error) {
	return nil, a.l.DeleteLogGroup(ctx, scope(ctx), str(in.LogGroupName))
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix  *string `json:"logGroupNamePrefix,omitempty"`
	LogGroupNamePattern *string `json:"logGroupNamePattern,omitempty"`
	NextToken           *string `json:"nextToken,omitempty"`
	Limit               *int32  `json:"limit,omitempty"`
}

type logGroup struct {
	LogGroupName              *string `json:"logGroupName,omitempty"`
	CreationTime              *int64  `json:"creationTime,omitempty"`
	RetentionInDays           *int32  `json:"retentionInDays,omitempty"`
	MetricFilterCount         *int32  `json:"metricFilterCount,omitempty"`
	Arn                       *string `json:"arn,omitempty"`
	StoredBytes               *int64  `json:"storedBytes,omitempty"`
	KmsKeyID                  *string `json:"kmsKeyId,omitempty"`
	LogGroupClass             *string `json:"logGroupClass,omitempty"`
	LogGroupArn               *string `json:"logGroupArn,omitempty"`
	DeletionProtectionEnabled *bool   `json:"deletionProtectionEnabled,omitempty"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroup `json:"logGroups"`
	NextToken *string    `json:"nextToken,omitempty"`
}

// describeLogGroups renders groups as AWS does (LocalStack snapshot test_logs_groups): arn ends
// with ":*", logGroupArn does not; a pattern query returns the short form without storedBytes,
// retention and deletionProtectionEnabled.
func (a *adapter) describeLogGroups(ctx context.Context, in *describeLogGroupsInput) (*describeLogGroupsOutput, error) {
	sc := scope(ctx)
	res, err := a.l.DescribeLogGroups(ctx, sc, logs.DescribeLogGroupsInput{
		LogGroupNamePrefix: str(in.LogGroupNamePrefix), LogGroupNamePattern: str(in.LogGroupNamePattern),
		NextToken: str(in.NextToken), Limit: limit(in.Limit),
	})
	if err != nil {
		return nil, err
	}
	out := &describeLogGroupsOutput{LogGroups: []logGroup{}}
	if res.NextToken != "" {
		out.NextToken = ptr(res.NextToken)
	}
	for _, g := range res.LogGroups {
		arn := logs.LogGroupARN(sc, g.Name)
		lg := logGroup{
			LogGroupName:      ptr(g.Name),
			CreationTime:      ptr(g.CreationTime),
			MetricFilterCount: ptr(int32(g.MetricFilterCount)),
			Arn:               ptr(arn + ":*"),
			LogGroupArn:       ptr(arn),
			LogGroupClass:     ptr(g.LogGroupClass),
		}
		if !res.Abbreviated {
			lg.StoredBytes = ptr(g.StoredBytes)
			lg.DeletionProtectionEnabled = ptr(false)
			if g.RetentionInDays > 0 {
				lg.RetentionInDays = ptr(int32(g.RetentionInDays))
			}
			if g.KMSKeyID != "" {
				lg.KmsKeyID = ptr(g.KMSKeyID)
			}
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	return out, nil
}

type putRetentionPolicyInput struct {
	LogGroupName    *string `json:"logGroupName,omitempty"`
	RetentionInDays *int32  `json:"retentionInDays,omitempty"`
}

func (a *adapter) putRetentionPolicy(ctx context.Context, in *putRetentionPolicyInput) (*empty, error) {
	days := 0
	if in.RetentionInDays != nil {
		days = int(*in.RetentionInDays)
	}
	return nil, a.l.PutRetentionPolicy(ctx, scope(ctx), str(in.LogGroupName), days)
}

func (a *adapter) deleteRetentionPolicy(ctx context.Context, in *logGroupNameInput) (*empty, error) {
	return nil, a.l.DeleteRetentionPolicy(ctx, scope(ctx), str(in.LogGroupName))
}

// --- log streams ---

type logStreamInput struct {
	LogGroupName  *string `json:"logGroupName,omitempty"`
	LogStreamName *string `json:"logStreamName,omitempty"`
}

func (a *adapter) createLogStream(ctx context.Context, in *logStreamInput) (*empty, error) {
	return nil, a.l.CreateLogStream(ctx, scope(ctx), str(in.LogGroupName), str(in.LogStreamName))
}

func (a *adapter) deleteLogStream(ctx context.Context, in *logStreamInput) (*empty, error) {
	return nil, a.l.DeleteLogStream(ctx, scope(ctx), str(in.LogGroupName), str(in.LogStreamName))
}

type describeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName,omitempty"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier,omitempty"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix,omitempty"`
	OrderBy             *string `json:"orderBy,omitempty"`
	Descending          *bool   `json:"descending,omitempty"`
	NextToken           *string `json:"nextToken,omitempty"`
	Limit               *int32  `json:"limit,omitempty"`
}

type logStream struct {
	LogStreamName       *string `json:"logStreamName,omitempty"`
	CreationTime        *int64  `json:"creationTime,omitempty"`
	FirstEventTimestamp *int64  `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64  `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64  `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken *string `json:"uploadSequenceToken,omitempty"`
	Arn                 *string `json:"arn,omitempty"`
	StoredBytes         *int64  `json:"storedBytes,omitempty"`
}

type describeLogStreamsOutput struct {
	LogStreams []logStream `json:"logStreams"`
	NextToken  *string     `json:"nextToken,omitempty"`
}

func (a *adapter) describeLogStreams(ctx context.Context, in *describeLogStreamsInput) (*describeLogStreamsOutput, error) {
	sc := scope(ctx)
	res, err := a.l.DescribeLogStreams(ctx, sc, logs.DescribeLogStreamsInput{
		LogGroupName: str(in.LogGroupName), LogGroupIdentifier: str(in.LogGroupIdentifier),
		LogStreamNamePrefix: str(in.LogStreamNamePrefix), OrderBy: str(in.OrderBy),
		Descending: in.Descending != nil && *in.Descending, NextToken: str(in.NextToken), Limit: limit(in.Limit),
	})
	if err != nil {
		return nil, err
	}
	out := &describeLogStreamsOutput{LogStreams: []logStream{}}
	if res.NextToken != "" {
		out.NextToken = ptr(res.NextToken)
	}
	for _, s := range res.LogStreams {
		ls := logStream{
			LogStreamName:       ptr(s.Name),
			CreationTime:        ptr(s.CreationTime),
			FirstEventTimestamp: nonZero(s.FirstEventTimestamp),
			LastEventTimestamp:  nonZero(s.LastEventTimestamp),
			LastIngestionTime:   nonZero(s.LastIngestionTime),
			Arn:                 ptr(logs.LogStreamARN(sc, res.LogGroupName, s.Name)),
			StoredBytes:         ptr(s.StoredBytes),
		}
		if s.UploadSequence > 0 {
			ls.UploadSequenceToken = ptr(logs.SequenceToken(s.UploadSequence))
		}
		out.LogStreams = append(out.LogStreams, ls)
	}
	return out, nil
}

// --- events ---

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp,omitempty"`
	Message   *string `json:"message,omitempty"`
}

type putLogEventsInput struct {
	LogGroupName  *string         `json:"logGroupName,omitempty"`
	LogStreamName *string         `json:"logStreamName,omitempty"`
	LogEvents     []inputLogEvent `json:"logEvents,omitempty"`
	SequenceToken *string         `json:"sequenceToken,omitempty"`
}

type rejectedLogEventsInfo struct {
	TooNewLogEventStartIndex *int32 `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int32 `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int32 `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOutput struct {
	NextSequenceToken     *string                `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *rejectedLogEventsInfo `json:"rejectedLogEventsInfo,omitempty"`
}

func i32(p *int) *int32 {
	if p == nil {
		return nil
	}
	return ptr(int32(*p))
}

func (a *adapter) putLogEvents(ctx context.Context, in *putLogEventsInput) (*putLogEventsOutput, error) {
	evs := make([]logs.InputLogEvent, len(in.LogEvents))
	for i, e := range in.LogEvents {
		evs[i] = logs.InputLogEvent{Timestamp: i64(e.Timestamp), Message: str(e.Message)}
	}
	res, err := a.l.PutLogEvents(ctx, scope(ctx), logs.PutLogEventsInput{
		LogGroupName: str(in.LogGroupName), LogStreamName: str(in.LogStreamName), LogEvents: evs, SequenceToken: str(in.SequenceToken),
	})
	if err != nil {
		return nil, err
	}
	out := &putLogEventsOutput{NextSequenceToken: ptr(res.NextSequenceToken)}
	if r := res.RejectedLogEventsInfo; r != nil {
		out.RejectedLogEventsInfo = &rejectedLogEventsInfo{
			TooNewLogEventStartIndex: i32(r.TooNewLogEventStartIndex),
			TooOldLogEventEndIndex:   i32(r.TooOldLogEventEndIndex),
			ExpiredLogEventEndIndex:  i32(r.ExpiredLogEventEndIndex),
		}
	}
	return out, nil
}

type getLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName,omitempty"`
	LogGroupIdentifier *string `json:"logGroupIdentifier,omitempty"`
	LogStreamName      *string `json:"logStreamName,omitempty"`
	StartTime          *int64  `json:"startTime,omitempty"`
	EndTime            *int64  `json:"endTime,omitempty"`
	NextToken          *string `json:"nextToken,omitempty"`
	Limit              *int32  `json:"limit,omitempty"`
	StartFromHead      *bool   `json:"startFromHead,omitempty"`
	Unmask             *bool   `json:"unmask,omitempty"`
}

type outputLogEvent struct {
	Timestamp     *int64  `json:"timestamp,omitempty"`
	Message       *string `json:"message,omitempty"`
	IngestionTime *int64  `json:"ingestionTime,omitempty"`
}

type getLogEventsOutput struct {
	Events            []outputLogEvent `json:"events"`
	NextForwardToken  *string          `json:"nextForwardToken,omitempty"`
	NextBackwardToken *string          `json:"nextBackwardToken,omitempty"`
}

func (a *adapter) getLogEvents(ctx context.Context, in *getLogEventsInput) (*getLogEventsOutput, error) {
	res, err := a.l.GetLogEvents(ctx, scope(ctx), logs.GetLogEventsInput{
		LogGroupName: str(in.LogGroupName), LogGroupIdentifier: str(in.LogGroupIdentifier), LogStreamName: str(in.LogStreamName),
		StartTime: i64(in.StartTime), EndTime: i64(in.EndTime), NextToken: str(in.NextToken), Limit: limit(in.Limit),
		StartFromHead: in.StartFromHead != nil && *in.StartFromHead,
	})
	if err != nil {
		return nil, err
	}
	out := &getLogEventsOutput{Events: make([]outputLogEvent, len(res.Events)),
		NextForwardToken: ptr(res.NextForwardToken), NextBackwardToken: ptr(res.NextBackwardToken)}
	for i, e := range res.Events {
		out.Events[i] = outputLogEvent{Timestamp: ptr(e.Timestamp), Message: ptr(e.Message), IngestionTime: ptr(e.IngestionTime)}
	}
	return out, nil
}

type filterLogEventsInput struct {
	LogGroupName        *string  `json:"logGroupName,omitempty"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier,omitempty"`
	LogStreamNames      []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix,omitempty"`
	StartTime           *int64   `json:"startTime,omitempty"`
	EndTime             *int64   `json:"endTime,omitempty"`
	FilterPattern       *string  `json:"filterPattern,omitempty"`
	NextToken           *string  `json:"nextToken,omitempty"`
	Limit               *int32   `json:"limit,omitempty"`
	Interleaved         *bool    `json:"interleaved,omitempty"`
	Unmask              *bool    `json:"unmask,omitempty"`
}

type filteredLogEvent struct {
	LogStreamName *string `json:"logStreamName,omitempty"`
	Timestamp     *int64  `json:"timestamp,omitempty"`
	Message       *string `json:"message,omitempty"`
	IngestionTime *int64  `json:"ingestionTime,omitempty"`
	EventID       *string `json:"eventId,omitempty"`
}

type filterLogEventsOutput struct {
	Events    []filteredLogEvent `json:"events"`
	NextToken *string            `json:"nextToken,omitempty"`
}

func (a *adapter) filterLogEvents(ctx context.Context, in *filterLogEventsInput) (*filterLogEventsOutput, error) {
	res, err := a.l.FilterLogEvents(ctx, scope(ctx), logs.FilterLogEventsInput{
		LogGroupName: str(in.LogGroupName), LogGroupIdentifier: str(in.LogGroupIdentifier),
		LogStreamNames: in.LogStreamNames, LogStreamNamePrefix: str(in.LogStreamNamePrefix),
		StartTime: i64(in.StartTime), EndTime: i64(in.EndTime), FilterPattern: str(in.FilterPattern),
		NextToken: str(in.NextToken), Limit: limit(in.Limit),
	})
	if err != nil {
		return nil, err
	}
	out := &filterLogEventsOutput{Events: make([]filteredLogEvent, len(res.Events))}
	if res.NextToken != "" {
		out.NextToken = ptr(res.NextToken)
	}
	for i, e := range res.Events {
		out.Events[i] = filteredLogEvent{LogStreamName: ptr(e.LogStreamName), Timestamp: ptr(e.Timestamp), Message: ptr(e.Message),
			IngestionTime: ptr(e.IngestionTime), EventID: ptr(logs.EventID(e))}
	}
	return out, nil
}

// --- metric filters ---

type metricTransformation struct {
	MetricName      *string           `json:"metricName,omitempty"`
	MetricNamespace *string           `json:"metricNamespace,omitempty"`
	MetricValue     *string           `json:"metricValue,omitempty"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            *string           `json:"unit,omitempty"`
}

type putMetricFilterInput struct {
	LogGroupName           *string                `json:"logGroupName,omitempty"`
	FilterName             *string                `json:"filterName,omitempty"`
	FilterPattern          *string                `json:"filterPattern,omitempty"`
	MetricTransformations  []metricTransformation `json:"metricTransformations,omitempty"`
	ApplyOnTransformedLogs *bool                  `json:"applyOnTransformedLogs,omitempty"`
}

func (a *adapter) putMetricFilter(ctx context.Context, in *putMetricFilterInput) (*empty, error) {
	ts := make([]logs.MetricTransformation, len(in.MetricTransformations))
	for i, t := range in.MetricTransformations {
		ts[i] = logs.MetricTransformation{MetricName: str(t.MetricName), MetricNamespace: str(t.MetricNamespace),
			MetricValue: str(t.MetricValue), DefaultValue: t.DefaultValue, Dimensions: t.Dimensions, Unit: str(t.Unit)}
	}
	return nil, a.l.PutMetricFilter(ctx, scope(ctx), logs.PutMetricFilterInput{
		LogGroupName: str(in.LogGroupName), FilterName: str(in.FilterName), FilterPattern: str(in.FilterPattern), MetricTransformations: ts,
	})
}

type describeMetricFiltersInput struct {
	LogGroupName     *string `json:"logGroupName,omitempty"`
	FilterNamePrefix *string `json:"filterNamePrefix,omitempty"`
	NextToken        *string `json:"nextToken,omitempty"`
	Limit            *int32  `json:"limit,omitempty"`
	MetricName       *string `json:"metricName,omitempty"`
	MetricNamespace  *string `json:"metricNamespace,omitempty"`
}

type metricFilter struct {
	FilterName             *string                `json:"filterName,omitempty"`
	FilterPattern          *string                `json:"filterPattern,omitempty"`
	MetricTransformations  []metricTransformation `json:"metricTransformations,omitempty"`
	CreationTime           *int64                 `json:"creationTime,omitempty"`
	LogGroupName           *string                `json:"logGroupName,omitempty"`
	ApplyOnTransformedLogs bool                   `json:"applyOnTransformedLogs"`
	// TrailwatchFilterState and TrailwatchFilterStateReason are trailwatch's, not AWS's: present
	// only on a filter that publishes nothing (logs.FilterStatus: DISABLED for its dimensions'
	// cardinality, INVALID when its stored pattern no longer compiles), since AWS's MetricFilter
	// has no member for a filter's state. AWS's SDKs and CLIs skip members their model lacks, so
	// they see AWS's shape; raw clients, --debug output and trailwatch's own tools see the state.
	TrailwatchFilterState       *string `json:"trailwatchFilterState,omitempty"`
	TrailwatchFilterStateReason *string `json:"trailwatchFilterStateReason,omitempty"`
	// TrailwatchLiveSince, TrailwatchPausedFrom and TrailwatchPausedUntil are trailwatch's too
	// (logs.MetricFilter LiveSince, PausedFrom, PausedUntil): since when the filter's definition has
	// counted events live, and the latest period in which it was disabled, which a backfill needs
	// (trailwatch backfill reads them; AWS's creationTime is the latest put's, which an identical
	// re-put moves). LiveSince is on every filter, the paused period only when there is one.
	TrailwatchLiveSince   *int64 `json:"trailwatchLiveSince,omitempty"`
	TrailwatchPausedFrom  *int64 `json:"trailwatchPausedFrom,omitempty"`
	TrailwatchPausedUntil *int64 `json:"trailwatchPausedUntil,omitempty"`
}

type describeMetricFiltersOutput struct {
	MetricFilters []metricFilter `json:"metricFilters"`
	NextToken     *string        `json:"nextToken,omitempty"`
}

// describeMetricFilters echoes filters as AWS does (LocalStack snapshot test_logs_metric_filters):
// the pattern verbatim, defaultValue only when set, applyOnTransformedLogs always false; a filter
// that publishes nothing also carries trailwatch's state members, and every filter the time since
// which it is live (see metricFilter).
func (a *adapter) describeMetricFilters(ctx context.Context, in *describeMetricFiltersInput) (*describeMetricFiltersOutput, error) {
	res, err := a.l.DescribeMetricFilters(ctx, scope(ctx), logs.DescribeMetricFiltersInput{
		LogGroupName: str(in.LogGroupName), FilterNamePrefix: str(in.FilterNamePrefix), MetricName: str(in.MetricName),
		MetricNamespace: str(in.MetricNamespace), NextToken: str(in.NextToken), Limit: limit(in.Limit),
	})
	if err != nil {
		return nil, err
	}
	out := &describeMetricFiltersOutput{MetricFilters: make([]metricFilter, len(res.MetricFilters))}
	if res.NextToken != "" {
		out.NextToken = ptr(res.NextToken)
	}
	for i, f := range res.MetricFilters {
		t := f.Transformation
		mt := metricTransformation{MetricName: ptr(t.MetricName), MetricNamespace: ptr(t.MetricNamespace),
			MetricValue: ptr(t.MetricValue), DefaultValue: t.DefaultValue, Dimensions: t.Dimensions}
		if t.Unit != "" {
			mt.Unit = ptr(t.Unit)
		}
		out.MetricFilters[i] = metricFilter{FilterName: ptr(f.FilterName), FilterPattern: ptr(f.FilterPattern),
			MetricTransformations: []metricTransformation{mt}, CreationTime: ptr(f.CreationTime), LogGroupName: ptr(f.LogGroupName)}
		if f.LiveSince != 0 {
			out.MetricFilters[i].TrailwatchLiveSince = ptr(f.LiveSince)
		}
		if f.PausedUntil != 0 {
			out.MetricFilters[i].TrailwatchPausedFrom, out.MetricFilters[i].TrailwatchPausedUntil = ptr(f.PausedFrom), ptr(f.PausedUntil)
		}
		if f.Status != nil {
			out.MetricFilters[i].TrailwatchFilterState = ptr(f.Status.State)
			out.MetricFilters[i].TrailwatchFilterStateReason = ptr(f.Status.Reason)
		}
	}
	return out, nil
}

type deleteMetricFilterInput struct {
	LogGroupName *string `json:"logGroupName,omitempty"`
	FilterName   *string `json:"filterName,omitempty"`
}

func (a *adapter) deleteMetricFilter(ctx context.Context, in *deleteMetricFilterInput) (*empty, error) {
	return nil, a.l.DeleteMetricFilter(ctx, scope(ctx), str(in.LogGroupName), str(in.FilterName))
}

type testMetricFilterInput struct {
	FilterPattern    *string  `json:"filterPattern,omitempty"`
	LogEventMessages []string `json:"logEventMessages,omitempty"`
}

type metricFilterMatchRecord struct {
	EventNumber     int64             `json:"eventNumber"`
	EventMessage    *string           `json:"eventMessage,omitempty"`
	ExtractedValues map[string]string `json:"extractedValues"`
}

type testMetricFilterOutput struct {
	Matches []metricFilterMatchRecord `json:"matches"`
}

func (a *adapter) testMetricFilter(ctx context.Context, in *testMetricFilterInput) (*testMetricFilterOutput, error) {
	res, err := a.l.TestMetricFilter(ctx, str(in.FilterPattern), in.LogEventMessages)
	if err != nil {
		return nil, err
	}
	out := &testMetricFilterOutput{Matches: make([]metricFilterMatchRecord, len(res))}
	for i, m := range res {
		out.Matches[i] = metricFilterMatchRecord{EventNumber: m.EventNumber, EventMessage: ptr(m.EventMessage), ExtractedValues: m.ExtractedValues}
	}
	return out, nil
}

// --- tags ---

type tagResourceInput struct {
	ResourceArn *string           `json:"resourceArn,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func (a *adapter) tagResource(ctx context.Context, in *tagResourceInput) (*empty, error) {
	return nil, a.l.TagResource(ctx, scope(ctx), str(in.ResourceArn), in.Tags)
}

type untagResourceInput struct {
	ResourceArn *string  `json:"resourceArn,omitempty"`
	TagKeys     []string `json:"tagKeys,omitempty"`
}

func (a *adapter) untagResource(ctx context.Context, in *untagResourceInput) (*empty, error) {
	return nil, a.l.UntagResource(ctx, scope(ctx), str(in.ResourceArn), in.TagKeys)
}

type listTagsForResourceInput struct {
	ResourceArn *string `json:"resourceArn,omitempty"`
}

type tagsOutput struct {
	Tags map[string]string `json:"tags"`
}

func (a *adapter) listTagsForResource(ctx context.Context, in *listTagsForResourceInput) (*tagsOutput, error) {
	tags, err := a.l.ListTagsForResource(ctx, scope(ctx), str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: tags}, nil
}

type tagLogGroupInput struct {
	LogGroupName *string           `json:"logGroupName,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

func (a *adapter) tagLogGroup(ctx context.Context, in *tagLogGroupInput) (*empty, error) {
	return nil, a.l.TagLogGroup(ctx, scope(ctx), str(in.LogGroupName), in.Tags)
}

type untagLogGroupInput struct {
	LogGroupName *string  `json:"logGroupName,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

func (a *adapter) untagLogGroup(ctx context.Context, in *untagLogGroupInput) (*empty, error) {
	return nil, a.l.UntagLogGroup(ctx, scope(ctx), str(in.LogGroupName), in.Tags)
}

func (a *adapter) listTagsLogGroup(ctx context.Context, in *logGroupNameInput) (*tagsOutput, error) {
	tags, err := a.l.ListTagsLogGroup(ctx, scope(ctx), str(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: tags}, nil
}
