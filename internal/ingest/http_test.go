package ingest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
)

// tallySink is a Deliverer that keeps count of what it was handed.
type tallySink struct {
	mu      sync.Mutex
	records int
}

func (s *tallySink) Deliver(_ context.Context, _ Destination, res cloudtrail.Result) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records += len(res.Records)
	return Stats{Stored: len(res.Records)}, nil
}

// endpoint is one ingest handler with the header that authenticates to it.
type endpoint struct {
	name      string
	h         http.Handler
	keyHeader string
	key       string
	limit     int64 // its body limit
	body      string
}

func endpoints(sink Deliverer) []endpoint {
	now := time.Date(2026, 11, 25, 20, 10, 0, 0, time.UTC)
	return []endpoint{
		{"eventbridge", &EventBridgeHandler{Sink: sink, HeaderName: "x-trailwatch-key", APIKey: "s3cret"}, "x-trailwatch-key", "s3cret",
			maxEventBridgeBody, eventBridgeEvent(rootLogin(now, "e1"))},
		{"firehose", &FirehoseHandler{Sink: sink, AccessKey: "fh-key", Now: func() time.Time { return now }}, "X-Amz-Firehose-Access-Key", "fh-key",
			maxFirehoseBody, firehoseBody("req-1", []string{rootLogin(now, "e1")})},
	}
}

// trapBody is a request body that records whether anything read it.
type trapBody struct{ reads int }

func (b *trapBody) Read([]byte) (int, error) { b.reads++; return 0, io.ErrUnexpectedEOF }
func (b *trapBody) Close() error             { return nil }

// rawRequest sends a request's head and the start of its body on a fresh connection, never the
// rest, and returns the response, which must come within 5 seconds. It then checks that the server
// closes the connection rather than waiting for the rest of the body.
func rawRequest(t *testing.T, url, head, bodyStart string) (status int, body []byte, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head+"\r\n"+bodyStart); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no response while the body is outstanding: %v", err)
	}
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}
	_, err = br.ReadByte()
	return resp.StatusCode, body, resp.Close && err == io.EOF
}

// TestUnauthenticatedBodyIsNeverRead is the regression test for the ingest endpoints waiting on an
// unauthenticated client's body: a request without the key is answered 401 at once, without a
// byte of its body read, however large its declared length and whether or not the body ever
// arrives; its connection is closed rather than drained.
func TestUnauthenticatedBodyIsNeverRead(t *testing.T) {
	sink := &tallySink{}
	for _, ep := range endpoints(sink) {
		for _, key := range []string{"", "wrong"} {
			body := &trapBody{}
			req := httptest.NewRequest("POST", "/", body)
			req.ContentLength = 1 << 30
			if key != "" {
				req.Header.Set(ep.keyHeader, key)
			}
			rec := httptest.NewRecorder()
			ep.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized || body.reads != 0 || rec.Header().Get("Connection") != "close" {
				t.Errorf("%s, key %q: status %d, %d body reads, Connection %q; want 401, none, close",
					ep.name, key, rec.Code, body.reads, rec.Header().Get("Connection"))
			}
		}
		srv := httptest.NewServer(ep.h)
		for _, framing := range []string{"Content-Length: 1073741824", "Content-Length: 1000", "Transfer-Encoding: chunked"} {
			bodyStart := `{"requestId":"`
			if strings.HasPrefix(framing, "Transfer") {
				bodyStart = "10\r\n" + bodyStart
			}
			start := time.Now()
			status, _, closed := rawRequest(t, srv.URL, "POST / HTTP/1.1\r\nHost: trailwatch\r\n"+ep.keyHeader+": wrong\r\n"+framing+"\r\n", bodyStart)
			if status != http.StatusUnauthorized || !closed {
				t.Errorf("%s, %s: status %d, closed %v; want 401 and the connection closed", ep.name, framing, status, closed)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s, %s: answered after %v", ep.name, framing, d)
			}
		}
		srv.Close()
	}
	if sink.records != 0 {
		t.Fatalf("%d records delivered", sink.records)
	}
}

