package awsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// The toy services mirror a few real operations' shapes so that real clients (their generated
// types) exercise every codec: nested lists of structs, maps, timestamps, optional numbers,
// no-output operations and modeled errors.

const (
	testAccessKey = "AKIDTRAILWATCHTEST"
	testSecret    = "trailwatch/test/secret"
	testAccount   = "111111111111"
)

type staticCreds map[string][2]string

func (c staticCreds) Lookup(id string) (string, string, bool) {
	v, ok := c[id]
	return v[0], v[1], ok
}

// --- monitoring ---

type dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type putMetricAlarmInput struct {
	AlarmName          string      `json:"AlarmName"`
	AlarmDescription   *string     `json:"AlarmDescription,omitempty"`
	ActionsEnabled     *bool       `json:"ActionsEnabled,omitempty"`
	AlarmActions       []string    `json:"AlarmActions,omitempty"`
	OKActions          []string    `json:"OKActions,omitempty"`
	MetricName         *string     `json:"MetricName,omitempty"`
	Namespace          *string     `json:"Namespace,omitempty"`
	Statistic          *string     `json:"Statistic,omitempty"`
	Dimensions         []dimension `json:"Dimensions,omitempty"`
	Period             *int32      `json:"Period,omitempty"`
	EvaluationPeriods  *int32      `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm  *int32      `json:"DatapointsToAlarm,omitempty"`
	Threshold          *float64    `json:"Threshold,omitempty"`
	ComparisonOperator *string     `json:"ComparisonOperator,omitempty"`
	TreatMissingData   *string     `json:"TreatMissingData,omitempty"`
	Tags               []dimension `json:"Tags,omitempty"` // Key/Value in AWS; reuse is fine for a toy
}

type metricAlarm struct {
	AlarmName             *string      `json:"AlarmName,omitempty"`
	AlarmArn              *string      `json:"AlarmArn,omitempty"`
	AlarmDescription      *string      `json:"AlarmDescription,omitempty"`
	ActionsEnabled        *bool        `json:"ActionsEnabled,omitempty"`
	AlarmActions          []string     `json:"AlarmActions"`
	OKActions             []string     `json:"OKActions"`
	StateValue            *string      `json:"StateValue,omitempty"`
	StateReason           *string      `json:"StateReason,omitempty"`
	StateUpdatedTimestamp *awsapi.Time `json:"StateUpdatedTimestamp,omitempty"`
	MetricName            *string      `json:"MetricName,omitempty"`
	Namespace             *string      `json:"Namespace,omitempty"`
	Statistic             *string      `json:"Statistic,omitempty"`
	Dimensions            []dimension  `json:"Dimensions"`
	Period                *int32       `json:"Period,omitempty"`
	EvaluationPeriods     *int32       `json:"EvaluationPeriods,omitempty"`
	DatapointsToAlarm     *int32       `json:"DatapointsToAlarm,omitempty"`
	Threshold             *float64     `json:"Threshold,omitempty"`
	ComparisonOperator    *string      `json:"ComparisonOperator,omitempty"`
	TreatMissingData      *string      `json:"TreatMissingData,omitempty"`
	EvaluationState       *string      `json:"EvaluationState,omitempty"`
	StateTransitionedAt   *awsapi.Time `json:"StateTransitionedTimestamp,omitempty"`
	//lint:ignore U1000 the codecs must ignore an unexported field; nothing reads it
	unexported int
	Ignored    chan struct{} `json:"-"`
}

type describeAlarmsInput struct {
	AlarmNames []string `json:"AlarmNames,omitempty"`
	StateValue *string  `json:"StateValue,omitempty"`
	MaxRecords *int32   `json:"MaxRecords,omitempty"`
	NextToken  *string  `json:"NextToken,omitempty"`
}

type compositeAlarm struct {
	AlarmName *string `json:"AlarmName,omitempty"`
}

type describeAlarmsOutput struct {
	MetricAlarms    []metricAlarm    `json:"MetricAlarms"`
	CompositeAlarms []compositeAlarm `json:"CompositeAlarms"`
	NextToken       *string          `json:"NextToken,omitempty"`
}

type setAlarmStateInput struct {
	AlarmName       string  `json:"AlarmName"`
	StateValue      string  `json:"StateValue"`
	StateReason     string  `json:"StateReason"`
	StateReasonData *string `json:"StateReasonData,omitempty"`
}

type metricDatum struct {
	MetricName        string       `json:"MetricName"`
	Dimensions        []dimension  `json:"Dimensions,omitempty"`
	Timestamp         *awsapi.Time `json:"Timestamp,omitempty"`
	Value             *float64     `json:"Value,omitempty"`
	Values            []float64    `json:"Values,omitempty"`
	Counts            []float64    `json:"Counts,omitempty"`
	Unit              *string      `json:"Unit,omitempty"`
	StorageResolution *int32       `json:"StorageResolution,omitempty"`
}

type putMetricDataInput struct {
	Namespace  string        `json:"Namespace"`
	MetricData []metricDatum `json:"MetricData,omitempty"`
}

type listMetricsInput struct {
	Namespace  *string     `json:"Namespace,omitempty"`
	MetricName *string     `json:"MetricName,omitempty"`
	Dimensions []dimension `json:"Dimensions,omitempty"`
}

type metric struct {
	Namespace  *string     `json:"Namespace,omitempty"`
	MetricName *string     `json:"MetricName,omitempty"`
	Dimensions []dimension `json:"Dimensions,omitempty"`
}

type listMetricsOutput struct {
	Metrics   []metric `json:"Metrics"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// toyMonitoring keeps alarms and metric data in memory and records the identity of each call.
type toyMonitoring struct {
	mu      sync.Mutex
	alarms  map[string]putMetricAlarmInput
	data    []putMetricDataInput
	callers []awsapi.Identity
	now     time.Time
}

// record keeps the caller of an operation; the operations call it holding m.mu.
func (m *toyMonitoring) record(ctx context.Context) {
	m.callers = append(m.callers, awsapi.Caller(ctx))
}

// firstCaller is the identity of the first call, read under m.mu (the server goroutine writes it).
func (m *toyMonitoring) firstCaller() awsapi.Identity {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.callers[0]
}

func (m *toyMonitoring) service() *awsapi.Service {
	return &awsapi.Service{
		SigningName:     "monitoring",
		TargetPrefixes:  []string{"GraniteServiceVersion20100801"},
		JSONVersion:     "1.0",
		CBORService:     "GraniteServiceVersion20100801",
		QueryVersion:    "2010-08-01",
		XMLNamespace:    "http://monitoring.amazonaws.com/doc/2010-08-01/",
		QueryCompatible: true,
		ErrorNamespace:  "com.amazonaws.cloudwatch.v2010_08_01",
		ErrorShapes: map[string]string{
			"ValidationError":       "com.amazon.coral.validate#ValidationException",
			"InvalidParameterValue": "InvalidParameterValueException",
			"MissingParameter":      "MissingRequiredParameterException",
		},
		Operations: map[string]awsapi.Operation{
			"PutMetricAlarm": awsapi.Op(func(ctx context.Context, in *putMetricAlarmInput) (*struct{}, error) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.record(ctx)
				if in.AlarmName == "" {
					return nil, &awsapi.Error{Code: "MissingParameter", Message: "The parameter AlarmName is required.", Sender: true}
				}
				m.alarms[in.AlarmName] = *in
				return nil, nil
			}),
			"DescribeAlarms": awsapi.Op(func(ctx context.Context, in *describeAlarmsInput) (*describeAlarmsOutput, error) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.record(ctx)
				out := &describeAlarmsOutput{}
				names := make([]string, 0, len(m.alarms))
				for n := range m.alarms {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					if len(in.AlarmNames) > 0 && !contains(in.AlarmNames, n) {
						continue
					}
					a := m.alarms[n]
					id := awsapi.Caller(ctx)
					arn := fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", id.Region, id.AccountID, n)
					out.MetricAlarms = append(out.MetricAlarms, metricAlarm{
						AlarmName: &a.AlarmName, AlarmArn: &arn, AlarmDescription: a.AlarmDescription,
						ActionsEnabled: ptr(true), AlarmActions: a.AlarmActions, OKActions: a.OKActions,
						StateValue: ptr("INSUFFICIENT_DATA"), StateReason: ptr("Unchecked: Initial alarm creation"),
						StateUpdatedTimestamp: &awsapi.Time{Time: m.now}, MetricName: a.MetricName, Namespace: a.Namespace,
						Statistic: a.Statistic, Dimensions: a.Dimensions, Period: a.Period, EvaluationPeriods: a.EvaluationPeriods,
						DatapointsToAlarm: a.DatapointsToAlarm, Threshold: a.Threshold, ComparisonOperator: a.ComparisonOperator,
						TreatMissingData: a.TreatMissingData,
					})
				}
				return out, nil
			}),
			"SetAlarmState": awsapi.Op(func(ctx context.Context, in *setAlarmStateInput) (*struct{}, error) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.record(ctx)
				if in.AlarmName == "silent" {
					// As CloudWatch answers SetAlarmState of an unknown alarm: a code, no message.
					return nil, &awsapi.Error{Code: "ResourceNotFound", Status: 404, Sender: true}
				}
				if _, ok := m.alarms[in.AlarmName]; !ok {
					return nil, &awsapi.Error{Code: "ResourceNotFound", Message: "Alarm " + in.AlarmName + " not found", Status: 404, Sender: true}
				}
				return nil, nil
			}),
			"PutMetricData": awsapi.Op(func(ctx context.Context, in *putMetricDataInput) (*struct{}, error) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.record(ctx)
				m.data = append(m.data, *in)
				return nil, nil
			}),
			"ListMetrics": awsapi.Op(func(ctx context.Context, in *listMetricsInput) (*listMetricsOutput, error) {
				m.mu.Lock()
				defer m.mu.Unlock()
				m.record(ctx)
				out := &listMetricsOutput{}
				for _, d := range m.data {
					for _, md := range d.MetricData {
						if in.MetricName != nil && *in.MetricName != md.MetricName {
							continue
						}
						out.Metrics = append(out.Metrics, metric{Namespace: ptr(d.Namespace), MetricName: ptr(md.MetricName), Dimensions: md.Dimensions})
					}
				}
				return out, nil
			}),
			"DeleteAlarms": awsapi.Op(func(ctx context.Context, in *struct {
				AlarmNames []string `json:"AlarmNames"`
			}) (*struct{}, error) {
				return nil, fmt.Errorf("database is locked") // an internal failure
			}),
		},
	}
}

