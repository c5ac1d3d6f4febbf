package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// sample is one record of ../shared/data/cloudtrail/samples.jsonl: its raw bytes as they appear in
// the file and the fields encoding/json reads from it.
type sample struct {
	raw       []byte
	eventID   string
	account   string
	region    string
	eventTime string
	usable    bool // has a readable eventTime
}

func loadSamples(t testing.TB) []sample {
	t.Helper()
	f, err := os.Open("../../../shared/data/cloudtrail/samples.jsonl")
	if err != nil {
		if os.Getenv("TRAILWATCH_E2E_REQUIRE") == "1" { // CI must run this test, not skip it
			t.Fatalf("sample corpus not available: %v", err)
		}
		t.Skipf("sample corpus not available: %v", err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		var fields struct {
			EventID            string `json:"eventID"`
			RecipientAccountID string `json:"recipientAccountId"`
			AWSRegion          string `json:"awsRegion"`
			EventTime          any    `json:"eventTime"`
		}
		if err := json.Unmarshal(line.Event, &fields); err != nil {
			t.Fatal(err)
		}
		s := sample{raw: bytes.Clone(line.Event), eventID: fields.EventID, account: fields.RecipientAccountID, region: fields.AWSRegion}
		if ts, ok := fields.EventTime.(string); ok {
			s.eventTime = ts
			_, s.usable = parseTime(ts)
		}
		out = append(out, s)
	}
	if len(out) != 400 {
		t.Fatalf("read %d samples, want 400", len(out))
	}
	return out
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func join(samples []sample, sep string) []byte {
	parts := make([][]byte, len(samples))
	for i, s := range samples {
		parts[i] = s.raw
	}
	return bytes.Join(parts, []byte(sep))
}

// envelopes wraps every sample in each shape trailwatch accepts and returns the decoded result.
func envelopes(t *testing.T, samples []sample) map[string]Result {
	t.Helper()
	out := map[string]Result{}
	must := func(name string, r Result, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = r
	}
	file := append(append([]byte(`{"Records":[`), join(samples, ",")...), "]}"...)
	r, err := DecodeObject("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T2010Z_x.json.gz", gz(t, file))
	must("s3 gzip", r, err)
	r, err = DecodeObject("plain.json", file)
	must("s3 plain", r, err)
	pretty := append(append([]byte("{\n  \"Records\" : [\n    "), join(samples, ",\n    ")...), "\n  ]\n}\n"...)
	r, err = DecodeObject("pretty.json", pretty)
	must("s3 pretty", r, err)
	r, err = DecodeObject("array.json", append(append([]byte("["), join(samples, ",")...), ']'))
	must("array", r, err)
	r, err = DecodeObject("lines.jsonl", append(join(samples, "\n"), '\n'))
	must("ndjson", r, err)
	r, err = DecodeObject("lines.jsonl.gz", gz(t, join(samples, "\r\n")))
	must("ndjson gzip crlf", r, err)

	var eb Result
	for _, s := range samples {
		body := fmt.Appendf(nil, `{"version":"0","id":"6f0b8e1e","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"111122223333","time":"2026-11-25T20:10:04Z","region":"us-east-1","resources":[],"detail":%s}`, s.raw)
		r, err := DecodeEventBridge(body)
		if err != nil {
			t.Fatalf("eventbridge: %v", err)
		}
		eb.Records = append(eb.Records, r.Records...)
		eb.Skipped += r.Skipped
	}
	out["eventbridge"] = eb

	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	var evs []logEvent
	for i, s := range samples {
		evs = append(evs, logEvent{ID: fmt.Sprint(i), Timestamp: 1764100000000, Message: string(s.raw)})
	}
	payload, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "CloudTrail/logs",
		"logStream": "111122223333_CloudTrail_us-east-1", "subscriptionFilters": []string{"f"}, "logEvents": evs})
	r, err = DecodeSubscription(gz(t, payload))
	must("subscription", r, err)

	// Firehose: split the subscription payload into three records of a delivery request.
	var recs []map[string]string
	for i := 0; i < len(evs); i += 150 {
		p, _ := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "g", "logStream": "s", "logEvents": evs[i:min(i+150, len(evs))]})
		recs = append(recs, map[string]string{"data": base64.StdEncoding.EncodeToString(gz(t, p))})
	}
	body, _ := json.Marshal(map[string]any{"requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f", "timestamp": 1578090901599, "records": recs})
	id, r, err := DecodeFirehose(body)
	if id != "ed4acda5-034f-9f42-bba1-f29aea6d7d8f" {
		t.Fatalf("firehose request id %q", id)
	}
	must("firehose", r, err)
	return out
}

