package pattern

import (
	"errors"
	"strings"
	"testing"
)

// matchCase is one pattern tested against events: want lists, per event, whether it matches.
type matchCase struct {
	name    string
	pattern string
	events  []string
	want    []bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.pattern)
			if err != nil {
				t.Fatalf("Compile(%q): %v", c.pattern, err)
			}
			if len(c.events) != len(c.want) {
				t.Fatalf("bad case: %d events, %d wants", len(c.events), len(c.want))
			}
			// The canonical form must match exactly the same events.
			q, err := Compile(p.String())
			if err != nil {
				t.Fatalf("Compile(String() = %q): %v", p.String(), err)
			}
			for i, ev := range c.events {
				if got := p.Match([]byte(ev)); got != c.want[i] {
					t.Errorf("%s\n  pattern %q\n  event   %q\n  got %v, want %v", c.name, c.pattern, ev, got, c.want[i])
				}
				if got := q.Match([]byte(ev)); got != c.want[i] {
					t.Errorf("canonical %q on %q: got %v, want %v", p.String(), ev, got, c.want[i])
				}
			}
		})
	}
}

func TestTermPatterns(t *testing.T) {
	runMatchCases(t, []matchCase{
		// §3.3 substring, not word, matching (OLD-2021 examples 2 and 4; Radek-Pysny).
		{"substring", "ERROR", []string{"Exiting with ERRORCODE: -1", "ERRORNEOUS PROGRAM", "error", "no"}, []bool{true, true, false, false}},
		{"inside word", "Exception", []string{"java.lang.IllegalArgumentException", "exception"}, []bool{true, false}},
		// §3.2 case sensitivity.
		{"case sensitive", "Error", []string{"ERROR", "Error", "error"}, []bool{false, true, false}},
		// §3.3 AND of terms.
		{"and", "ERROR ARGUMENTS", []string{"ERROR with ARGUMENTS", "ERROR", "ARGUMENTS"}, []bool{true, false, false}},
		// §3.3 exclusion.
		{"exclusion", "ERROR -ARGUMENTS", []string{"ERROR", "ERROR ARGUMENTS", "INFO"}, []bool{true, false, false}},
		{"only exclusion", "-ERROR", []string{"INFO", "ERROR", ""}, []bool{true, false, true}},
		// §3.3 ? OR group.
		{"or", "?ERROR ?ARGUMENTS", []string{"ERROR", "ARGUMENTS", "INFO"}, []bool{true, true, false}},
		// §3.3 ? terms ignored when a plain term exists (DOC note).
		{"or ignored", "?ERROR ?ARGUMENTS REQUEST", []string{"REQUEST", "ERROR", "ERROR REQUEST"}, []bool{true, false, true}},
		{"or ignored by exclusion", "?ERROR -DEBUG", []string{"INFO", "ERROR DEBUG"}, []bool{true, false}},
		// §3.1 quoted phrases.
		{"phrase", `"INTERNAL SERVER ERROR"`, []string{"500 INTERNAL SERVER ERROR", "INTERNAL ERROR"}, []bool{true, false}},
		{"brackets phrase", `"[ERROR]"`, []string{"[ERROR] boom", "ERROR"}, []bool{true, false}},
		{"escaped quote", `"\"origin\":\"sls-agent\""`, []string{`{"origin":"sls-agent"}`, `origin sls-agent`}, []bool{true, false}},
		{"escaped backslash", `"\\\"level\\\":\\\"error\\\""`, []string{`{\"level\":\"error\"}`, `"level":"error"`}, []bool{true, false}},
		{"quoted or", `?"\"origin\":\"sls-agent\"" ?"REPORT RequestId: "`, []string{"REPORT RequestId: 1", "x"}, []bool{true, false}},
		{"quoted exclusion", `"Total amount" -"level=DEBUG"`, []string{"Total amount 5", "level=DEBUG Total amount 5"}, []bool{true, false}},
		// §2 match-all.
		{"empty", "", []string{"", "anything"}, []bool{true, true}},
		{"space", " ", []string{"", "anything"}, []bool{true, true}},
		{"quoted space", `" "`, []string{"", "x"}, []bool{true, true}},
		{"quoted empty", `""`, []string{"", "x"}, []bool{true, true}},
		// §6 regex terms.
		{"regex search", "%AUTHORIZED%", []string{"UNAUTHORIZED", "authorized"}, []bool{true, false}},
		{"regex class", "%[Ee]rror|[Ff]ail%", []string{"Error", "fail", "ERROR"}, []bool{true, true, false}},
		{"regex anchors", "%^starting|^initializing|^shutting down%", []string{"shutting down now", "now shutting down"}, []bool{true, false}},
		{"regex repeat", "%a{3,5}%", []string{"aa", "aaa", "aaaaaa"}, []bool{false, true, true}},
		{"regex omitted min", "%^xa{,2}y%", []string{"xy", "xaay", "xaaay"}, []bool{true, true, false}},
		{"regex hex paren", `%\x28[0-9]+\x29%`, []string{"(42)", "42"}, []bool{true, false}},
		{"regex dots", "%10.10.0.1%", []string{"10010,051", "10.10.0.1"}, []bool{true, true}},
		{"regex escapes", `%\d+\s\w%`, []string{"12 a", "12a"}, []bool{true, false}},
	})
}

