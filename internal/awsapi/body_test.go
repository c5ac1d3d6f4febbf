package awsapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// sendHeadOnly writes the request line and headers of a request that announces contentLength body
// bytes, sends none of them, and returns the response the server writes meanwhile. A server that
// waits for the body before answering makes it fail on the read deadline.
func sendHeadOnly(t *testing.T, addr string, method, path string, hdr http.Header, contentLength int64) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, addr, contentLength)
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// signedHead signs a JSON CreateLogGroup request for payloadHash with secret (declaring the hash
// when declare is set) and returns its headers.
func signedHead(t *testing.T, host, key, secret, payloadHash string, declare bool) http.Header {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+host+"/", nil)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	if declare {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req, payloadHash, "logs", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	return req.Header
}

// TestBodyNotReadBeforeAuthentication is the regression test of unauthenticated clients pinning
// memory: the body was allocated from Content-Length and read before the signature was checked. A
// request that cannot be authenticated is now answered from its headers, without its body.
func TestBodyNotReadBeforeAuthentication(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	const announced = 9 << 20 // under the 10 MiB limit: only authentication can refuse it early
	payload := sha256Hex(`{"logGroupName":"x"}`)
	jsonHead := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"Logs_20140328.CreateLogGroup"}}
	tests := []struct {
		name   string
		hdr    http.Header
		length int64
		status int
		code   string
	}{
		{"no signature", jsonHead, announced, 400, "MissingAuthenticationTokenException"},
		{"unsigned awsQuery", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, announced, 403, "MissingAuthenticationToken"},
		{"unknown key", signedHead(t, addr, "AKIDUNKNOWN", testSecret, payload, false), announced, 400, "UnrecognizedClientException"},
		{"wrong secret, payload hash declared", signedHead(t, addr, testAccessKey, "wrong", payload, true), announced, 400, "InvalidSignatureException"},
		{"UNSIGNED-PAYLOAD declared", signedHead(t, addr, testAccessKey, testSecret, "UNSIGNED-PAYLOAD", true), announced, 400, "InvalidSignatureException"},
		{"announced length past the limit", jsonHead, 1 << 40, 413, "RequestEntityTooLargeException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := sendHeadOnly(t, addr, http.MethodPost, "/", tt.hdr, tt.length)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !bytes.Contains(body, []byte(tt.code)) {
				t.Errorf("answer = %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}

	// A request whose declared payload hash verifies has its body read, and checked against the
	// hash as it streams.
	good := `{"logGroupName":"declared"}`
	r := e.do(t, rawReq{service: "logs", body: []byte(good), headers: map[string]string{"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "Logs_20140328.CreateLogGroup", "X-Amz-Content-Sha256": sha256Hex(good)}})
	if _, ok := e.logs.groups["declared"]; r.status != 200 || !ok {
		t.Errorf("declared payload hash = %d %s", r.status, r.body)
	}
}

// TestUnverifiedBodyLimit checks the budget of bodies read before their signature can be checked
// (clients that sign the payload without declaring its hash): once it is spent, a request is
// answered 503 after a short wait instead of queueing, and the budget is given back as bodies end.
func TestUnverifiedBodyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &toyLogs{groups: map[string]int64{}}
		const budget = 8 << 10
		h, err := awsapi.NewHandler(awsapi.Config{
			Services:           []*awsapi.Service{l.service()},
			Credentials:        staticCreds{testAccessKey: {testSecret, testAccount}},
			Now:                func() time.Time { return fixedNow },
			MaxUnverifiedBytes: budget,
			// Every request here comes from httptest's one address.
			MaxUnverifiedBytesPerClient: budget,
		})
		if err != nil {
			t.Fatal(err)
		}
		// The slow bodies start with 3,000 bytes of white space: they are charged 4 KiB each
		// (chunks of 512, 512, 1,024 and 2,048 bytes, the last one waiting to be filled), which
		// together is the whole budget.
		pad := strings.Repeat(" ", 3000)
		type result struct {
			i      int
			status int
		}
		results := make(chan result, 8)
		start := func(i int, body string, r io.Reader) {
			req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", r)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
			req.ContentLength = int64(len(body))
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
				req, sha256Hex(body), "logs", "us-east-1", fixedNow); err != nil {
				t.Error(err)
			}
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				results <- result{i, w.Code}
			}()
		}
		group := func(i int) string { return fmt.Sprintf(`{"logGroupName":"g%d"}`, i) }
		var writers []*io.PipeWriter
		defer func() { // let the handlers end if the test fails early
			for _, pw := range writers {
				pw.CloseWithError(io.ErrUnexpectedEOF)
			}
		}()
		for i := range 2 {
			pr, pw := io.Pipe()
			writers = append(writers, pw)
			start(i, pad+group(i), pr)
			go func() { _, _ = io.WriteString(pw, pad) }()
		}
		synctest.Wait()
		if use, _, _ := awsapi.BudgetUse(h, false, ""); use != budget {
			t.Fatalf("two slow bodies of 3,000 bytes so far are charged %d bytes, want %d", use, budget)
		}
		// A third is refused within the short wait, not queued.
		begin := time.Now()
		start(2, group(2), strings.NewReader(group(2)))
		got := <-results
		if got.i != 2 || got.status != http.StatusServiceUnavailable {
			t.Fatalf("third request = %+v, want #2 answered 503", got)
		}
		if waited := time.Since(begin); waited > time.Second {
			t.Errorf("refused after %v", waited)
		}
		// The slow bodies end; their requests are served and the budget is free again.
		for i, pw := range writers {
			go func() {
				_, _ = io.WriteString(pw, group(i))
				pw.Close()
			}()
		}
		for range 2 {
			if got := <-results; got.status != 200 {
				t.Errorf("slow request %d = %d", got.i, got.status)
			}
		}
		if use, _, _ := awsapi.BudgetUse(h, false, ""); use != 0 {
			t.Errorf("budget holds %d bytes after the bodies were verified", use)
		}
		start(3, group(3), strings.NewReader(group(3)))
		if got := <-results; got.status != 200 {
			t.Errorf("request after the budget freed = %d", got.status)
		}
		if len(l.groups) != 3 {
			t.Errorf("groups = %v, want g0, g1 and g3", l.groups)
		}
	})
}

