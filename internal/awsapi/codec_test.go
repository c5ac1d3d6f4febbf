package awsapi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/trailwatch/trailwatch/internal/javafmt"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot  %s\nwant %s", name, got, want)
	}
}

type xDim struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type xAlarm struct {
	AlarmName             *string  `json:"AlarmName,omitempty"`
	ActionsEnabled        *bool    `json:"ActionsEnabled,omitempty"`
	AlarmActions          []string `json:"AlarmActions"`
	OKActions             []string `json:"OKActions"`
	StateUpdatedTimestamp *Time    `json:"StateUpdatedTimestamp,omitempty"`
	Dimensions            []xDim   `json:"Dimensions"`
	Period                *int32   `json:"Period,omitempty"`
	Threshold             *float64 `json:"Threshold,omitempty"`
	DatapointsToAlarm     *int32   `json:"DatapointsToAlarm,omitempty"`
	AlarmDescription      *string  `json:"AlarmDescription,omitempty"`
}

type xDescribe struct {
	MetricAlarms    []xAlarm `json:"MetricAlarms"`
	CompositeAlarms []xAlarm `json:"CompositeAlarms"`
	NextToken       *string  `json:"NextToken,omitempty"`
}

type xAttrs struct {
	Attributes map[string]string           `json:"Attributes"`
	Flat       []string                    `json:"Flat,omitempty" aws:"flat,member=Item"`
	Renamed    map[string]map[string]int64 `json:"Renamed,omitempty" aws:"key=Name,value=Value"`
	Blob       []byte                      `json:"Blob,omitempty"`
	Values     []float64                   `json:"Values,omitempty"`
	Text       string                      `json:"Text"`
}

var goldenAlarm = xDescribe{MetricAlarms: []xAlarm{{
	AlarmName:             ptrTo("Root <login> & \"more\""),
	ActionsEnabled:        ptrTo(true),
	AlarmActions:          []string{"arn:aws:sns:us-east-1:111111111111:t"},
	StateUpdatedTimestamp: &Time{time.Date(2025, 11, 26, 19, 0, 0, 123456789, time.UTC)},
	Dimensions:            []xDim{{"InstanceId", "abc"}},
	Period:                ptrTo(int32(60)),
	Threshold:             ptrTo(1.0),
}}}

func TestEncodeQueryResponseGolden(t *testing.T) {
	golden(t, "describe_alarms.xml", encodeQueryResponse("DescribeAlarms", "http://monitoring.amazonaws.com/doc/2010-08-01/", "req-1", reflect.ValueOf(&goldenAlarm)))
	golden(t, "put_metric_alarm.xml", encodeQueryResponse("PutMetricAlarm", "http://monitoring.amazonaws.com/doc/2010-08-01/", "req-2", reflect.ValueOf(&struct{}{})))
	attrs := xAttrs{
		Attributes: map[string]string{"b": "2", "a": "1\n"},
		Flat:       []string{"x", "y"},
		Renamed:    map[string]map[string]int64{"k": {"z": -1}},
		Blob:       []byte{0, 1, 255},
		Values:     []float64{0, 21.5, 1.6e10, 1e-4, math.Inf(1), math.NaN()},
	}
	golden(t, "get_attributes.xml", encodeQueryResponse("GetTopicAttributes", "http://sns.amazonaws.com/doc/2010-03-31/", "req-3", reflect.ValueOf(&attrs)))
	golden(t, "error.xml", encodeQueryError("http://sns.amazonaws.com/doc/2010-03-31/", "req-4", wireError{code: "NotFound", message: "Topic does not exist", sender: true}))
	golden(t, "error_receiver_nomessage.xml", encodeQueryError("http://monitoring.amazonaws.com/doc/2010-08-01/", "req-5", wireError{code: "InternalFailure", sender: false, noMessage: true}))
}

func TestEncodeJSONGolden(t *testing.T) {
	b, err := encodeJSON(&goldenAlarm)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "describe_alarms.json", b)
	if !json.Valid(b) {
		t.Errorf("invalid JSON %s", b)
	}
	attrs := xAttrs{Values: []float64{0, 21.5, 1.6e21, 1e-7, math.Inf(-1), math.NaN()}, Text: "q\"\\\n\r\t\x01<>&\u2028\xff"}
	b, err = encodeJSON(&attrs)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "attributes.json", b)
	if !json.Valid(b) {
		t.Errorf("invalid JSON %s", b)
	}
}

