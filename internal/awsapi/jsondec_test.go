package awsapi

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

type jInner struct {
	Name  string `json:"name"`
	Value *int64 `json:"value,omitempty"`
}

type jInput struct {
	Str    string            `json:"str"`
	Int    int32             `json:"int"`
	Long   *int64            `json:"long,omitempty"`
	Uint   uint8             `json:"uint"`
	Bool   *bool             `json:"bool,omitempty"`
	Double *float64          `json:"double,omitempty"`
	Float  float32           `json:"float"`
	When   *Time             `json:"when,omitempty"`
	List   []jInner          `json:"list,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
	Blob   []byte            `json:"blob,omitempty"`
	Doc    any               `json:"doc,omitempty"`
	Nested *jInner           `json:"nested,omitempty"`
	Lists  [][]string        `json:"lists,omitempty"`
}

func TestDecodeJSON(t *testing.T) {
	at := time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC)
	tests := []struct {
		name, body string
		want       jInput
	}{
		{"empty body", "", jInput{}},
		{"whitespace body", " \n", jInput{}},
		{"null body", "null", jInput{}},
		{"scalars", `{"str":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","int":-7,"long":9007199254740993,"uint":255,"bool":false,"double":1.5e3,"float":0.25}`,
			jInput{Str: "a\"\\/\b\f\n\r\t\u00e9\U0001F600", Int: -7, Long: ptrTo(int64(9007199254740993)), Uint: 255, Bool: ptrTo(false), Double: ptrTo(1500.0), Float: 0.25}},
		{"integral forms of integers", `{"int":1.0,"long":1e3}`, jInput{Int: 1, Long: ptrTo(int64(1000))}},
		{"long integers beyond the fast path", `{"long":-9223372036854775808,"int":-0}`, jInput{Long: ptrTo(int64(math.MinInt64))}},
		{"19 digits", `{"long":1234567890123456789}`, jInput{Long: ptrTo(int64(1234567890123456789))}},
		{"timestamp number", `{"when":1764183600.123}`, jInput{When: &Time{at}}},
		{"timestamp string", `{"when":"2025-11-26T19:00:00.123Z"}`, jInput{When: &Time{at}}},
		{"lists maps nested", `{"list":[{"name":"a","value":1},{"name":"b"}],"map":{"k":"v","e":""},"nested":{"name":"n"},"lists":[["x"],[]]}`,
			jInput{List: []jInner{{"a", ptrTo(int64(1))}, {Name: "b"}}, Map: map[string]string{"k": "v", "e": ""}, Nested: &jInner{Name: "n"}, Lists: [][]string{{"x"}, {}}}},
		{"nulls", `{"str":null,"list":null,"nested":null,"double":null}`, jInput{}},
		{"blob", `{"blob":"AAH/"}`, jInput{Blob: []byte{0, 1, 255}}},
		{"document", `{"doc":{"a":[1,true,null]}}`, jInput{Doc: map[string]any{"a": []any{1.0, true, nil}}}},
		{"unknown members skipped", `{"other":{"deep":[1,{"x":"}"}]},"str":"s","Str":"wrong case"}`, jInput{Str: "s"}},
		{"member names are case-sensitive", `{"STR":"x","Int":3}`, jInput{}},
		{"invalid UTF-8 replaced", "{\"str\":\"a\xffb\"}", jInput{Str: "a\uFFFDb"}},
		{"lone surrogate replaced", `{"str":"\ud800x"}`, jInput{Str: "\uFFFDx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got jInput
			if err := decodeJSON([]byte(tt.body), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeJSONNonFinite(t *testing.T) {
	for in, check := range map[string]func(float64) bool{
		`"NaN"`: math.IsNaN, `"Infinity"`: func(f float64) bool { return math.IsInf(f, 1) }, `"-Infinity"`: func(f float64) bool { return math.IsInf(f, -1) },
		`1e400`: func(f float64) bool { return math.IsInf(f, 1) },
	} {
		var got jInput
		if err := decodeJSON([]byte(`{"double":`+in+`}`), &got); err != nil || !check(*got.Double) {
			t.Errorf("%s = %v, %v", in, got.Double, err)
		}
	}
}

// TestDecodeJSONCoralMessages pins the SerializationException texts to what AWS's Coral JSON
// deserializer answers (recorded by kinesalite against Kinesis).
func TestDecodeJSONCoralMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"str":true}`, "class java.lang.Boolean can not be converted to an String"},
		{`{"str":23}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"},
		{`{"str":[]}`, "Start of list found where not expected"},
		{`{"str":{}}`, "Start of structure or map found where not expected."},
		{`{"int":"23"}`, "class java.lang.String can not be converted to an Integer"},
		{`{"int":true}`, "class java.lang.Boolean can not be converted to an Integer"},
		{`{"long":"23"}`, "class java.lang.String can not be converted to an Long"},
		{`{"int":1.5}`, "Number 1.5 can not be converted to an Integer"},
		{`{"int":2147483648}`, "Number 2147483648 can not be converted to an Integer"},
		{`{"uint":-1}`, "Number -1 can not be converted to an Integer"},
		{`{"long":9223372036854775808}`, "Number 9223372036854775808 can not be converted to an Long"},
		{`{"uint":256}`, "Number 256 can not be converted to an Integer"},
		{`{"bool":"23"}`, "'23' can not be converted to an Boolean"},
		{`{"bool":23}`, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean"},
		{`{"double":"abc"}`, "class java.lang.String can not be converted to an Double"},
		{`{"blob":true}`, "class java.lang.Boolean can not be converted to a Blob"},
		{`{"blob":"23456"}`, "'23456' can not be converted to a Blob"},
		{`{"list":"23"}`, "Expected list or null"},
		{`{"list":{}}`, "Start of structure or map found where not expected."},
		{`{"map":23}`, "Expected map or null"},
		{`{"map":[]}`, "Start of list found where not expected"},
		{`{"nested":true}`, "Expected null"},
		{`{"nested":[]}`, "Start of list found where not expected"},
		{`{"when":true}`, "class java.lang.Boolean can not be converted to a Timestamp"},
		{`{"when":"soon"}`, "'soon' can not be converted to a Timestamp"},
		{`[]`, "Start of list found where not expected"},
	}
	for _, tt := range tests {
		var got jInput
		err := decodeJSON([]byte(tt.body), &got)
		var te *jsonTypeError
		if !errors.As(err, &te) || !strings.HasPrefix(te.msg, tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestDecodeJSONSyntaxErrors(t *testing.T) {
	for _, body := range []string{`{`, `{"str":}`, `{"str":"a"`, `{"str":"a",}`, `{"str" "a"}`, `{"str":"a"}x`, `"str"`, `5`, `tru`,
		`{"int":01}`, `{"int":-}`, `{"int":1.}`, `{"int":1e}`, `{"str":"\x"}`, "{\"str\":\"a\nb\"}", `{"str":"\u12"}`, `{str:1}`,
		`{"doc":[1,]}`, strings.Repeat(`{"nested":`, 70) + `{}` + strings.Repeat(`}`, 70), `{"x":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}`} {
		var got jInput
		err := decodeJSON([]byte(body), &got)
		var se *jsonSyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%.40q: err = %v, want a syntax error", body, err)
		}
	}
}

// BenchmarkDecodeJSON compares the awsJson decoder with encoding/json (the baseline) on a
// 1,000-event PutLogEvents body.
func BenchmarkDecodeJSON(b *testing.B) {
	type event struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	type input struct {
		LogGroupName  string  `json:"logGroupName"`
		LogStreamName string  `json:"logStreamName"`
		LogEvents     []event `json:"logEvents"`
	}
	var sb strings.Builder
	sb.WriteString(`{"logGroupName":"CloudTrail/DefaultLogGroup","logStreamName":"s","logEvents":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"timestamp":1764183600000,"message":"{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"Root\",\"principalId\":\"111111111111\"},` +
			`\"eventTime\":\"2025-11-26T19:00:00Z\",\"eventSource\":\"signin.amazonaws.com\",\"eventName\":\"ConsoleLogin\",\"sourceIPAddress\":\"203.0.113.7\"}"}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.Run("awsapi", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in input
			if err := decodeJSON(body, &in); err != nil || len(in.LogEvents) != 1000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var in input
			if err := json.Unmarshal(body, &in); err != nil || len(in.LogEvents) != 1000 {
				b.Fatal(err)
			}
		}
	})
}

// putLogEventsBody is a 1,000-event PutLogEvents body as an SDK sends it: each message is a
// CloudTrail record of ../shared/data/cloudtrail/samples.jsonl (cycled), so that inside the body
// it is a JSON string with an escaped quote every few bytes.
func putLogEventsBody(tb testing.TB) []byte {
	tb.Helper()
	records := corpus.Samples(tb)
	in := benchPutLogEventsInput{LogGroupName: ptrTo("CloudTrail/DefaultLogGroup"), LogStreamName: ptrTo("111122223333_CloudTrail_us-east-1")}
	for i := range 1000 {
		in.LogEvents = append(in.LogEvents, benchInputLogEvent{Timestamp: ptrTo(int64(1764183600000 + i)), Message: ptrTo(string(records[i%len(records)]))})
	}
	body, err := json.Marshal(&in)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// benchInputLogEvent and benchPutLogEventsInput have the shape of logsapi's PutLogEvents input:
// optional members are pointers.
type benchInputLogEvent struct {
	Timestamp *int64  `json:"timestamp,omitempty"`
	Message   *string `json:"message,omitempty"`
}

type benchPutLogEventsInput struct {
	LogGroupName  *string              `json:"logGroupName,omitempty"`
	LogStreamName *string              `json:"logStreamName,omitempty"`
	LogEvents     []benchInputLogEvent `json:"logEvents,omitempty"`
	SequenceToken *string              `json:"sequenceToken,omitempty"`
}

// BenchmarkDecodePutLogEvents decodes a realistic PutLogEvents body (putLogEventsBody) with the
// awsJson decoder and, as the baseline, with encoding/json into the same struct.
func BenchmarkDecodePutLogEvents(b *testing.B) {
	body := putLogEventsBody(b)
	for _, dec := range []struct {
		name   string
		decode func([]byte, any) error
	}{{"awsapi", decodeJSON}, {"encoding-json", json.Unmarshal}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var in benchPutLogEventsInput
				if err := dec.decode(body, &in); err != nil || len(in.LogEvents) != 1000 {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDecodePutLogEventsMatchesEncodingJSON decodes the benchmark's body with both decoders and
// compares the results.
func TestDecodePutLogEventsMatchesEncodingJSON(t *testing.T) {
	body := putLogEventsBody(t)
	var got, want benchPutLogEventsInput
	if err := decodeJSON(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("awsapi and encoding/json decode the PutLogEvents body differently")
	}
}