func TestJSONPatterns(t *testing.T) {
	ev := `{"eventType":"UpdateTrail","sourceIPAddress":"123.123.123.123","arrayKey":["value","another value"],` +
		`"objectList":[{"name":"a","number":1},{"name":"b","number":2}],"SomeObject":null,"ThisFlag":true,` +
		`"latency":50,"someInt":123,"someFloat2":12.0,"someString":"111.111.111.111","emptyString":"",` +
		`"users":[1,2],"cluster.name":"c1","detail-type":"x","errorCode":"AccessDenied","esc":"a\"b\u0041"}`
	one := func(p string, want bool) matchCase {
		return matchCase{name: p, pattern: p, events: []string{ev}, want: []bool{want}}
	}
	runMatchCases(t, []matchCase{
		// DOC string examples.
		one(`{ $.eventType = "UpdateTrail" }`, true),
		one(`{ $.eventType = UpdateTrail }`, true),
		one(`{ $.eventType = "updatetrail" }`, false),
		one(`{ $.sourceIPAddress != 123.123.* }`, false),
		one(`{ $.sourceIPAddress = 123.123.* }`, true),
		one(`{ $.arrayKey[0] = "value" }`, true),
		one(`{ $.arrayKey[1] = "value" }`, false),
		one(`{ $.objectList[1].number = 2 }`, true),
		one(`{ $.objectList[1].number = 1 }`, false),
		one(`{ $.objectList[5].number = 1 }`, false),
		one(`{ $.SomeObject IS NULL }`, true),
		one(`{ $.eventType IS NULL }`, false),
		one(`{ $.Missing IS NULL }`, false),
		one(`{ $.SomeObject NOT EXISTS }`, false),
		one(`{ $.Missing NOT EXISTS }`, true),
		one(`{ $.objectList[9].x NOT EXISTS }`, true),
		one(`{ $.eventType.x NOT EXISTS }`, true),
		one(`{ $.ThisFlag IS TRUE }`, true),
		one(`{ $.ThisFlag IS FALSE }`, false),
		one(`{ $.latency IS TRUE }`, false),
		one(`{ $.['cluster.name'] = "c1" }`, true),
		one(`{ $.detail-type = "x" }`, true),
		one(`{ $.esc = "a\"bA" }`, true),
		// Numbers (§4.3).
		one(`{ $.latency > 10 }`, true),
		one(`{ $.latency >= 50 }`, true),
		one(`{ $.latency < 50 }`, false),
		one(`{ $.latency <= 5e1 }`, true),
		one(`{ $.latency = 50.0 }`, true),
		one(`{ $.someInt = 123.0 }`, true),
		one(`{ $.someFloat2 = 12 }`, true),
		one(`{ $.latency > 1e-3 }`, true),
		one(`{ $.latency < +1000 }`, true),
		// Quoted literal against a number compares text (§4.4).
		one(`{ $.someInt = "123" }`, true),
		one(`{ $.someInt != "123.0" }`, true),
		one(`{ $.someFloat2 != "12" }`, true),
		one(`{ $.someInt = "123.00" }`, false),
		one(`{ $.someInt = 1* }`, true),
		one(`{ $.someInt = *23 }`, true),
		one(`{ $.someInt != "1*3" }`, false),
		// Number literal against a non-numeric string (CFCHOU).
		one(`{ $.someString != 111 }`, true),
		one(`{ $.someString = 111 }`, false),
		one(`{ $.someString > 111 }`, false),
		one(`{ $.eventType >= 123 }`, false),
		// Wildcards in values and the non-backtracking quirk.
		one(`{ $.errorCode = "AccessDenied*" }`, true),
		one(`{ $.emptyString = "*" }`, true),
		one(`{ $.someString = "*111.111.111" }`, false),
		one(`{ $.someString = "*.111.111.111" }`, true),
		one(`{ $.someString != 111*111 }`, true),
		one(`{ $.someString = 111*111 }`, false),
		// Missing, object and array (§4.2 table).
		one(`{ $.Missing = "x" }`, false),
		one(`{ $.Missing != "x" }`, false),
		one(`{ $.Missing > 1 }`, false),
		one(`{ $.users = 1 }`, false),
		one(`{ $.users != 1 }`, false),
		one(`{ $.objectList = "*" }`, false),
		one(`{ $.objectList != "x" }`, false),
		one(`{ $.users NOT EXISTS }`, false),
		one(`{ $.eventType[0] = "x" }`, false),
		// Wildcard selectors.
		one(`{ $.arrayKey[*] = "another value" }`, true),
		one(`{ $.arrayKey[*] = %val.{2}% }`, true),
		one(`{ $.* = %^Update% }`, true),
		one(`{ $.objectList[*].name = "b" }`, true),
		one(`{ $.objectList[*].name = "c" }`, false),
		// Regex values (§6); a quoted %…% is not a regex.
		one(`{ $.eventType = %Trail% }`, true),
		one(`{ $.eventType = "%Trail%" }`, false),
		one(`{ $.eventType != %^Update% }`, false),
		// Precedence: && binds tighter than ||.
		one(`{ $.latency = 1 && $.someInt = 1 || $.eventType = UpdateTrail }`, true),
		one(`{ $.latency = 1 && ($.someInt = 1 || $.eventType = UpdateTrail) }`, false),
		one(`{ $.eventType = UpdateTrail || $.latency = 1 && $.someInt = 1 }`, true),
		one(`{($.eventType = "UpdateTrail") && (($.latency = 1) || ($.someInt = 123))}`, true),
		one(`{$.latency=50&&$.someInt=123}`, true),
		one(`{ $.someFloat2      <=     100.0 }`, true),
	})
}