// TestDecodeSamplesEveryEnvelope decodes the 400 sample records in every envelope and checks that
// each usable record comes out with its exact bytes and fields, in order, and each record without
// an eventTime is skipped.
func TestDecodeSamplesEveryEnvelope(t *testing.T) {
	samples := loadSamples(t)
	var usable []sample
	for _, s := range samples {
		if s.usable {
			usable = append(usable, s)
		}
	}
	if len(usable) < 380 {
		t.Fatalf("only %d usable samples", len(usable))
	}
	for name, res := range envelopes(t, samples) {
		t.Run(name, func(t *testing.T) {
			if res.Skipped != len(samples)-len(usable) || len(res.Records) != len(usable) {
				t.Fatalf("got %d records, %d skipped; want %d, %d", len(res.Records), res.Skipped, len(usable), len(samples)-len(usable))
			}
			for i, r := range res.Records {
				s := usable[i]
				if !bytes.Equal(r.Raw, s.raw) {
					t.Fatalf("record %d: raw bytes differ:\n got %s\nwant %s", i, r.Raw, s.raw)
				}
				if r.EventID != s.eventID {
					t.Errorf("record %d: eventID %q, want %q", i, r.EventID, s.eventID)
				}
				wantAcct, wantRegion := s.account, s.region
				if name == "s3 gzip" || name == "eventbridge" {
					// The envelope names the account and region of records that lack them.
					if wantAcct == "" {
						wantAcct = "111122223333"
					}
					if wantRegion == "" {
						wantRegion = "us-east-1"
					}
				}
				if r.AccountID != wantAcct || r.Region != wantRegion {
					t.Errorf("record %d: account/region %q/%q, want %q/%q", i, r.AccountID, r.Region, wantAcct, wantRegion)
				}
				want, _ := parseTime(s.eventTime)
				if !r.Time.Equal(want) || r.Time.IsZero() {
					t.Errorf("record %d: time %v, want %v (%q)", i, r.Time, want, s.eventTime)
				}
			}
		})
	}
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name, in      string
		wantErr       bool
		id, acct, reg string
		ms            int64
		stream, key   string
	}{
		{"plain", `{"eventTime":"2026-11-25T20:10:04Z","eventID":"e1","recipientAccountId":"111122223333","awsRegion":"eu-west-1"}`, false, "e1", "111122223333", "eu-west-1", 1795637404000, "111122223333_CloudTrail_eu-west-1", "111122223333/e1"},
		{"fraction and nested", `{"userIdentity":{"eventID":"nested","x":[1,{"a":"}"}]},"eventTime":"2026-11-25T20:10:04.250Z","eventID":"e2","awsRegion":"us-east-1","recipientAccountId":"1"}`, false, "e2", "1", "us-east-1", 1795637404250, "1_CloudTrail_us-east-1", "1/e2"},
		{"escaped value", `{"eventTime":"2026-11-25T20:10:04Z","eventID":"a\"b","recipientAccountId":"1","awsRegion":"r"}`, false, `a"b`, "1", "r", 1795637404000, "1_CloudTrail_r", `1/a"b`},
		{"space layout", `{"eventTime":"2020-11-05 21:21:46Z"}`, false, "", "", "", 1604611306000, "_CloudTrail_", ""},
		{"no eventTime", `{"eventID":"x"}`, true, "", "", "", 0, "", ""},
		{"eventTime not a string", `{"eventTime":12}`, true, "", "", "", 0, "", ""},
		{"bad eventTime", `{"eventTime":"yesterday"}`, true, "", "", "", 0, "", ""},
		{"array", `[1]`, true, "", "", "", 0, "", ""},
		{"truncated", `{"eventTime":"2026-11-25T20:10:04Z"`, true, "", "", "", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRecord([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.EventID != tt.id || r.AccountID != tt.acct || r.Region != tt.reg || r.TimestampMillis() != tt.ms || r.StreamName() != tt.stream || r.DedupKey() != tt.key {
				t.Fatalf("got %+v (%d, %s, %s)", r, r.TimestampMillis(), r.StreamName(), r.DedupKey())
			}
		})
	}
}