// --- logs ---

type inputLogEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

type putLogEventsInput struct {
	LogGroupName  string          `json:"logGroupName"`
	LogStreamName string          `json:"logStreamName"`
	LogEvents     []inputLogEvent `json:"logEvents"`
	SequenceToken *string         `json:"sequenceToken,omitempty"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int32 `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int32 `json:"tooOldLogEventEndIndex,omitempty"`
}

type putLogEventsOutput struct {
	NextSequenceToken     *string       `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

type logGroup struct {
	LogGroupName    *string `json:"logGroupName,omitempty"`
	CreationTime    *int64  `json:"creationTime,omitempty"`
	RetentionInDays *int32  `json:"retentionInDays,omitempty"`
	Arn             *string `json:"arn,omitempty"`
	StoredBytes     *int64  `json:"storedBytes,omitempty"`
}

type metricTransformation struct {
	MetricName      string            `json:"metricName"`
	MetricNamespace string            `json:"metricNamespace"`
	MetricValue     string            `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            *string           `json:"unit,omitempty"`
}

type putMetricFilterInput struct {
	LogGroupName          string                 `json:"logGroupName"`
	FilterName            string                 `json:"filterName"`
	FilterPattern         string                 `json:"filterPattern"`
	MetricTransformations []metricTransformation `json:"metricTransformations"`
}

