package awsapi

import (
	"errors"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

type qDim struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type qAttr struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

type qNested struct {
	Inner *struct {
		Deep []int32 `json:"Deep,omitempty"`
	} `json:"Inner,omitempty"`
	Label string `json:"Label,omitempty"`
}

type qInput struct {
	Name       string            `json:"Name"`
	Count      *int32            `json:"Count,omitempty"`
	Big        int64             `json:"Big,omitempty"`
	Small      *uint8            `json:"Small,omitempty"`
	Enabled    *bool             `json:"Enabled,omitempty"`
	Threshold  *float64          `json:"Threshold,omitempty"`
	Ratio      float32           `json:"Ratio,omitempty"`
	At         *Time             `json:"At,omitempty"`
	Actions    []string          `json:"Actions,omitempty"`
	Dimensions []qDim            `json:"Dimensions,omitempty"`
	Attributes map[string]string `json:"Attributes,omitempty"`
	MsgAttrs   map[string]qAttr  `json:"MessageAttributes,omitempty" aws:"key=Name,value=Value"`
	Flat       []string          `json:"Flat,omitempty" aws:"flat"`
	Items      []string          `json:"Items,omitempty" aws:"member=item"`
	Nested     *qNested          `json:"Nested,omitempty"`
	Blob       []byte            `json:"Blob,omitempty"`
	Matrix     [][]string        `json:"Matrix,omitempty"`
	Skipped    string            `json:"-"`
}

func form(s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestDecodeQuery(t *testing.T) {
	at := time.Date(2025, 11, 26, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		form string
		want qInput
	}{
		{"scalars", "Action=X&Version=1&Name=a%20b&Count=-3&Big=9007199254740993&Small=255&Enabled=true&Threshold=1.5e3&Ratio=0.25",
			qInput{Name: "a b", Count: ptrTo(int32(-3)), Big: 9007199254740993, Small: ptrTo(uint8(255)), Enabled: ptrTo(true), Threshold: ptrTo(1500.0), Ratio: 0.25}},
		{"boolean is case-insensitive", "Enabled=False", qInput{Enabled: ptrTo(false)}},
		{"list out of order with gap", "Actions.member.3=c&Actions.member.1=a&Actions.member.10=d", qInput{Actions: []string{"a", "c", "d"}}},
		{"empty list sentinel", "Actions=", qInput{Actions: []string{}}},
		{"structs in list", "Dimensions.member.2.Name=B&Dimensions.member.1.Name=A&Dimensions.member.1.Value=1&Dimensions.member.2.Value=2",
			qInput{Dimensions: []qDim{{"A", "1"}, {"B", "2"}}}},
		{"map", "Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Ops&Attributes.entry.2.key=Policy&Attributes.entry.2.value=",
			qInput{Attributes: map[string]string{"DisplayName": "Ops", "Policy": ""}}},
		{"renamed map entry names", "MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=v" +
			"&MessageAttributes.entry.2.Name=b&MessageAttributes.entry.2.Value.DataType=Binary&MessageAttributes.entry.2.Value.BinaryValue=AAH%2F",
			qInput{MsgAttrs: map[string]qAttr{"k": {DataType: "String", StringValue: ptrTo("v")}, "b": {DataType: "Binary", BinaryValue: []byte{0, 1, 255}}}}},
		{"flattened list", "Flat.2=y&Flat.1=x", qInput{Flat: []string{"x", "y"}}},
		{"renamed member", "Items.item.1=i", qInput{Items: []string{"i"}}},
		{"nested struct", "Nested.Label=l&Nested.Inner.Deep.member.1=7", qInput{Nested: &qNested{Label: "l", Inner: &struct {
			Deep []int32 `json:"Deep,omitempty"`
		}{Deep: []int32{7}}}}},
		{"list of lists", "Matrix.member.1.member.1=a&Matrix.member.2.member.1=b&Matrix.member.2.member.2=c", qInput{Matrix: [][]string{{"a"}, {"b", "c"}}}},
		{"time Z", "At=2025-11-26T19:00:00Z", qInput{At: &Time{at}}},
		{"time millis", "At=2025-11-26T19:00:00.123Z", qInput{At: &Time{at.Add(123 * time.Millisecond)}}},
		{"time offset", "At=2025-11-26T20:00:00%2B01:00", qInput{At: &Time{at}}},
		{"time without zone", "At=2025-11-26T19:00:00", qInput{At: &Time{at}}},
		{"time epoch", "At=1764183600", qInput{At: &Time{at}}},
		{"blob", "Blob=aGk%3D", qInput{Blob: []byte("hi")}},
		{"unknown parameters are ignored", "Bogus=1&Name=n&Dimensions.member.1.Bogus=x", qInput{Name: "n", Dimensions: []qDim{{}}}},
		{"repeated key keeps the first", "Name=a&Name=b", qInput{Name: "a"}},
		{"json dash field ignored", "Skipped=x", qInput{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got qInput
			if err := decodeQuery(form(tt.form), &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeQuerySpecialFloats(t *testing.T) {
	for in, want := range map[string]float64{"Infinity": math.Inf(1), "-Infinity": math.Inf(-1), "1E-4": 1e-4, "-0": math.Copysign(0, -1)} {
		var got qInput
		if err := decodeQuery(form("Threshold="+url.QueryEscape(in)), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if *got.Threshold != want || math.Signbit(*got.Threshold) != math.Signbit(want) {
			t.Errorf("%s = %v, want %v", in, *got.Threshold, want)
		}
	}
	var got qInput
	if err := decodeQuery(form("Threshold=NaN"), &got); err != nil || !math.IsNaN(*got.Threshold) {
		t.Errorf("NaN = %v, %v", got.Threshold, err)
	}
}

func TestDecodeQueryErrors(t *testing.T) {
	tests := []struct {
		form, path, want string
	}{
		{"Count=abc", "Count", "Value 'abc' at 'Count' failed to satisfy constraint: Member must be an integer"},
		{"Count=2147483648", "Count", "an integer"},
		{"Small=-1", "Small", "a non-negative integer"},
		{"Enabled=yes", "Enabled", "a boolean"},
		{"Threshold=0x10", "Threshold", "a number"},
		{"Threshold=1_000", "Threshold", "a number"},
		{"Threshold=inf", "Threshold", "a number"},
		{"At=yesterday", "At", "ISO 8601"},
		{"Actions=x", "Actions", "a list"},
		{"Actions.member.0=x", "Actions.member.0", "list index"},
		{"Actions.member.x=x", "Actions.member.x", "list index"},
		{"Actions.member.%2B1=x", "Actions.member.+1", "list index"},
		{"Actions.1=x", "Actions", "a list (Actions.member.N)"},
		{"Dimensions.member.1=x", "Dimensions.member.1", "a structure"},
		{"Attributes.entry.1.value=x", "Attributes.entry.1.key", "present"},
		{"Attributes=x", "Attributes", "a map"},
		{"Blob=%%%", "", ""}, // malformed form encoding is rejected by url.ParseQuery before decoding
		{"Blob=!!", "Blob", "base64"},
	}
	for _, tt := range tests {
		t.Run(tt.form, func(t *testing.T) {
			f, perr := url.ParseQuery(tt.form)
			if perr != nil {
				if tt.path != "" {
					t.Fatalf("form: %v", perr)
				}
				return
			}
			var got qInput
			err := decodeQuery(f, &got)
			var qe *queryError
			if !errors.As(err, &qe) {
				t.Fatalf("err = %v, want a queryError", err)
			}
			if qe.path != tt.path || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v (path %q), want path %q containing %q", err, qe.path, tt.path, tt.want)
			}
		})
	}
}

func TestDecodeQueryDepthLimit(t *testing.T) {
	key := strings.Repeat("a.", maxQueryDepth) + "b"
	var got qInput
	if err := decodeQuery(url.Values{key: {"x"}}, &got); err == nil {
		t.Fatal("deeply nested key accepted")
	}
}

func ptrTo[T any](v T) *T { return &v }

func FuzzQueryDecode(f *testing.F) {
	for _, s := range []string{
		"Name=a&Count=1&Actions.member.1=x&Dimensions.member.1.Name=n",
		"MessageAttributes.entry.1.Name=k&MessageAttributes.entry.1.Value.DataType=String",
		"At=2025-11-26T19:00:00Z&Threshold=Infinity&Actions=",
		"Matrix.member.1.member.1=a&Flat.1=x&Nested.Inner.Deep.member.1=7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		var got qInput
		_ = decodeQuery(vals, &got) // must not panic; errors are fine
	})
}