func TestNotRecords(t *testing.T) {
	digest := `{"awsAccountId":"111122223333","digestStartTime":"2026-11-25T19:00:00Z","digestEndTime":"2026-11-25T20:00:00Z","logFiles":[]}`
	tests := []struct{ key, body string }{
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/25/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261125T200000Z.json.gz", `{"Records":[]}`},
		{"digest.json", digest},
		{"AWSLogs/111122223333/CloudTrail/us-east-1/x.json", `{"hello":"world"}`},
	}
	for _, tt := range tests {
		if _, err := DecodeObject(tt.key, []byte(tt.body)); !errors.Is(err, ErrNotRecords) {
			t.Errorf("%s: err %v, want ErrNotRecords", tt.key, err)
		}
	}
	if _, err := DecodeSubscription([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`)); !errors.Is(err, ErrNotRecords) {
		t.Errorf("control message: %v", err)
	}
	if _, err := DecodeEventBridge([]byte(`{"detail-type":"EC2 Instance State-change Notification","detail":{}}`)); !errors.Is(err, ErrNotCloudTrail) {
		t.Errorf("non-CloudTrail EventBridge event: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	k := ParseKey("prefix/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/25/111122223333_CloudTrail_eu-west-1_20261125T2010Z_a.json.gz")
	if k != (KeyInfo{AccountID: "111122223333", Region: "eu-west-1"}) {
		t.Fatalf("%+v", k)
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{`{"Records":[`, `{"Records":{}}`, `nope`, "\x1f\x8bgarbage"} {
		if _, err := DecodeObject("x", []byte(in)); err == nil || errors.Is(err, ErrNotRecords) {
			t.Errorf("DecodeObject(%q): err %v, want a decode error", in, err)
		}
	}
	for _, in := range []string{``, `{`, `{"detail-type":"AWS API Call via CloudTrail","detail":"x"}`} {
		if _, err := DecodeEventBridge([]byte(in)); err == nil {
			t.Errorf("DecodeEventBridge(%q): no error", in)
		}
	}
	for _, in := range []string{``, `{"records":[]}`, `{"requestId":"r","records":[{"data":"!!"}]}`} {
		if _, _, err := DecodeFirehose([]byte(in)); err == nil {
			t.Errorf("DecodeFirehose(%q): no error", in)
		}
	}
}

// checkResult holds for every decoder's output: each record is a JSON object that encoding/json
// reads the same fields from.
func checkResult(t *testing.T, res Result) {
	for _, r := range res.Records {
		var f struct {
			EventID            any `json:"eventID"`
			RecipientAccountID any `json:"recipientAccountId"`
		}
		if err := json.Unmarshal(r.Raw, &f); err != nil {
			t.Fatalf("record %q is not JSON: %v", r.Raw, err)
		}
		if s, ok := f.EventID.(string); ok && s != r.EventID {
			t.Fatalf("eventID %q, encoding/json reads %q in %s", r.EventID, s, r.Raw)
		}
		if r.Time.IsZero() || len(r.Raw) > MaxRecordBytes || !utf8.Valid(r.Raw) {
			t.Fatalf("bad record %+v", r)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"eventTime":"2026-11-25T20:10:04Z","eventID":"e1","recipientAccountId":"1","awsRegion":"r"}`))
	f.Add([]byte(`{"a":[{"b":"\"}"}],"eventTime":"2026-11-25 20:10:04Z","eventID":"\u0041"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("ParseRecord accepted %q, which is not valid UTF-8 JSON", b)
		}
		var f struct {
			EventTime string `json:"eventTime"`
			EventID   any    `json:"eventID"`
			Region    any    `json:"awsRegion"`
		}
		if json.Unmarshal(b, &f) != nil {
			// Duplicate keys or a non-string eventTime elsewhere; ParseRecord reads the last member.
			return
		}
		if s, ok := f.EventID.(string); ok && s != r.EventID && !strings.Contains(string(b), `\`) {
			t.Fatalf("eventID %q, encoding/json %q", r.EventID, s)
		}
		if want, ok := parseTime(f.EventTime); !ok || !want.Equal(r.Time) {
			if !bytes.Contains(b, []byte(`\`)) {
				t.Fatalf("time %v, encoding/json reads %q", r.Time, f.EventTime)
			}
		}
	})
}

func FuzzDecodeObject(f *testing.F) {
	f.Add("AWSLogs/1/CloudTrail/us-east-1/x.json", []byte(`{"Records":[{"eventTime":"2026-11-25T20:10:04Z","eventID":"e"}]}`))
	f.Add("x.jsonl", []byte("{\"eventTime\":\"2026-11-25T20:10:04Z\"}\n{\"eventTime\":\"2026-11-25T20:10:05Z\"}\n"))
	f.Add("x.json", []byte(`[{"eventTime":"2026-11-25T20:10:04Z"}]`))
	f.Add("x.json.gz", gz(f, []byte(`{"Records":[]}`)))
	f.Fuzz(func(t *testing.T, key string, b []byte) {
		res, err := DecodeObject(key, b)
		if err == nil {
			checkResult(t, res)
		}
	})
}

func FuzzDecodeEventBridge(f *testing.F) {
	f.Add([]byte(`{"detail-type":"AWS Console Sign In via CloudTrail","account":"1","region":"us-east-1","detail":{"eventTime":"2026-11-25T20:10:04Z"}}`))
	f.Add([]byte(`[{"detail-type":"AWS API Call via CloudTrail","detail":{"eventTime":"2026-11-25T20:10:04Z"}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := DecodeEventBridge(b)
		if err == nil {
			checkResult(t, res)
		}
	})
}

func FuzzDecodeSubscription(f *testing.F) {
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventTime\":\"2026-11-25T20:10:04Z\"}"}]}`))
	f.Add(gz(f, []byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := DecodeSubscription(b)
		if err == nil {
			checkResult(t, res)
		}
	})
}

func FuzzDecodeFirehose(f *testing.F) {
	inner := base64.StdEncoding.EncodeToString([]byte(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventTime\":\"2026-11-25T20:10:04Z\"}"}]}`))
	f.Add([]byte(`{"requestId":"r","timestamp":1,"records":[{"data":"` + inner + `"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, res, err := DecodeFirehose(b)
		if err == nil {
			checkResult(t, res)
		}
	})
}

func BenchmarkDecodeObject(b *testing.B) {
	samples := loadSamples(b)
	var usable []sample
	for _, s := range samples {
		if s.usable {
			usable = append(usable, s)
		}
	}
	file := gz(b, append(append([]byte(`{"Records":[`), join(usable, ",")...), "]}"...))
	b.SetBytes(int64(len(join(usable, ","))))
	b.ReportAllocs()
	for b.Loop() {
		res, err := DecodeObject("x.json.gz", file)
		if err != nil || len(res.Records) != len(usable) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(usable)*b.N)/b.Elapsed().Seconds(), "records/s")
}
