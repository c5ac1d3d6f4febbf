package pattern

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRunTestMetricFilter(t *testing.T) {
	msgs := []string{
		`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`,
		`127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324`,
		`127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355`,
	}
	got, err := RunTestMetricFilter(`[..., size]`, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].EventNumber != 1 || got[2].EventNumber != 3 || got[1].EventMessage != msgs[1] {
		t.Fatalf("got %+v", got)
	}
	want := map[string]string{"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:35:22 -0700",
		"$5": "GET /apache_pb.gif HTTP/1.0", "$6": "500", "$size": "5324"}
	if !reflect.DeepEqual(got[1].ExtractedValues, want) {
		t.Errorf("extractedValues %v, want %v", got[1].ExtractedValues, want)
	}
	// Only matches are listed; term patterns extract nothing.
	got, err = RunTestMetricFilter(`"[ERROR]"`, []string{"[INFO] ok", "[ERROR] boom"})
	if err != nil || len(got) != 1 || got[0].EventNumber != 2 || got[0].ExtractedValues == nil || len(got[0].ExtractedValues) != 0 {
		t.Errorf("got %+v, %v", got, err)
	}
	got, err = RunTestMetricFilter(`NOTHING`, []string{"x"})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("no matches: got %#v, %v", got, err)
	}
	for _, tc := range []struct {
		msgs []string
		sub  string
	}{
		{nil, "at 'logEventMessages' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{make([]string, 51), "Member must have length less than or equal to 50"},
		{[]string{"a", ""}, "Member must satisfy constraint: [Member must have length greater than or equal to 1]"},
	} {
		_, err := RunTestMetricFilter(`x`, tc.msgs)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(pe.ErrorMessage(), tc.sub) || pe.ErrorCode() != "InvalidParameterException" {
			t.Errorf("%d messages: %v, want %q", len(tc.msgs), err, tc.sub)
		}
	}
	if _, err := RunTestMetricFilter(`{ $.a = }`, []string{"x"}); err == nil || err.(*Error).ErrorMessage() != "Invalid metric filter pattern" {
		t.Errorf("bad pattern: %v", err)
	}
}

func TestRegexes(t *testing.T) {
	for src, want := range map[string]int{
		"":                           0,
		"ERROR":                      0,
		"%a%":                        1,
		`{ $.a = %x% || $.b = %y% }`: 2,
		`[a = %x%, b]`:               1,
		`{ $.a = "%not a regex%" }`:  0,
	} {
		p, err := Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Regexes(); got != want {
			t.Errorf("Regexes(%q) = %d, want %d", src, got, want)
		}
	}
}
