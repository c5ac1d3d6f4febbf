package pattern

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

func TestCompileFilterErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		t       Transformation
		msg     string
	}{
		{"dimensions on terms", `?ERROR ?WARN`, Transformation{MetricValue: "1", Dimensions: map[string]string{"k": "$.a"}},
			"The specified filter pattern does not support dimensions"},
		{"dimensions on match-all", ``, Transformation{MetricValue: "1", Dimensions: map[string]string{"k": "$.a"}},
			"The specified filter pattern does not support dimensions"},
		{"dimensions with default", `{ $.a = * }`, Transformation{MetricValue: "1", DefaultValue: ptr(0), Dimensions: map[string]string{"k": "$.a"}},
			"Invalid metric transformation: dimensions and default value are mutually exclusive properties"},
		{"four dimensions", `{ $.a = * }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"a": "$.a", "b": "$.b", "c": "$.c", "d": "$.d"}},
			"1 validation error detected: Value '{a=$.a, b=$.b, c=$.c, d=$.d}' at 'metricTransformations.1.member.dimensions' failed to satisfy constraint: Member must have length less than or equal to 3"},
		{"empty metric value", `ERROR`, Transformation{},
			"1 validation error detected: Value '' at 'metricTransformations.1.member.metricValue' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long metric value", `ERROR`, Transformation{MetricValue: strings.Repeat("1", 101)},
			"1 validation error detected: Value '" + strings.Repeat("1", 101) + "' at 'metricTransformations.1.member.metricValue' failed to satisfy constraint: Member must have length less than or equal to 100"},
		{"bare name value", `[a, length]`, Transformation{MetricValue: "length"},
			"Invalid metric transformation: metric value 'length' is not valid for this filter pattern"},
		{"json value on terms", `ERROR`, Transformation{MetricValue: "$.a"},
			"Invalid metric transformation: metric value '$.a' is not valid for this filter pattern"},
		{"delimited ref on json", `{ $.a = 1 }`, Transformation{MetricValue: "$a"},
			"Invalid metric transformation: metric value '$a' is not valid for this filter pattern"},
		{"unknown field", `[a, b]`, Transformation{MetricValue: "$c"},
			"Invalid metric transformation: metric value '$c' is not valid for this filter pattern"},
		{"wildcard value", `{ $.a = 1 }`, Transformation{MetricValue: "$.a[*]"},
			"Invalid metric transformation: metric value '$.a[*]' is not valid for this filter pattern"},
		{"bad unit", `ERROR`, Transformation{MetricValue: "1", Unit: "Parsecs"},
			"1 validation error detected: Value 'Parsecs' at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set: [Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None]"},
		{"constant dimension", `{ $.a = 1 }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"k": "v"}},
			"Invalid metric transformation: dimension value 'v' is not valid for this filter pattern"},
		{"bad pattern", `{ $.a = }`, Transformation{MetricValue: "1"}, "Invalid metric filter pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileFilter(tt.pattern, tt.t)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want *Error", err)
			}
			if pe.ErrorCode() != "InvalidParameterException" || pe.ErrorMessage() != tt.msg {
				t.Errorf("got %s: %q\nwant %q", pe.ErrorCode(), pe.ErrorMessage(), tt.msg)
			}
		})
	}
}