// TestDeclaredBodyOverLimitRefused is the regression test for reading a body the handler will
// refuse anyway: an authenticated request that declares more than the limit is answered 413 at
// once, with an error that says so, without waiting for its body.
func TestDeclaredBodyOverLimitRefused(t *testing.T) {
	sink := &tallySink{}
	for _, ep := range endpoints(sink) {
		srv := httptest.NewServer(ep.h)
		framing := fmt.Sprintf("Content-Length: %d", ep.limit+1)
		status, body, closed := rawRequest(t, srv.URL, "POST / HTTP/1.1\r\nHost: trailwatch\r\n"+ep.keyHeader+": "+ep.key+"\r\n"+framing+"\r\n", "{")
		var msg struct {
			Message      string `json:"message"`
			ErrorMessage string `json:"errorMessage"`
		}
		json.Unmarshal(body, &msg)
		want := fmt.Sprintf("request body of %d bytes exceeds the limit of %d bytes", ep.limit+1, ep.limit)
		if status != http.StatusRequestEntityTooLarge || msg.Message+msg.ErrorMessage != want || !closed {
			t.Errorf("%s: status %d, message %q, closed %v; want 413, %q and the connection closed", ep.name, status, msg.Message+msg.ErrorMessage, closed, want)
		}
		srv.Close()
	}
	// A body without a declared length is cut at the limit.
	ep := endpoints(sink)[0]
	req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(`{"detail":"`), strings.NewReader(strings.Repeat("x", maxEventBridgeBody))))
	req.ContentLength = -1
	req.Header.Set(ep.keyHeader, ep.key)
	rec := httptest.NewRecorder()
	ep.h.ServeHTTP(rec, req)
	if want := `{"message":"request body exceeds the limit of 1048576 bytes"}`; rec.Code != http.StatusRequestEntityTooLarge || strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("chunked body over the limit: %d %s, want 413 %s", rec.Code, rec.Body, want)
	}
	if sink.records != 0 {
		t.Fatalf("%d records delivered", sink.records)
	}
}

// blockingBody is a request body whose first Read reports that it started and then waits for
// release; it then ends the body.
type blockingBody struct {
	started chan<- struct{}
	release <-chan struct{}
	once    sync.Once
}

func (b *blockingBody) Read([]byte) (int, error) {
	b.once.Do(func() { b.started <- struct{}{} })
	<-b.release
	return 0, io.EOF
}
func (b *blockingBody) Close() error { return nil }

// TestConcurrentBodiesLimited is the regression test for unbounded concurrent body reads: while
// as many requests as the handler reads at once (16 for EventBridge, 2 for Firehose) are stuck
// sending their bodies, another authenticated request is answered 503, which both services retry,
// without its body being read; once they finish, requests are served again.
func TestConcurrentBodiesLimited(t *testing.T) {
	for i, ep := range endpoints(&tallySink{}) {
		slots := []int{16, 2}[i]
		started, release := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		for range slots {
			req := httptest.NewRequest("POST", "/", &blockingBody{started: started, release: release})
			req.Header.Set(ep.keyHeader, ep.key)
			wg.Go(func() { ep.h.ServeHTTP(httptest.NewRecorder(), req) })
			<-started
		}
		body := &trapBody{}
		req := httptest.NewRequest("POST", "/", body)
		req.Header.Set(ep.keyHeader, ep.key)
		rec := httptest.NewRecorder()
		ep.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || body.reads != 0 {
			t.Errorf("%s with %d bodies being read: %d %s (Retry-After %q, %d reads); want 503",
				ep.name, slots, rec.Code, rec.Body, rec.Header().Get("Retry-After"), body.reads)
		}
		close(release)
		wg.Wait()
		req = httptest.NewRequest("POST", "/", strings.NewReader(ep.body))
		req.Header.Set(ep.keyHeader, ep.key)
		rec = httptest.NewRecorder()
		ep.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s after the stuck bodies ended: %d %s", ep.name, rec.Code, rec.Body)
		}
	}
}