func TestFormatJavaDouble(t *testing.T) {
	tests := map[float64]string{
		1: "1.0", 21.5: "21.5", 0: "0.0", -3: "-3.0", 1.6e10: "1.6E10", 3.088453632e9: "3.088453632E9",
		1e7: "1.0E7", 9999999: "9999999.0", 0.001: "0.001", 0.0001: "1.0E-4", 123456.789: "123456.789",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", -1.5e-5: "-1.5E-5",
	}
	for in, want := range tests {
		if got := formatJavaDouble(in); got != want {
			t.Errorf("formatJavaDouble(%v) = %q, want %q", in, got, want)
		}
	}
	if got := formatJavaDouble(math.NaN()); got != "NaN" {
		t.Errorf("NaN = %q", got)
	}
}

// TestTimeJSON follows AWS's awsJson timestamps: epoch seconds as a Java double, as recorded
// Coral answers carry them ("CreationDateTime":1.562054355238E9 in DynamoDB's DescribeTable), so
// that a client keeping JSON's number types decodes a float.
func TestTimeJSON(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC), "1.7641836E9"},
		{time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC), "1.764183600123E9"},
		{time.Date(2025, 11, 26, 19, 0, 0, 5e8, time.UTC), "1.7641836005E9"},
		{time.Date(2019, 7, 2, 8, 12, 35, 238e6, time.UTC), "1.562055155238E9"},
		{time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC), "1.0"},
		{time.Date(1969, 12, 31, 23, 59, 59, 5e8, time.UTC), "-0.5"},
	}
	for _, tt := range tests {
		b, _ := Time{tt.t}.MarshalJSON()
		if string(b) != tt.want {
			t.Errorf("MarshalJSON(%v) = %s, want %s", tt.t, b, tt.want)
		}
		var back Time
		if err := back.UnmarshalJSON(b); err != nil || !back.Equal(tt.t) {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", b, back, err)
		}
	}
	var v Time
	for in, want := range map[string]time.Time{
		"1764183600.123":             time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC),
		`"2025-11-26T19:00:00.123Z"`: time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC),
		"1.764183600123E9":           time.Date(2025, 11, 26, 19, 0, 0, 123e6, time.UTC),
	} {
		if err := v.UnmarshalJSON([]byte(in)); err != nil || !v.Equal(want) {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", in, v, err)
		}
	}
	for _, bad := range []string{`"soon"`, "true", "1e300", `"`} {
		if err := v.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted", bad)
		}
	}
}

func TestTimeCBOR(t *testing.T) {
	whole := Time{time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)}
	frac := Time{time.Date(2025, 11, 26, 19, 0, 0, 250e6, time.UTC)}
	for _, tt := range []Time{whole, frac} {
		b, err := tt.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0xc1 {
			t.Errorf("encoding of %v does not start with tag 1: % x", tt, b)
		}
		var back Time
		if err := back.UnmarshalCBOR(b); err != nil || !back.Equal(tt.Time) {
			t.Errorf("round trip %v = %v, %v", tt, back, err)
		}
	}
	// botocore sends integer seconds; Java SDKs send float64; both tagged.
	intTag, _ := cbor.Marshal(cbor.Tag{Number: 1, Content: 1764183600})
	floatTag, _ := cbor.Marshal(cbor.Tag{Number: 1, Content: 1764183600.5})
	otherTag, _ := cbor.Marshal(cbor.Tag{Number: 0, Content: "2025-11-26T19:00:00Z"})
	var v Time
	if err := v.UnmarshalCBOR(intTag); err != nil || v.Unix() != 1764183600 {
		t.Errorf("int tag = %v, %v", v, err)
	}
	if err := v.UnmarshalCBOR(floatTag); err != nil || v.UnixMilli() != 1764183600500 {
		t.Errorf("float tag = %v, %v", v, err)
	}
	if err := v.UnmarshalCBOR(otherTag); err == nil {
		t.Errorf("tag 0 accepted")
	}
	// Leniently, an untagged number is seconds too.
	untagged, _ := cbor.Marshal(1764183600.25)
	if err := v.UnmarshalCBOR(untagged); err != nil || v.UnixMilli() != 1764183600250 {
		t.Errorf("untagged = %v, %v", v, err)
	}
}

type cInput struct {
	Name   string   `json:"Name"`
	Values []string `json:"Values,omitempty"`
	At     *Time    `json:"At,omitempty"`
	N      *int32   `json:"N,omitempty"`
}