type toyLogs struct {
	mu      sync.Mutex
	groups  map[string]int64
	events  []inputLogEvent
	filters []putMetricFilterInput
}

func (l *toyLogs) service() *awsapi.Service {
	return &awsapi.Service{
		SigningName:    "logs",
		TargetPrefixes: []string{"Logs_20140328"},
		JSONVersion:    "1.1",
		Operations: map[string]awsapi.Operation{
			"CreateLogGroup": awsapi.Op(func(ctx context.Context, in *struct {
				LogGroupName string `json:"logGroupName"`
			}) (*struct{}, error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				if _, ok := l.groups[in.LogGroupName]; ok {
					return nil, &awsapi.Error{Code: "ResourceAlreadyExistsException", Message: "The specified log group already exists", Sender: true}
				}
				l.groups[in.LogGroupName] = 1764183600123
				return nil, nil
			}),
			"DescribeLogGroups": awsapi.Op(func(ctx context.Context, in *struct {
				LogGroupNamePrefix *string `json:"logGroupNamePrefix,omitempty"`
				Limit              *int32  `json:"limit,omitempty"`
			}) (*struct {
				LogGroups []logGroup `json:"logGroups"`
				NextToken *string    `json:"nextToken,omitempty"`
			}, error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				out := &struct {
					LogGroups []logGroup `json:"logGroups"`
					NextToken *string    `json:"nextToken,omitempty"`
				}{}
				for name, ct := range l.groups {
					out.LogGroups = append(out.LogGroups, logGroup{LogGroupName: ptr(name), CreationTime: ptr(ct), StoredBytes: ptr(int64(0)),
						Arn: ptr("arn:aws:logs:us-east-1:" + awsapi.Caller(ctx).AccountID + ":log-group:" + name + ":*")})
				}
				return out, nil
			}),
			"PutLogEvents": awsapi.Op(func(ctx context.Context, in *putLogEventsInput) (*putLogEventsOutput, error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				if _, ok := l.groups[in.LogGroupName]; !ok {
					return nil, &awsapi.Error{Code: "ResourceNotFoundException", Message: "The specified log group does not exist.", Sender: true}
				}
				l.events = append(l.events, in.LogEvents...)
				return &putLogEventsOutput{RejectedLogEventsInfo: &rejectedInfo{TooOldLogEventEndIndex: ptr(int32(0))}}, nil
			}),
			"PutMetricFilter": awsapi.Op(func(ctx context.Context, in *putMetricFilterInput) (*struct{}, error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				l.filters = append(l.filters, *in)
				return nil, nil
			}),
			"DescribeMetricFilters": awsapi.Op(func(ctx context.Context, in *struct {
				LogGroupName *string `json:"logGroupName,omitempty"`
			}) (*struct {
				MetricFilters []putMetricFilterInput `json:"metricFilters"`
			}, error) {
				l.mu.Lock()
				defer l.mu.Unlock()
				return &struct {
					MetricFilters []putMetricFilterInput `json:"metricFilters"`
				}{MetricFilters: l.filters}, nil
			}),
		},
	}
}

