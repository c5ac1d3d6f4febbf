package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFirehoseLimits checks the Firehose endpoint's configurable bounds: the request body, the
// body decompressed when the destination gzips it, and what the records decompress to in all;
// each is refused with 413 and a message that names the limit, and nothing is stored.
func TestFirehoseLimits(t *testing.T) {
	now := time.Date(2026, 11, 25, 20, 10, 0, 0, time.UTC)
	sink := &tallySink{}
	h := &FirehoseHandler{Sink: sink, AccessKey: "fh-key", Now: func() time.Time { return now },
		MaxBodyBytes: 64 << 10, MaxDecompressed: 1 << 20}
	// Three records of 512 KiB of blank lines each: 1.5 MiB decompressed, about 2 KB on the wire.
	blank := base64.StdEncoding.EncodeToString(gzipped(bytes.Repeat([]byte("\n"), 512<<10)))
	records := `{"requestId":"r1","timestamp":1,"records":[{"data":"` + blank + `"},{"data":"` + blank + `"},{"data":"` + blank + `"}]}`
	tests := []struct {
		name     string
		body     []byte
		encoding string
		status   int
		message  string
	}{
		{"records within the limit", []byte(firehoseBody("r0", []string{rootLogin(now, "e1")})), "", 200, ""},
		{"records over the request's limit", []byte(records), "", 413,
			"decode Firehose record 2: gunzip: decompressed size exceeds 1 MiB in total for the request"},
		{"body over the limit", []byte(`{"requestId":"r2","records":[]}` + strings.Repeat(" ", 64<<10)), "", 413,
			"request body of 65567 bytes exceeds the limit of 65536 bytes"},
		{"gzipped body over the limit", gzipped([]byte(`{"requestId":"r3","records":[]}` + strings.Repeat(" ", 64<<10))), "gzip", 413,
			"decompressed request body exceeds the limit of 65536 bytes"},
		{"gzipped body within the limit", gzipped([]byte(`{"requestId":"r4","records":[]}`)), "gzip", 200, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(tt.body))
		req.Header.Set("X-Amz-Firehose-Access-Key", "fh-key")
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var resp firehoseResponse
		json.Unmarshal(rec.Body.Bytes(), &resp)
		if rec.Code != tt.status || resp.ErrorMessage != tt.message {
			t.Errorf("%s: %d %q, want %d %q", tt.name, rec.Code, resp.ErrorMessage, tt.status, tt.message)
		}
	}
	if sink.records != 1 {
		t.Fatalf("%d records delivered, want 1", sink.records)
	}
}

// TestBodyTimeout checks that a body that stops arriving is answered 408 once BodyTimeout has
// passed, and the connection closed, instead of holding its slot until the client gives up.
func TestBodyTimeout(t *testing.T) {
	h := &EventBridgeHandler{Sink: &tallySink{}, HeaderName: "x-trailwatch-key", APIKey: "s3cret", BodyTimeout: 50 * time.Millisecond}
	srv := httptest.NewServer(h)
	defer srv.Close()
	status, body, closed := rawRequest(t, srv.URL, "POST / HTTP/1.1\r\nHost: trailwatch\r\nx-trailwatch-key: s3cret\r\nContent-Length: 1000\r\n", `{"detail":`)
	if want := `{"message":"request body did not arrive within 50ms"}`; status != http.StatusRequestTimeout || strings.TrimSpace(string(body)) != want || !closed {
		t.Fatalf("stalled body: %d %s, closed %v; want 408 %s", status, body, closed, want)
	}
}

func TestKeyOK(t *testing.T) {
	tests := []struct {
		got, want string
		ok        bool
	}{
		{"s3cret", "s3cret", true},
		{"s3creT", "s3cret", false},
		{"s3cre", "s3cret", false},
		{"s3cret!", "s3cret", false},
		{"", "", false}, // no key configured lets nobody in
	}
	for _, tt := range tests {
		if ok := keyOK(tt.got, tt.want); ok != tt.ok {
			t.Errorf("keyOK(%q, %q) = %v", tt.got, tt.want, ok)
		}
	}
}