// gzipOf compresses n zero bytes.
func gzipOf(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, len(zero))
		if _, err := zw.Write(zero[:k]); err != nil {
			t.Fatal(err)
		}
		n -= k
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGzipBomb sends small gzip bodies that inflate far past the body limit, or whose trailer
// claims a huge size: the request is refused with a clear error, only after authentication, and
// decompression allocates about the limit, not what the sender announced.
func TestGzipBomb(t *testing.T) {
	const limit = 1 << 20
	l := &toyLogs{groups: map[string]int64{}}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:     []*awsapi.Service{l.service()},
		Credentials:  staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:          func() time.Time { return fixedNow },
		MaxBodyBytes: limit,
	})
	if err != nil {
		t.Fatal(err)
	}
	const inflated = 64 << 20
	bomb := gzipOf(t, inflated) // about 64 KiB on the wire
	if len(bomb) > limit {
		t.Fatalf("bomb of %d bytes is not small", len(bomb))
	}
	// A member whose trailer claims 4 GiB - 1 of output for a tiny payload.
	liar := gzipOf(t, 16)
	binary.LittleEndian.PutUint32(liar[len(liar)-4:], 0xffffffff)

	serve := func(body []byte, sign bool) (*httptest.ResponseRecorder, uint64) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
		req.Header.Set("Content-Encoding", "gzip")
		if sign {
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
				req, sha256Hex(string(body)), "logs", "us-east-1", fixedNow); err != nil {
				t.Fatal(err)
			}
		}
		w := httptest.NewRecorder()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h.ServeHTTP(w, req)
		runtime.ReadMemStats(&after)
		return w, after.TotalAlloc - before.TotalAlloc
	}

	w, allocated := serve(bomb, true)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "RequestEntityTooLargeException") ||
		!strings.Contains(w.Body.String(), fmt.Sprintf("decompresses to more than %d bytes", limit)) {
		t.Errorf("signed bomb = %d %s", w.Code, w.Body)
	}
	// A few times the limit (buffer doubling, the race detector's overhead), far from what the
	// bomb inflates to.
	t.Logf("signed bomb: %d bytes allocated", allocated)
	if allocated > 16*limit {
		t.Errorf("signed bomb allocated %d bytes for a %d-byte limit (it inflates to %d)", allocated, limit, inflated)
	}

	w, allocated = serve(liar, true)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "SerializationException") {
		t.Errorf("lying trailer = %d %s", w.Code, w.Body)
	}
	if allocated > 16*limit {
		t.Errorf("lying trailer allocated %d bytes", allocated)
	}

	// Unsigned, the bomb is refused for its missing signature: nothing is inflated before
	// authentication.
	w, allocated = serve(bomb, false)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "MissingAuthenticationTokenException") {
		t.Errorf("unsigned bomb = %d %s", w.Code, w.Body)
	}
	if allocated > limit {
		t.Errorf("unsigned bomb allocated %d bytes", allocated)
	}
	if len(l.groups) != 0 {
		t.Errorf("groups = %v", l.groups)
	}
}