// --- sns ---

type messageAttributeValue struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

type publishInput struct {
	TopicArn          *string                          `json:"TopicArn,omitempty"`
	Message           string                           `json:"Message"`
	Subject           *string                          `json:"Subject,omitempty"`
	MessageStructure  *string                          `json:"MessageStructure,omitempty"`
	MessageAttributes map[string]messageAttributeValue `json:"MessageAttributes,omitempty" aws:"key=Name,value=Value"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type createTopicInput struct {
	Name       string            `json:"Name"`
	Attributes map[string]string `json:"Attributes,omitempty"`
	Tags       []tag             `json:"Tags,omitempty"`
}

type toySNS struct {
	mu        sync.Mutex
	topics    map[string]createTopicInput
	published []publishInput
}

func (s *toySNS) service() *awsapi.Service {
	return &awsapi.Service{
		SigningName:         "sns",
		QueryVersion:        "2010-03-31",
		XMLNamespace:        "http://sns.amazonaws.com/doc/2010-03-31/",
		QueryValidationCode: "InvalidParameter",
		UnsignedOperations:  []string{"ConfirmSubscription"},
		UnsignedParameters:  map[string][]string{"ConfirmSubscription": {"TopicArn", "Token"}},
		Operations: map[string]awsapi.Operation{
			"ConfirmSubscription": awsapi.Op(func(ctx context.Context, in *struct {
				TopicArn string `json:"TopicArn"`
				Token    string `json:"Token"`
			}) (*struct {
				SubscriptionArn string `json:"SubscriptionArn"`
			}, error) {
				id := awsapi.Caller(ctx)
				return &struct {
					SubscriptionArn string `json:"SubscriptionArn"`
				}{in.TopicArn + ":" + in.Token + "/account=" + id.AccountID}, nil
			}),
			"CreateTopic": awsapi.Op(func(ctx context.Context, in *createTopicInput) (*struct {
				TopicArn *string `json:"TopicArn,omitempty"`
			}, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				id := awsapi.Caller(ctx)
				arn := "arn:aws:sns:" + id.Region + ":" + id.AccountID + ":" + in.Name
				s.topics[arn] = *in
				return &struct {
					TopicArn *string `json:"TopicArn,omitempty"`
				}{&arn}, nil
			}),
			"GetTopicAttributes": awsapi.Op(func(ctx context.Context, in *struct {
				TopicArn string `json:"TopicArn"`
			}) (*struct {
				Attributes map[string]string `json:"Attributes,omitempty"`
			}, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				t, ok := s.topics[in.TopicArn]
				if !ok {
					return nil, &awsapi.Error{Code: "NotFound", Message: "Topic does not exist", Status: 404, Sender: true}
				}
				attrs := map[string]string{"TopicArn": in.TopicArn, "DisplayName": ""}
				for k, v := range t.Attributes {
					attrs[k] = v
				}
				return &struct {
					Attributes map[string]string `json:"Attributes,omitempty"`
				}{attrs}, nil
			}),
			"Publish": awsapi.Op(func(ctx context.Context, in *publishInput) (*struct {
				MessageId *string `json:"MessageId,omitempty"`
			}, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.published = append(s.published, *in)
				return &struct {
					MessageId *string `json:"MessageId,omitempty"`
				}{ptr("95df01b4-ee98-5cb9-9903-4c221d41eb5e")}, nil
			}),
			"ListTopics": awsapi.Op(func(ctx context.Context, in *struct {
				NextToken *string `json:"NextToken,omitempty"`
			}) (*struct {
				Topics []struct {
					TopicArn string `json:"TopicArn"`
				} `json:"Topics"`
			}, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				out := &struct {
					Topics []struct {
						TopicArn string `json:"TopicArn"`
					} `json:"Topics"`
				}{}
				arns := make([]string, 0, len(s.topics))
				for arn := range s.topics {
					arns = append(arns, arn)
				}
				sort.Strings(arns)
				for _, arn := range arns {
					out.Topics = append(out.Topics, struct {
						TopicArn string `json:"TopicArn"`
					}{arn})
				}
				return out, nil
			}),
		},
	}
}

func ptr[T any](v T) *T { return &v }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testEnv is a server with the three toy services.
type testEnv struct {
	srv  *httptest.Server
	mon  *toyMonitoring
	logs *toyLogs
	sns  *toySNS
}

func newTestEnv(t *testing.T, now func() time.Time) *testEnv {
	t.Helper()
	e := &testEnv{
		mon:  &toyMonitoring{alarms: map[string]putMetricAlarmInput{}, now: time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC)},
		logs: &toyLogs{groups: map[string]int64{}},
		sns:  &toySNS{topics: map[string]createTopicInput{}},
	}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:    []*awsapi.Service{e.mon.service(), e.logs.service(), e.sns.service()},
		Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:         now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newServer(t, h)
	return e
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (d dimension) equal(name, value string) bool { return d.Name == name && d.Value == value }
