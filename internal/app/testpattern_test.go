package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunTestPattern(t *testing.T) {
	events := strings.Join([]string{
		`{"eventName":"ConsoleLogin","latency":50}`,
		`{"eventName":"GetObject","latency":7}`,
		`not json ERROR`,
		`{"eventName":"ConsoleLogin","latency":"n/a"}`,
	}, "\n") + "\n"
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    string
		wantErrSub string
	}{
		{
			name:    "json",
			args:    []string{"--filter-pattern", `{ $.eventName = "ConsoleLogin" }`},
			stdin:   events,
			wantOut: `{"matches":[{"eventNumber":1,"eventMessage":"{\"eventName\":\"ConsoleLogin\",\"latency\":50}","extractedValues":{}},{"eventNumber":4,"eventMessage":"{\"eventName\":\"ConsoleLogin\",\"latency\":\"n/a\"}","extractedValues":{}}]}` + "\n",
		},
		{
			name:    "metric value",
			args:    []string{"--filter-pattern", `{ $.latency = * }`, "--metric-value", "$.latency"},
			stdin:   events,
			wantOut: `{"matches":[{"eventNumber":1,"eventMessage":"{\"eventName\":\"ConsoleLogin\",\"latency\":50}","extractedValues":{},"value":"50"},{"eventNumber":2,"eventMessage":"{\"eventName\":\"GetObject\",\"latency\":7}","extractedValues":{},"value":"7"},{"eventNumber":4,"eventMessage":"{\"eventName\":\"ConsoleLogin\",\"latency\":\"n/a\"}","extractedValues":{}}]}` + "\n",
		},
		{
			name:    "constant value",
			args:    []string{"--filter-pattern", `ERROR`, "--metric-value", "1"},
			stdin:   events,
			wantOut: `{"matches":[{"eventNumber":3,"eventMessage":"not json ERROR","extractedValues":{},"value":"1"}]}` + "\n",
		},
		{
			name:    "delimited",
			args:    []string{"--filter-pattern", `[ip, user, status = 4*, bytes]`, "--metric-value", "$bytes"},
			stdin:   "1.2.3.4 bob 404 10\n1.2.3.4 bob 200 10\n",
			wantOut: `{"matches":[{"eventNumber":1,"eventMessage":"1.2.3.4 bob 404 10","extractedValues":{"$bytes":"10","$ip":"1.2.3.4","$status":"404","$user":"bob"},"value":"10"}]}` + "\n",
		},
		{
			name:    "dash is stdin",
			args:    []string{"--filter-pattern", `ERROR`, "-"},
			stdin:   events,
			wantOut: `{"matches":[{"eventNumber":3,"eventMessage":"not json ERROR","extractedValues":{}}]}` + "\n",
		},
		{
			name:    "no matches",
			args:    []string{"--filter-pattern", `NOTHING`},
			stdin:   events,
			wantOut: `{"matches":[]}` + "\n",
		},
		{
			name:       "invalid pattern",
			args:       []string{"--filter-pattern", `?Status: timeout`},
			wantCode:   2,
			wantErrSub: "InvalidParameterException: Invalid character(s) in term ':' (at offset 7: characters other than letters, digits and _ must be quoted)\n",
		},
		{
			name:       "invalid json pattern",
			args:       []string{"--filter-pattern", `{ $.a = `},
			wantCode:   2,
			wantErrSub: "InvalidParameterException: Invalid metric filter pattern (at offset 8: expected a value after =)\n",
		},
		{
			name:       "invalid metric value",
			args:       []string{"--filter-pattern", `ERROR`, "--metric-value", "$.x"},
			wantCode:   2,
			wantErrSub: "InvalidParameterException: Invalid metric transformation",
		},
		{
			name:       "missing pattern",
			args:       nil,
			wantCode:   2,
			wantErrSub: "--filter-pattern is required",
		},
		{
			name:       "unknown flag",
			args:       []string{"--nope"},
			wantCode:   2,
			wantErrSub: "flag provided but not defined",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runTestPattern(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errb.String())
			}
			if tt.wantOut != "" && out.String() != tt.wantOut {
				t.Errorf("stdout:\n got %s\nwant %s", out.String(), tt.wantOut)
			}
			if tt.wantErrSub != "" && !strings.Contains(errb.String(), tt.wantErrSub) {
				t.Errorf("stderr %q does not contain %q", errb.String(), tt.wantErrSub)
			}
			if tt.wantCode == 2 && out.Len() != 0 {
				t.Errorf("stdout not empty on error: %q", out.String())
			}
		})
	}
}

func TestRunTestPatternFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	if err := os.WriteFile(path, []byte("a ERROR\r\nb\nc ERROR"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runTestPattern(context.Background(), []string{"--filter-pattern", "ERROR", path}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := `{"matches":[{"eventNumber":1,"eventMessage":"a ERROR","extractedValues":{}},{"eventNumber":3,"eventMessage":"c ERROR","extractedValues":{}}]}` + "\n"
	if out.String() != want {
		t.Errorf("got %s want %s", out.String(), want)
	}
	if code := runTestPattern(context.Background(), []string{"--filter-pattern", "ERROR", filepath.Join(t.TempDir(), "absent")}, strings.NewReader(""), &out, &errb); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