func TestJSONNotJSON(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"plain text", `{ $.a NOT EXISTS }`, []string{"hello", `{"b":1}`, `{"b":1} trailing`, `{"b":`, `"str"`, `[1]`, ` {"b":1} `}, []bool{false, true, false, false, false, true, true}},
		{"top array", `{ $[0] = 1 }`, []string{`[1,2]`, `[2]`}, []bool{true, false}},
	})
}

func TestDelimitedPatterns(t *testing.T) {
	apache := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	runMatchCases(t, []matchCase{
		{"all fields", `[ip, user, username, timestamp, request, status_code, bytes]`, []string{apache, "a b"}, []bool{true, false}},
		{"status", `[ip, user, username, timestamp, request, status_code = 200, bytes]`, []string{apache}, []bool{true}},
		{"status wildcard", `[ip, user, username, timestamp, request, status_code = 4*, bytes]`, []string{apache}, []bool{false}},
		{"bytes numeric", `[ip, user, username, timestamp, request, status_code, bytes > 1000]`, []string{apache}, []bool{true}},
		{"bytes numeric false", `[ip, user, username, timestamp, request, status_code, bytes > 2000]`, []string{apache}, []bool{false}},
		{"ellipsis", `[..., status_code = 200, bytes]`, []string{apache}, []bool{true}},
		{"or in field", `[..., status_code = 404 || status_code = 200, bytes]`, []string{apache}, []bool{true}},
		{"and in field", `[..., status_code >= 200 && status_code < 300, bytes]`, []string{apache}, []bool{true}},
		{"regex field", `[ip, user, username, timestamp, request = %^GET /apache%, status_code, bytes]`, []string{apache}, []bool{true}},
		{"quoted wildcard", `[ip, user, username, timestamp, request = "*gif*", status_code, bytes]`, []string{apache}, []bool{true}},
		{"empty brackets", `[]`, []string{apache, ""}, []bool{true, true}},
		{"too few fields", `[a, b, c]`, []string{"x y"}, []bool{false}},
		{"lambda default", `[timestamp=*Z, request_id="*-*", event]`, []string{"2024-01-01T00:00:00.000Z\tabc-123\tINFO hello world", "2024 abc-123 x"}, []bool{true, false}},
	})
}