func TestFilterEval(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		t       Transformation
		event   string
		match   bool
		publish bool
		value   float64
		dims    []DimensionValue
	}{
		{"constant", `ERROR`, Transformation{MetricValue: "1"}, "ERROR x", true, true, 1, nil},
		{"decimal constant", `ERROR`, Transformation{MetricValue: "2.5"}, "ERROR x", true, true, 2.5, nil},
		{"json value (doc)", `{ $.latency = * }`, Transformation{MetricValue: "$.latency"}, `{"latency":50,"eventType":"x"}`, true, true, 50, nil},
		{"json dims", `{ $.eventType = * }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"eventType": "$.eventType", "server": "$.host.name"}},
			`{"eventType":"UpdateTrail","host":{"name":"h1"}}`, true, true, 1, []DimensionValue{{"eventType", "UpdateTrail"}, {"server", "h1"}}},
		{"json dim number", `{ $.a = * }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"code": "$.a"}}, `{"a":404}`, true, true, 1, []DimensionValue{{"code", "404"}}},
		{"missing dim", `{ $.a = * }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"code": "$.b"}}, `{"a":1}`, true, false, 1, nil},
		{"delimited value", `[ip, user, username, timestamp, request, status_code, bytes]`, Transformation{MetricValue: "$bytes", Dimensions: map[string]string{"status": "$status_code"}},
			`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`, true, true, 1534, []DimensionValue{{"status", "200"}}},
		{"delimited position", `[..., status_code, bytes]`, Transformation{MetricValue: "$7"},
			`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`, true, true, 1534, nil},
		{"delimited non-numeric", `[a, bytes]`, Transformation{MetricValue: "$bytes"}, `x -`, true, false, 0, nil},
		{"no match", `{ $.a = 2 }`, Transformation{MetricValue: "1"}, `{"a":1}`, false, false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFilter(tt.pattern, tt.t)
			if err != nil {
				t.Fatal(err)
			}
			check := func(how string, r *Result) {
				t.Helper()
				if r.Publish != tt.publish || (tt.publish && r.Value != tt.value) {
					t.Errorf("%s: publish %v value %v, want %v %v", how, r.Publish, r.Value, tt.publish, tt.value)
				}
				if tt.publish && !slices.Equal(r.Dimensions, tt.dims) && (len(tt.dims) > 0 || len(r.Dimensions) > 0) {
					t.Errorf("%s: dimensions %v, want %v", how, r.Dimensions, tt.dims)
				}
			}
			var r Result
			if got := f.Eval([]byte(tt.event), &r); got != tt.match {
				t.Fatalf("Eval = %v, want %v", got, tt.match)
			}
			if tt.match {
				check("Filter.Eval", &r)
			}
			other, _ := CompileFilter(`{ $.zzz = 1 }`, Transformation{MetricValue: "1"})
			calls := 0
			NewSet([]*Filter{other, f}).Eval([]byte(tt.event), func(i int, r *Result) {
				calls++
				if i != 1 {
					t.Errorf("Set called for filter %d", i)
				}
				check("Set.Eval", r)
			})
			if (calls == 1) != tt.match {
				t.Errorf("Set.Eval calls = %d, match %v", calls, tt.match)
			}
		})
	}
}

// TestZeroAllocs pins the steady-state allocation contract of the hot path.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are unreliable under the race detector")
	}
	ev := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","errorCode":"AccessDenied","esc":"a\"b","additionalEventData":{"MFAUsed":"No"},"n":[1,2,{"x":null}]}`)
	var filters []*Filter
	for _, c := range cisPatterns {
		f, err := CompileFilter(c.pattern, Transformation{MetricValue: "1"})
		if err != nil {
			t.Fatal(err)
		}
		filters = append(filters, f)
	}
	dimf, err := CompileFilter(`{ $.eventName = * }`, Transformation{MetricValue: "1", Dimensions: map[string]string{"name": "$.eventName", "esc": "$.esc"}})
	if err != nil {
		t.Fatal(err)
	}
	filters = append(filters, dimf)
	set := NewSet(filters)
	terms, _ := Compile(`ConsoleLogin -"Failed authentication" ?x`)
	regex, _ := Compile(`%Console[A-Z]%`)
	wild, _ := Compile(`{ $.n[*].x IS NULL || $.* = "*Denied" }`)
	var r Result
	fn := func(int, *Result) {}
	for name, f := range map[string]func(){
		"Pattern.Match json": func() { filters[0].Pattern().Match(ev) },
		"Pattern.Match wild": func() { wild.Match(ev) },
		"Pattern.Match term": func() { terms.Match(ev) },
		"Pattern.Match re":   func() { regex.Match(ev) },
		"Filter.Eval":        func() { filters[1].Eval(ev, &r) },
		"Filter.Eval dims":   func() { dimf.Eval(ev, &r) },
		"Set.Eval":           func() { set.Eval(ev, fn) },
	} {
		f() // warm up pools and buffers
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
	if !wild.Match(ev) || !dimf.Eval(ev, &r) || r.Dimensions[0].Value != `a"b` {
		t.Errorf("sanity: %v %+v", wild.Match(ev), r)
	}
}

// TestConcurrentUse runs one Set, Filter and Pattern from several goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	var filters []*Filter
	for _, src := range []string{cisPatterns[0].pattern, `[a, b = 2*, c]`, `ERROR`} {
		f, err := CompileFilter(src, Transformation{MetricValue: "1"})
		if err != nil {
			t.Fatal(err)
		}
		filters = append(filters, f)
	}
	dimf, err := CompileFilter(`{ $.k = * }`, Transformation{MetricValue: "$.v", Dimensions: map[string]string{"k": "$.k"}})
	if err != nil {
		t.Fatal(err)
	}
	filters = append(filters, dimf)
	set := NewSet(filters)
	events := [][]byte{
		[]byte(`{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall","k":"a","v":1}`),
		[]byte(`x 20 ERROR`),
		[]byte(`{"k":"b","v":2}`),
	}
	want := [][]int{{0, 3}, {1, 2}, {3}}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for n := 0; n < 300; n++ {
				for e, ev := range events {
					var got []int
					set.Eval(ev, func(i int, r *Result) {
						got = append(got, i)
						wantK, wantV := map[int]string{0: "a", 2: "b"}[e], map[int]float64{0: 1, 2: 2}[e]
						if i == 3 && (r.Dimensions[0].Value != wantK || r.Value != wantV || !r.Publish) {
							t.Errorf("event %d: result %+v", e, r)
						}
					})
					if !slices.Equal(got, want[e]) {
						t.Errorf("event %d: filters %v, want %v", e, got, want[e])
						return
					}
					var r Result
					if filters[0].Eval(ev, &r) != (e == 0) || filters[1].Pattern().Match(ev) != (e == 1) {
						t.Errorf("event %d: wrong single result", e)
						return
					}
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}
