package logs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
	"github.com/trailwatch/trailwatch/internal/pattern"
)

// now is the fixed clock of these tests: 2025-11-26T19:00:00Z.
var now = time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)

var scope = Scope{AccountID: "111111111111", Region: "us-east-1"}

const (
	minute = int64(60 * 1000)
	hour   = 60 * minute
	day    = 24 * hour
)

func nowMs() int64 { return now.UnixMilli() }

// apiErr asserts that err is an AWS error with the given code and message.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want %s: %s", err, code, msg)
	}
	if e.ErrorCode() != code || e.ErrorMessage() != msg {
		t.Fatalf("error = %s: %s\nwant    %s: %s", e.ErrorCode(), e.ErrorMessage(), code, msg)
	}
}

func events(ts ...int64) []InputLogEvent {
	out := make([]InputLogEvent, len(ts))
	for i, x := range ts {
		out[i] = InputLogEvent{Timestamp: x, Message: "m"}
	}
	return out
}

func TestValidateBatch(t *testing.T) {
	base := nowMs()
	big := strings.Repeat("x", 262144-26)
	tests := []struct {
		name     string
		in       PutLogEventsInput
		code     string
		msg      string
		tooLarge bool
	}{
		{name: "ok", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(base, base, base+1)}},
		{name: "span exactly 24h is accepted", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(base-day, base)}},
		{name: "event of exactly 256 KiB is accepted", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s",
			LogEvents: []InputLogEvent{{Timestamp: base, Message: big}}}},
		{name: "no events", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s"}, code: CodeInvalidParameter,
			msg: "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "too many events", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(make([]int64, 10001)...)},
			code: CodeInvalidParameter,
			msg:  "1 validation error detected: Value '[10001 log events]' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"},
		{name: "empty message", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: []InputLogEvent{{Timestamp: base, Message: "a"}, {Timestamp: base}}},
			code: CodeInvalidParameter,
			msg:  "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "event too large", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s",
			LogEvents: []InputLogEvent{{Timestamp: base, Message: big + "y"}}},
			code: CodeInvalidParameter, msg: "Log event too large: 262145 bytes exceeds limit of 262144"},
		{name: "upload too large", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s",
			LogEvents: []InputLogEvent{{base, big}, {base, big}, {base, big}, {base, big}, {base, "z"}}},
			code: CodeInvalidParameter, msg: "Upload too large: 1048603 bytes exceeds limit of 1048576"},
		{name: "out of order", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(base, base-1)},
			code: CodeInvalidParameter, msg: "Log events in a single PutLogEvents request must be in chronological order."},
		{name: "span over 24h", in: PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", LogEvents: events(base-day-1, base)},
			code: CodeInvalidParameter, msg: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{name: "bad group name", in: PutLogEventsInput{LogGroupName: "a:b", LogStreamName: "s", LogEvents: events(base)},
			code: CodeInvalidParameter,
			msg:  `1 validation error detected: Value 'a:b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
		{name: "bad stream name and empty group", in: PutLogEventsInput{LogGroupName: "", LogStreamName: "a*b", LogEvents: events(base)},
			code: CodeInvalidParameter,
			msg: "2 validation errors detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value 'a*b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{name: "group name too long", in: PutLogEventsInput{LogGroupName: strings.Repeat("g", 513), LogStreamName: "s", LogEvents: events(base)},
			code: CodeInvalidParameter, msg: "Invalid LogGroup or LogStream, both must have length less than or equal to 512."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateBatch(&tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			apiErr(t, err, tc.code, tc.msg)
		})
	}
}

func intp(i int) *int { return &i }

func TestClassify(t *testing.T) {
	n := nowMs()
	tests := []struct {
		name      string
		ts        []int64
		retention int
		lo, hi    int
		info      *RejectedLogEventsInfo
	}{
		{"all accepted", []int64{n - 14*day, n, n + 2*hour}, 0, 0, 3, nil},
		{"too old prefix", []int64{n - 14*day - 1, n - 14*day - 1, n - hour}, 0, 2, 3,
			&RejectedLogEventsInfo{TooOldLogEventEndIndex: intp(2)}},
		{"too new suffix", []int64{n, n + 2*hour + 1}, 0, 0, 1,
			&RejectedLogEventsInfo{TooNewLogEventStartIndex: intp(1)}},
		{"expired by retention", []int64{n - 2*day, n - day - 1, n - day, n}, 1, 2, 4,
			&RejectedLogEventsInfo{ExpiredLogEventEndIndex: intp(2)}},
		{"old, expired and new together", []int64{n - 15*day, n - 8*day, n, n + 3*hour}, 7, 2, 3,
			&RejectedLogEventsInfo{TooOldLogEventEndIndex: intp(1), ExpiredLogEventEndIndex: intp(2), TooNewLogEventStartIndex: intp(3)}},
		{"everything rejected", []int64{n - 15*day}, 0, 1, 1,
			&RejectedLogEventsInfo{TooOldLogEventEndIndex: intp(1)}},
		{"long retention does not widen the 14-day window", []int64{n - 20*day}, 30, 1, 1,
			&RejectedLogEventsInfo{TooOldLogEventEndIndex: intp(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi, info := classify(events(tc.ts...), n, tc.retention)
			if lo != tc.lo || hi != tc.hi || !reflect.DeepEqual(info, tc.info) {
				t.Fatalf("classify = %d, %d, %+v; want %d, %d, %+v", lo, hi, info, tc.lo, tc.hi, tc.info)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	c := EventCursor{Timestamp: 1764183600000, Seq: 42}
	tok := encodeEventToken('f', c)
	dir, got, err := decodeEventToken(tok)
	if err != nil || dir != 'f' || got != c {
		t.Fatalf("round trip of %q = %c %+v %v", tok, dir, got, err)
	}
	for _, bad := range []string{"", "f/", "x/0000000000000000000000000000000000000001", "f/00000000000000000000abc00000000000000000", tok + "0"} {
		if _, _, err := decodeEventToken(bad); err != errInvalidToken {
			t.Errorf("decodeEventToken(%q) = %v, want invalid token", bad, err)
		}
	}
	k := encodeKeyToken("m", "group", "filter")
	parts, err := decodeKeyToken(k, "m", 2)
	if err != nil || !reflect.DeepEqual(parts, []string{"group", "filter"}) {
		t.Fatalf("key token round trip = %v %v", parts, err)
	}
	if _, err := decodeKeyToken(k, "g", 1); err != errInvalidToken {
		t.Fatalf("token of another kind accepted: %v", err)
	}
	if _, err := decodeKeyToken("!!!", "g", 1); err != errInvalidToken {
		t.Fatalf("garbage token accepted: %v", err)
	}
}

// TestValidationErrors checks request validation that happens before any store access, so the
// service runs without a store.
func TestValidationErrors(t *testing.T) {
	s := NewService(nil, func() time.Time { return now })
	ctx := context.Background()
	const ip = CodeInvalidParameter
	tests := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"create group bad class", func() error {
			return s.CreateLogGroup(ctx, scope, CreateLogGroupInput{LogGroupName: "g", LogGroupClass: "COLD"})
		}, ip, "1 validation error detected: Value 'COLD' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]"},
		{"create group bad tag key", func() error {
			return s.CreateLogGroup(ctx, scope, CreateLogGroupInput{LogGroupName: "g", Tags: map[string]string{"a*": "b"}})
		}, ip, `1 validation error detected: Value 'a*' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`},
		{"describe groups prefix and pattern", func() error {
			_, err := s.DescribeLogGroups(ctx, scope, DescribeLogGroupsInput{LogGroupNamePrefix: "a", LogGroupNamePattern: "b"})
			return err
		}, ip, "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."},
		{"describe groups limit", func() error {
			_, err := s.DescribeLogGroups(ctx, scope, DescribeLogGroupsInput{Limit: intp(51)})
			return err
		}, ip, "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"},
		{"describe groups bad token", func() error {
			_, err := s.DescribeLogGroups(ctx, scope, DescribeLogGroupsInput{NextToken: "nope"})
			return err
		}, ip, "The specified nextToken is invalid."},
		{"describe streams name and identifier", func() error {
			_, err := s.DescribeLogStreams(ctx, scope, DescribeLogStreamsInput{LogGroupName: "g", LogGroupIdentifier: "g"})
			return err
		}, CodeValidation, "LogGroup name and LogGroup ARN are mutually exclusive parameters."},
		{"describe streams bad order", func() error {
			_, err := s.DescribeLogStreams(ctx, scope, DescribeLogStreamsInput{LogGroupName: "g", OrderBy: "Size"})
			return err
		}, ip, "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"},
		{"retention value", func() error { return s.PutRetentionPolicy(ctx, scope, "g", 2) }, ip,
			"1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"},
		{"get events limit", func() error {
			_, err := s.GetLogEvents(ctx, scope, GetLogEventsInput{LogGroupName: "g", LogStreamName: "s", Limit: intp(10001)})
			return err
		}, ip, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"describe groups limit zero", func() error {
			_, err := s.DescribeLogGroups(ctx, scope, DescribeLogGroupsInput{Limit: intp(0)})
			return err
		}, ip, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"get events bad token", func() error {
			_, err := s.GetLogEvents(ctx, scope, GetLogEventsInput{LogGroupName: "g", LogStreamName: "s", NextToken: "f/1"})
			return err
		}, ip, "The specified nextToken is invalid."},
		{"filter events invalid pattern", func() error {
			_, err := s.FilterLogEvents(ctx, scope, FilterLogEventsInput{LogGroupName: "g", FilterPattern: "{ $.a = "})
			return err
		}, ip, "Invalid filter pattern"},
		{"filter events names and prefix", func() error {
			_, err := s.FilterLogEvents(ctx, scope, FilterLogEventsInput{LogGroupName: "g", LogStreamNames: []string{"a"}, LogStreamNamePrefix: "a"})
			return err
		}, ip, "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."},
		{"filter events limit", func() error {
			_, err := s.FilterLogEvents(ctx, scope, FilterLogEventsInput{LogGroupName: "g", Limit: intp(10001)})
			return err
		}, ip, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"metric filter invalid pattern", func() error {
			return s.PutMetricFilter(ctx, scope, PutMetricFilterInput{LogGroupName: "g", FilterName: "f", FilterPattern: "{ $.a = ",
				MetricTransformations: []MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
		}, ip, "Invalid metric filter pattern"},
		{"metric filter two transformations", func() error {
			return s.PutMetricFilter(ctx, scope, PutMetricFilterInput{LogGroupName: "g", FilterName: "f", FilterPattern: "",
				MetricTransformations: []MetricTransformation{
					{MetricName: "metric1", MetricNamespace: "namespace1", MetricValue: "1"},
					{MetricName: "metric2", MetricNamespace: "namespace2", MetricValue: "1"}}})
		}, ip, "1 validation error detected: Value '[MetricTransformation(metricName=metric1, metricNamespace=namespace1, metricValue=1, defaultValue=null, unit=null, dimensions=null), MetricTransformation(metricName=metric2, metricNamespace=namespace2, metricValue=1, defaultValue=null, unit=null, dimensions=null)]' at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"metric filter name too long", func() error {
			return s.PutMetricFilter(ctx, scope, PutMetricFilterInput{LogGroupName: "g", FilterName: strings.Repeat("X", 513),
				MetricTransformations: []MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
		}, ip, "1 validation error detected: Value '" + strings.Repeat("X", 513) + "' at 'filterName' failed to satisfy constraint: Member must have length less than or equal to 512"},
		{"metric filter pattern too long", func() error {
			return s.PutMetricFilter(ctx, scope, PutMetricFilterInput{LogGroupName: "g", FilterName: "f", FilterPattern: strings.Repeat("X", 1025),
				MetricTransformations: []MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1"}}})
		}, ip, "1 validation error detected: Value '" + strings.Repeat("X", 1025) + "' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"metric filter dimensions on a term pattern", func() error {
			return s.PutMetricFilter(ctx, scope, PutMetricFilterInput{LogGroupName: "g", FilterName: "f", FilterPattern: "?ERROR ?WARN",
				MetricTransformations: []MetricTransformation{{MetricName: "m", MetricNamespace: "n", MetricValue: "1", Dimensions: map[string]string{"a": "$.a"}}}})
		}, ip, "The specified filter pattern does not support dimensions"},
		{"describe metric filters metric name alone", func() error {
			_, err := s.DescribeMetricFilters(ctx, scope, DescribeMetricFiltersInput{MetricName: "m"})
			return err
		}, ip, "metricName and metricNamespace must be specified together."},
		{"describe metric filters metric name too long", func() error {
			_, err := s.DescribeMetricFilters(ctx, scope, DescribeMetricFiltersInput{MetricName: strings.Repeat("X", 256), MetricNamespace: "n"})
			return err
		}, ip, "1 validation error detected: Value '" + strings.Repeat("X", 256) + "' at 'metricName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"test metric filter no messages", func() error {
			_, err := s.TestMetricFilter(ctx, "", nil)
			return err
		}, ip, "1 validation error detected: Value '[]' at 'logEventMessages' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"test metric filter invalid pattern", func() error {
			_, err := s.TestMetricFilter(ctx, "{ $.a = ", []string{"x"})
			return err
		}, ip, "Invalid metric filter pattern"},
		{"tag resource bad arn", func() error {
			return s.TagResource(ctx, scope, "arn:aws:sns:us-east-1:111111111111:t", map[string]string{"a": "b"})
		}, ip, "Invalid ARN: arn:aws:sns:us-east-1:111111111111:t"},
		{"tag resource other account", func() error {
			return s.TagResource(ctx, scope, "arn:aws:logs:us-east-1:222222222222:log-group:g", map[string]string{"a": "b"})
		}, CodeResourceNotFound, "The specified log group does not exist."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { apiErr(t, tc.call(), tc.code, tc.msg) })
	}
}

// The CIS root-account-usage pattern, spaced variant (filter-patterns.md §10).
const rootPattern = `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`

func TestTestMetricFilter(t *testing.T) {
	s := NewService(nil, func() time.Time { return now })
	msgs := []string{
		`{"userIdentity":{"type":"IAMUser"},"eventType":"AwsApiCall"}`,
		`{"userIdentity":{"type":"Root"},"eventType":"AwsConsoleSignIn"}`,
		`{"userIdentity":{"type":"Root","invokedBy":"s3.amazonaws.com"},"eventType":"AwsApiCall"}`,
		`{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`,
	}
	got, err := s.TestMetricFilter(context.Background(), rootPattern, msgs)
	if err != nil {
		t.Fatal(err)
	}
	want := []MetricFilterMatch{
		{EventNumber: 2, EventMessage: msgs[1], ExtractedValues: map[string]string{}},
		{EventNumber: 4, EventMessage: msgs[3], ExtractedValues: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("matches = %+v\nwant %+v", got, want)
	}
	got, err = s.TestMetricFilter(context.Background(), "[ip, user, size]", []string{"10.0.0.1 alice 512", "short"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].EventNumber != 1 || got[0].ExtractedValues["$user"] != "alice" {
		t.Fatalf("delimited matches = %+v", got)
	}
	none, err := s.TestMetricFilter(context.Background(), "NOMATCH", []string{"a b c"})
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("no match = %#v, %v (want an empty, non-nil list)", none, err)
	}
}

func state(t *testing.T, filters ...MetricFilter) *groupState {
	t.Helper()
	st := &groupState{filters: filters}
	var compiled []*pattern.Filter
	for _, f := range filters {
		cf, err := pattern.CompileFilter(f.FilterPattern, transformation(f.Transformation))
		if err != nil {
			t.Fatal(err)
		}
		compiled = append(compiled, cf)
	}
	st.set = pattern.NewSet(compiled)
	return st
}

func TestSamples(t *testing.T) {
	zero := 0.0
	root := MetricFilter{FilterName: "root", FilterPattern: rootPattern, Transformation: MetricTransformation{
		MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics", MetricValue: "1", DefaultValue: &zero}}
	bytes := MetricFilter{FilterName: "bytes", FilterPattern: `{ $.bytes > 0 }`, Transformation: MetricTransformation{
		MetricName: "Bytes", MetricNamespace: "App", MetricValue: "$.bytes", Unit: "Bytes", Dimensions: map[string]string{"Op": "$.op"}}}
	st := state(t, root, bytes)
	m0 := minuteMillis(nowMs())
	evs := []InputLogEvent{
		{m0 + 1000, `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
		{m0 + 2000, `{"bytes":512,"op":"get"}`},
		{m0 + minute + 5, `{"bytes":1,"op":"put"}`},
		{m0 + minute + 6, `{"bytes":"many","op":"put"}`}, // no match: a non-numeric string is never > 0
		{m0 + 2*minute, `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`},
	}
	got := st.samples(scope, evs)
	at := func(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
	want := []metrics.Sample{
		{AccountID: scope.AccountID, Region: scope.Region, Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Timestamp: at(m0 + 1000), Value: 1},
		{AccountID: scope.AccountID, Region: scope.Region, Namespace: "App", MetricName: "Bytes", Unit: "Bytes",
			Dimensions: []metrics.Dimension{{Name: "Op", Value: "get"}}, Timestamp: at(m0 + 2000), Value: 512},
		{AccountID: scope.AccountID, Region: scope.Region, Namespace: "App", MetricName: "Bytes", Unit: "Bytes",
			Dimensions: []metrics.Dimension{{Name: "Op", Value: "put"}}, Timestamp: at(m0 + minute + 5), Value: 1},
		{AccountID: scope.AccountID, Region: scope.Region, Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Timestamp: at(m0 + 2*minute), Value: 1},
		// The root filter matched nothing in the second minute of the batch: its default.
		{AccountID: scope.AccountID, Region: scope.Region, Namespace: "CloudTrailMetrics", MetricName: "RootAccountUsage", Timestamp: at(m0 + minute), Value: 0, Default: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("samples =\n%+v\nwant\n%+v", got, want)
	}
	if s := state(t).samples(scope, evs); s != nil {
		t.Fatalf("no filters, samples = %+v", s)
	}
}

func TestMinuteMillis(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{{0, 0}, {59999, 0}, {60000, 60000}, {-1, -60000}} {
		if got := minuteMillis(tc.in); got != tc.want {
			t.Errorf("minuteMillis(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// fakeStore is just enough of a Store for PutLogEvents; unused methods panic through the nil
// embedded interface.
type fakeStore struct {
	Store
	group   LogGroup
	filters []MetricFilter
	batches []AppendBatch
	onList  func() // called inside ListMetricFilters, to interleave a concurrent change
}

func (f *fakeStore) GetLogGroup(_ context.Context, _ Scope, name string) (LogGroup, error) {
	if name != f.group.Name {
		return LogGroup{}, ErrLogGroupNotFound
	}
	return f.group, nil
}

func (f *fakeStore) ListMetricFilters(context.Context, Scope, FilterQuery) ([]MetricFilter, error) {
	if f.onList != nil {
		f.onList()
	}
	return append([]MetricFilter(nil), f.filters...), nil // a copy, as a real store returns
}

// TestGroupCacheRace checks that state loaded while a change to the group commits is used once
// but not cached, so the change is seen by the next batch.
func TestGroupCacheRace(t *testing.T) {
	fs := &fakeStore{group: LogGroup{Name: "g"}}
	s := NewService(fs, func() time.Time { return now })
	fs.onList = func() { s.forget(scope, "g") }
	if _, err := s.group(context.Background(), scope, "g"); err != nil {
		t.Fatal(err)
	}
	if len(s.groups) != 0 {
		t.Fatalf("state loaded during a change was cached")
	}
	fs.onList = nil
	if _, err := s.group(context.Background(), scope, "g"); err != nil {
		t.Fatal(err)
	}
	if len(s.groups) != 1 {
		t.Fatalf("state loaded without a concurrent change was not cached")
	}
}

func (f *fakeStore) AppendEvents(_ context.Context, _ Scope, b AppendBatch) (int64, error) {
	if b.LogStreamName != "s" {
		return 0, ErrLogStreamNotFound
	}
	f.batches = append(f.batches, b)
	return int64(len(f.batches)), nil
}

func TestPutLogEvents(t *testing.T) {
	zero := 0.0
	fs := &fakeStore{group: LogGroup{Name: "g", RetentionInDays: 1}, filters: []MetricFilter{{LogGroupName: "g", FilterName: "root",
		FilterPattern: rootPattern, Transformation: MetricTransformation{MetricName: "RootAccountUsage", MetricNamespace: "CloudTrailMetrics",
			MetricValue: "1", DefaultValue: &zero}}}}
	s := NewService(fs, func() time.Time { return now })
	var published [][]metrics.Sample
	s.OnSamples = func(ss []metrics.Sample) { published = append(published, ss) }
	ctx := context.Background()
	n := nowMs()
	rootMsg := `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`
	out, err := s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s", SequenceToken: "ignored",
		LogEvents: []InputLogEvent{{n - 1, rootMsg}, {n, "plain"}, {n + 3*hour, rootMsg}}})
	if err != nil {
		t.Fatal(err)
	}
	wantInfo := &RejectedLogEventsInfo{TooNewLogEventStartIndex: intp(2)}
	if out.NextSequenceToken != sequenceToken(1) || !reflect.DeepEqual(out.RejectedLogEventsInfo, wantInfo) {
		t.Fatalf("output = %+v %+v", out, out.RejectedLogEventsInfo)
	}
	if len(fs.batches) != 1 {
		t.Fatalf("%d batches stored", len(fs.batches))
	}
	b := fs.batches[0]
	if !reflect.DeepEqual(b.Events, []InputLogEvent{{n - 1, rootMsg}, {n, "plain"}}) || b.IngestionTime != n {
		t.Fatalf("stored batch = %+v", b)
	}
	// One match in the minute of n-1; n is the first millisecond of the next minute, where the
	// filter matched nothing, so that minute gets the default value.
	fsamples := filterSamples(b.Samples)
	if len(fsamples) != 2 || fsamples[0].Value != 1 || fsamples[0].Default || !fsamples[1].Default ||
		!fsamples[1].Timestamp.Equal(now) {
		t.Fatalf("samples = %+v", b.Samples)
	}
	if len(published) != 1 || !reflect.DeepEqual(published[0], b.Samples) {
		t.Fatalf("OnSamples got %+v", published)
	}

	// The group keeps events for one day: older ones are reported as expired and not stored.
	out, err = s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "s",
		LogEvents: []InputLogEvent{{n - day - 1, "old"}, {n - 2, "recent"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.RejectedLogEventsInfo, &RejectedLogEventsInfo{ExpiredLogEventEndIndex: intp(1)}) ||
		!reflect.DeepEqual(fs.batches[1].Events, []InputLogEvent{{n - 2, "recent"}}) {
		t.Fatalf("expired batch: %+v stored %+v", out.RejectedLogEventsInfo, fs.batches[1].Events)
	}
	if fsamples := filterSamples(fs.batches[1].Samples); len(fsamples) != 1 || !fsamples[0].Default || len(published) != 2 {
		t.Fatalf("a minute without root events publishes the default: %+v", fs.batches[1].Samples)
	}

	_, err = s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "nope", LogStreamName: "s", LogEvents: events(n)})
	apiErr(t, err, CodeResourceNotFound, "The specified log group does not exist.")
	_, err = s.PutLogEvents(ctx, scope, PutLogEventsInput{LogGroupName: "g", LogStreamName: "nope", LogEvents: events(n)})
	apiErr(t, err, CodeResourceNotFound, "The specified log stream does not exist.")
	if len(published) != 2 {
		t.Fatalf("OnSamples called for a failed batch")
	}
}

// FuzzTokens checks that no client-supplied token makes the decoders panic, and that whatever
// they accept re-encodes to the same token.
func FuzzTokens(f *testing.F) {
	f.Add(encodeEventToken('f', EventCursor{Timestamp: 1764183600000, Seq: 7}))
	f.Add(encodeEventToken('b', EventCursor{}))
	f.Add(encodeKeyToken("s", "123", "stream"))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		if dir, c, err := decodeEventToken(tok); err == nil {
			if again := encodeEventToken(dir, c); again != tok {
				t.Fatalf("event token %q re-encodes as %q", tok, again)
			}
		}
		if parts, err := decodeKeyToken(tok, "s", 2); err == nil {
			if again := encodeKeyToken("s", parts...); again != tok {
				t.Fatalf("key token %q re-encodes as %q", tok, again)
			}
		}
	})
}

// FuzzClassify checks the invariants of batch classification on arbitrary chronological
// batches: the accepted window lies within the batch, every event before it is too old or
// expired, every event after it is too new, and every event inside it is acceptable.
func FuzzClassify(f *testing.F) {
	f.Add(int64(0), int64(1000), int64(3*hour), 7)
	f.Add(int64(-15*day), int64(day), int64(2*hour+1), 1)
	f.Fuzz(func(t *testing.T, first, step, last int64, retention int) {
		if step < 0 || step > day || retention < 0 || retention > 4000 {
			return
		}
		n := nowMs()
		var evs []InputLogEvent
		for ts := n + first; ts <= n+last && len(evs) < 50; ts += max(step, 1) {
			evs = append(evs, InputLogEvent{Timestamp: ts, Message: "m"})
		}
		lo, hi, info := classify(evs, n, retention)
		if lo < 0 || hi < lo || hi > len(evs) {
			t.Fatalf("window [%d,%d) of %d events", lo, hi, len(evs))
		}
		ok := func(ts int64) bool {
			return ts >= n-maxPast && ts <= n+maxFuture && (retention == 0 || ts >= n-int64(retention)*dayMillis)
		}
		for i, e := range evs {
			if in := i >= lo && i < hi; in != ok(e.Timestamp) {
				t.Fatalf("event %d (ts %d) accepted=%v, acceptable=%v", i, e.Timestamp-n, in, ok(e.Timestamp))
			}
		}
		if (info == nil) != (lo == 0 && hi == len(evs)) {
			t.Fatalf("info %+v for window [%d,%d) of %d", info, lo, hi, len(evs))
		}
	})
}