func TestDecodeCBORIndefinite(t *testing.T) {
	// {_ "Name": "x", "Values": [_ "a", "b"], "At": 1(1764183600), "N": 7}, indefinite map and array.
	body := []byte{0xbf,
		0x64, 'N', 'a', 'm', 'e', 0x61, 'x',
		0x66, 'V', 'a', 'l', 'u', 'e', 's', 0x9f, 0x61, 'a', 0x61, 'b', 0xff,
		0x62, 'A', 't', 0xc1, 0x1a, 0x69, 0x27, 0x4e, 0x30,
		0x61, 'N', 0x07,
		0xff}
	var got cInput
	if err := decodeCBOR(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "x" || len(got.Values) != 2 || got.At.Unix() != 0x69274e30 || *got.N != 7 {
		t.Errorf("got %+v", got)
	}
	// Member names match case-sensitively.
	b, _ := cbor.Marshal(map[string]any{"name": "lower"})
	got = cInput{}
	if err := decodeCBOR(b, &got); err != nil || got.Name != "" {
		t.Errorf("case-insensitive match: %+v, %v", got, err)
	}
	// A string where a number belongs is an error.
	b, _ = cbor.Marshal(map[string]any{"N": "seven"})
	if err := decodeCBOR(b, &got); err == nil {
		t.Errorf("type mismatch accepted")
	}
}

func TestEncodeCBORNilContainers(t *testing.T) {
	b, err := encodeCBOR(&xDescribe{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if l, ok := m["MetricAlarms"].([]any); !ok || len(l) != 0 {
		t.Errorf("MetricAlarms = %#v, want empty array", m["MetricAlarms"])
	}
	if _, ok := m["NextToken"]; ok {
		t.Errorf("nil optional member sent")
	}
}

func FuzzJSONDecode(f *testing.F) {
	f.Add([]byte(`{"Name":"x","Values":["a"],"At":1764183600.5,"N":3}`))
	f.Add([]byte(`{"At":"2025-11-26T19:00:00Z"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"str":"\ud83d\ude00","list":[{"name":"a"}],"doc":{"x":[1,2]},"double":"NaN"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in cInput
		_ = decodeJSON(b, &in)
		var q qInput
		_ = decodeJSON(b, &q)
		// Differential check against encoding/json's grammar: a syntax error only for invalid
		// JSON (or nesting beyond the limit), and never success for invalid JSON.
		var j jInput
		err := decodeJSON(b, &j)
		var se *jsonSyntaxError
		valid := json.Valid(b) || len(bytes.TrimSpace(b)) == 0
		trimmed := bytes.TrimSpace(b)
		object := len(trimmed) > 0 && trimmed[0] == '{' // top-level scalars are rejected by design
		if errors.As(err, &se) && valid && object && bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) <= maxJSONDepth {
			t.Fatalf("syntax error %v for valid JSON %q", err, b)
		}
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", b)
		}
	})
}

func FuzzCBORDecode(f *testing.F) {
	b, _ := cbor.Marshal(map[string]any{"Name": "x", "Values": []string{"a"}, "At": cbor.Tag{Number: 1, Content: 1.5}, "N": 3})
	f.Add(b)
	f.Add([]byte{0xbf, 0x64, 'N', 'a', 'm', 'e', 0x61, 'x', 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var in cInput
		_ = decodeCBOR(b, &in)
		var q qInput
		_ = decodeCBOR(b, &q)
	})
}

// TestEncodeCBORRoundTrip decodes what cborWriter produces with fxamacker and compares with the
// value; the SDK end-to-end tests check the same against smithy-go's decoder.
func TestEncodeCBORRoundTrip(t *testing.T) {
	type inner struct {
		S   string             `json:"S"`
		I   int64              `json:"I"`
		U   uint64             `json:"U,omitempty"`
		F32 float32            `json:"F32"`
		B   bool               `json:"B"`
		M   map[string][]int32 `json:"M,omitempty"`
	}
	type outer struct {
		Items []inner  `json:"Items"`
		Bin   []byte   `json:"Bin,omitempty"`
		When  Time     `json:"When"`
		Ptr   *float64 `json:"Ptr"`
		Neg   int32    `json:"Neg"`
	}
	in := outer{
		Items: []inner{{S: "é\x00", I: math.MinInt64, U: math.MaxUint64, F32: 1.5, B: true, M: map[string][]int32{"b": {1, -300, 70000}, "a": nil}}, {I: 23}},
		Bin:   make([]byte, 300),
		When:  Time{time.Date(2025, 11, 26, 19, 0, 0, 500e6, time.UTC)},
		Neg:   -25,
	}
	b, err := encodeCBOR(&in)
	if err != nil {
		t.Fatal(err)
	}
	var back outer
	if err := cborDec.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode % x: %v", b, err)
	}
	in.Items[0].M["a"] = []int32{} // nil lists inside maps are sent as empty lists
	if !reflect.DeepEqual(back, in) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", back, in)
	}
	var generic map[string]any
	_ = cbor.Unmarshal(b, &generic)
	if _, ok := generic["Ptr"]; ok {
		t.Errorf("nil pointer without omitempty was sent")
	}
}

// BenchmarkEncodeJSON compares the awsJson encoder with encoding/json (the baseline) on a
// 100-alarm DescribeAlarms output.
func BenchmarkEncodeJSON(b *testing.B) {
	out := xDescribe{}
	for range 100 {
		out.MetricAlarms = append(out.MetricAlarms, goldenAlarm.MetricAlarms[0])
	}
	// The handler encodes into pooled buffers, and encoding/json pools its own: both reuse.
	b.Run("awsapi", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendJSON(buf[:0], &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("awsapi-cbor", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendCBOR(buf[:0], &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fxamacker-cbor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cborEnc.Marshal(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestDecodeCBORIntIntoDouble(t *testing.T) {
	type in struct {
		Threshold *float64 `json:"Threshold,omitempty"`
		Small     float32  `json:"Small"`
	}
	b, _ := cbor.Marshal(map[string]any{"Threshold": 3, "Small": -2})
	var got in
	if err := decodeCBOR(b, &got); err != nil || *got.Threshold != 3 || got.Small != -2 {
		t.Errorf("got %+v, %v", got, err)
	}
	// Half-precision floats (which some encoders use for small values) decode too.
	if err := decodeCBOR([]byte{0xa1, 0x69, 'T', 'h', 'r', 'e', 's', 'h', 'o', 'l', 'd', 0xf9, 0x3e, 0x00}, &got); err != nil || *got.Threshold != 1.5 {
		t.Errorf("float16: %v, %v", got.Threshold, err)
	}
}

// FuzzJSONString checks string decoding against encoding/json: for any valid JSON string literal
// both give the same text (invalid UTF-8 becoming U+FFFD in both), and a literal that
// encoding/json rejects is rejected too (or read only up to a quote that is followed by more than
// whitespace). The seeds are longer than eight bytes so that the word-at-a-time scan meets quotes,
// backslashes, control characters and bytes >= 0x80 at every offset of a word.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"{\"eventID\":\"a\\\\b\",\"x\":\"\u00e9\"}"`, `"\ud83d\ude00\n\t"`, `"\ud800"`, "\"caf\xc3\xa9 \xff\"",
		`"{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"Root\"}}"`, "\"0123456789abcdef\xe2\x82\xac0123456\\u20ac\"", "\"01234567\x01\"",
		"\"0123456\xff\\\"", `"0123456789\"`, `"0123456789\uD834\uDD1E\uDD1E\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		d := &jsonDecoder{data: b, scratch: []byte("stale scratch contents")}
		got, err := d.string()
		var want string
		if json.Unmarshal(b, &want) != nil {
			if err == nil && len(bytes.Trim(b[d.pos:], " \t\r\n")) == 0 {
				t.Fatalf("string(%q) = %q, but encoding/json rejects it", b, got)
			}
			return
		}
		if err != nil || got != want || d.pos != len(bytes.TrimRight(b, " \t\r\n")) {
			t.Fatalf("string(%q) = %q, %v (pos %d); encoding/json reads %q", b, got, err, d.pos, want)
		}
	})
}

// TestTimestampPerProtocol pins how each protocol prints one timestamp, as AWS sends it:
// awsQuery without a fraction when the milliseconds are zero (CloudWatch's datapoints read
// <Timestamp>2025-11-26T19:00:00Z</Timestamp>) and with three digits otherwise; awsJson a Java
// double of epoch seconds; RPC v2 CBOR tag 1 around a float64 (0xfb), whole seconds too.
func TestTimestampPerProtocol(t *testing.T) {
	type out struct {
		T Time `json:"T"`
	}
	tests := []struct {
		t          time.Time
		xml, json  string
		cborSecond float64
	}{
		{time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC), "2025-11-26T19:00:00Z", "1.7641836E9", 1764183600},
		{time.Date(2025, 11, 26, 19, 0, 0, 999999, time.UTC), "2025-11-26T19:00:00Z", "1.7641836E9", 1764183600},
		{time.Date(2025, 11, 26, 19, 0, 27, 473e6, time.UTC), "2025-11-26T19:00:27.473Z", "1.764183627473E9", 1764183627.473},
		{time.Date(2025, 11, 26, 19, 0, 27, 100e6, time.UTC), "2025-11-26T19:00:27.100Z", "1.7641836271E9", 1764183627.1},
	}
	for _, tt := range tests {
		v := out{T: Time{tt.t}}
		x := string(encodeQueryResponse("Op", "", "r", reflect.ValueOf(&v)))
		if want := "<T>" + tt.xml + "</T>"; !strings.Contains(x, want) {
			t.Errorf("XML of %v = %s, want %s", tt.t, x, want)
		}
		j, err := encodeJSON(&v)
		if err != nil || string(j) != `{"T":`+tt.json+`}` {
			t.Errorf("JSON of %v = %s, %v; want %s", tt.t, j, err, tt.json)
		}
		c, err := encodeCBOR(&v)
		if err != nil {
			t.Fatal(err)
		}
		// a1 61 54 c1 fb <8 bytes>: {"T": 1(float64)}
		if len(c) != 13 || c[3] != 0xc1 || c[4] != 0xfb || math.Float64frombits(binary.BigEndian.Uint64(c[5:])) != tt.cborSecond {
			t.Errorf("CBOR of %v = % x, want tag 1 around float64 %v", tt.t, c, tt.cborSecond)
		}
		m, err := v.T.MarshalCBOR()
		if err != nil || !bytes.Equal(m, c[3:]) {
			t.Errorf("MarshalCBOR of %v = % x, %v; want % x", tt.t, m, err, c[3:])
		}
	}
}

// TestJSONDoubles pins that every double member is sent as Java prints doubles (AWS's awsJson
// answers carry "Threshold":30.0 and "Values":[1.0]), so that a client keeping JSON's number types
// decodes a float, while integers stay integers.
func TestJSONDoubles(t *testing.T) {
	type shape struct {
		D   float64            `json:"D"`
		P   *float64           `json:"P,omitempty"`
		L   []float64          `json:"L"`
		M   map[string]float64 `json:"M"`
		I   int64              `json:"I"`
		I32 int32              `json:"I32"`
	}
	tests := []struct {
		in   shape
		want string
	}{
		{shape{D: 30, P: ptrTo(0.0), L: []float64{1, 2.5}, M: map[string]float64{"p99": 100}, I: 30, I32: 60},
			`{"D":30.0,"P":0.0,"L":[1.0,2.5],"M":{"p99":100.0},"I":30,"I32":60}`},
		{shape{D: 1e7, L: []float64{1e-4, math.Copysign(0, -1), 1.6e10}},
			`{"D":1.0E7,"L":[1.0E-4,-0.0,1.6E10],"M":{},"I":0,"I32":0}`},
		{shape{D: 19.416666666666668, L: []float64{math.NaN()}},
			`{"D":19.416666666666668,"L":["NaN"],"M":{},"I":0,"I32":0}`},
	}
	for _, tt := range tests {
		b, err := encodeJSON(&tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("encodeJSON = %s, %v; want %s", b, err, tt.want)
		}
	}
}

// TestAppendEpochFastPath checks appendEpoch's integer fast path against the general one
// (javafmt.AppendDouble of millis/1000) over the whole range it serves and at its edges.
func TestAppendEpochFastPath(t *testing.T) {
	ms := []int64{1e10, 1e10 + 1, 1e11, 1e12, 1e13, 1e14, 1e15 - 1, 1764183600000, 1764183600123, 1764183600100, 1764183600120, 9999999999999}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		ms = append(ms, 1e10+r.Int64N(1e15-1e10))
	}
	for _, m := range ms {
		tm := time.UnixMilli(m).UTC()
		got := string(appendEpoch(nil, tm))
		if want := string(javafmt.AppendDouble(nil, float64(m)/1000)); got != want {
			t.Fatalf("appendEpoch(%d ms) = %s, want %s", m, got, want)
		}
	}
}