func TestExtractDelimited(t *testing.T) {
	// API-TMF examples.
	msg := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	tests := []struct {
		pattern string
		want    map[string]string
	}{
		{`[..., size]`, map[string]string{"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /apache_pb.gif HTTP/1.0", "$6": "200", "$size": "1534"}},
		{`[]`, map[string]string{"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /apache_pb.gif HTTP/1.0", "$6": "200", "$7": "1534"}},
		{`[ip, user, username, timestamp, request, status_code, bytes]`, map[string]string{"$ip": "127.0.0.1", "$user": "-", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700", "$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "200", "$bytes": "1534"}},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := p.Extract([]byte(msg))
		if !ok {
			t.Fatalf("%s: no match", tt.pattern)
		}
		if !equalMaps(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.pattern, got, tt.want)
		}
	}
	// API-TMF: the trailing comma creates an unnamed last field, extracted as $7.
	p, err := Compile(`[..., request=*.html*, status_code=4*,]`)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := p.Extract([]byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`))
	want := map[string]string{"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$7": "1534"}
	if !ok || !equalMaps(got, want) {
		t.Errorf("trailing comma: got %v %v, want %v", got, ok, want)
	}
	// Term and JSON patterns extract nothing.
	for _, pat := range []string{`ERROR`, `{ $.a = 1 }`, ``} {
		p, _ := Compile(pat)
		ev := `{"a":1} ERROR`
		if pat == `{ $.a = 1 }` {
			ev = `{"a":1}`
		}
		got, ok := p.Extract([]byte(ev))
		if !ok || got == nil || len(got) != 0 {
			t.Errorf("%q: got %v %v, want empty map", pat, got, ok)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		pattern string
		msg     string
	}{
		{`?Status: timeout`, `Invalid character(s) in term ':'`},
		{`a,b`, `Invalid character(s) in term ','`},
		{`C:\path`, `Invalid character(s) in term ':'`},
		{"\u201cquoted\u201d", `Invalid character(s) in term '?'`},
		{"%\\x28(x)%", `Invalid character(s) in term '('`},
		{"%something!%", `Invalid character(s) in term '!'`},
		{`request-id-123`, `Invalid character(s) in term '-'`},
		{` {$.ThisFlag IS TRUE} `, `Invalid metric filter pattern`},
		{`{ $."detail-type" = "x" }`, `Invalid character(s) in term '$."'`},
		{`{ $.someString > "someString" }`, `Invalid character(s) in term '"someString"'`},
		{`{ $.someString < "123" }`, `Invalid character(s) in term '"123"'`},
		{`{ $.a = "x", $.b = "y" }`, `Invalid character(s) in term ','`},
		{`{ $.a = 'Root' }`, `Invalid character(s) in term '''`},
		{`{ status = "401" }`, `Invalid metric filter pattern`},
		{`{ $.a IS NOT NULL }`, `Invalid metric filter pattern`},
		{`{ $.a EXISTS }`, `Invalid metric filter pattern`},
		{`{ $.a = 1`, `Invalid metric filter pattern`},
		{`{ ($.a = 1 }`, `Invalid metric filter pattern`},
		{`{}`, `Invalid metric filter pattern`},
		{`{ () }`, `Invalid metric filter pattern`},
		{`{ $.a = 1 } x`, `Invalid metric filter pattern`},
		{`{ $.a.*.b[*] = 1 }`, `Invalid metric filter pattern`},
		{`{ $.a[*] = 1 && $.b[*] = 1 && $.c[*] = 1 && $.d[*] = 1 }`, `Invalid metric filter pattern`},
		{`{ $.a = %x% || $.b = %y% || $.c = %z% }`, `Invalid metric filter pattern`},
		{`[..., status_code = 4* && bytes > 1000]`, `Invalid metric filter pattern`},
		{`[a, b`, `Invalid metric filter pattern`},
		{`"unterminated`, `Invalid metric filter pattern`},
		{`%unterminated`, `Invalid metric filter pattern`},
		{`ERROR %x%`, `Invalid metric filter pattern`},
		{strings.Repeat("a", 1025), "1 validation error detected: Value '" + strings.Repeat("a", 1025) + "' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.pattern)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%q) = %v, want *Error %q", tt.pattern, err, tt.msg)
			continue
		}
		if pe.ErrorCode() != "InvalidParameterException" || pe.ErrorMessage() != tt.msg {
			t.Errorf("Compile(%q): %s: %q, want %q (%v)", tt.pattern, pe.ErrorCode(), pe.ErrorMessage(), tt.msg, err)
		}
		if f := pe.ForFilterLogEvents(); pe.kind != kindLength && f.ErrorMessage() != "Invalid filter pattern" {
			t.Errorf("Compile(%q) on FilterLogEvents: %q", tt.pattern, f.ErrorMessage())
		}
	}
	if _, err := Compile(strings.Repeat("a", 1024)); err != nil {
		t.Errorf("1024 characters: %v", err)
	}
	if _, err := Compile(strings.Repeat("é", 1024)); err == nil {
		// é is not a term character, so this must fail on the character, not on the length.
		t.Errorf("1024 é: no error")
	} else if pe := err.(*Error); pe.kind == kindLength {
		t.Errorf("1024 characters rejected for length")
	}
}
