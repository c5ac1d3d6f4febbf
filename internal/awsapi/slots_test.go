package awsapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// slotEnv is a handler over the toy services, served in-process (no connection), so that tests
// can choose each request's client address and hold its body open with a pipe.
type slotEnv struct {
	h http.Handler
}

func newSlotEnv(t *testing.T) *slotEnv {
	t.Helper()
	return newSlotEnvWith(t, nil)
}

// newSlotEnvWith is newSlotEnv with configure applied to its Config (the byte budgets).
func newSlotEnvWith(t *testing.T, configure func(*awsapi.Config)) *slotEnv {
	t.Helper()
	cfg := awsapi.Config{
		Services: []*awsapi.Service{
			(&toyMonitoring{alarms: map[string]putMetricAlarmInput{}}).service(),
			(&toyLogs{groups: map[string]int64{}}).service(),
			(&toySNS{topics: map[string]createTopicInput{}}).service(),
		},
		Credentials: staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:         func() time.Time { return fixedNow },
	}
	if configure != nil {
		configure(&cfg)
	}
	h, err := awsapi.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &slotEnv{h: h}
}

// signedCreateLogGroup is a correctly signed CreateLogGroup from addr, as aws-sdk-go-v2 sends it:
// the payload's hash is signed, not declared in X-Amz-Content-Sha256.
func signedCreateLogGroup(t *testing.T, addr, group string) *http.Request {
	t.Helper()
	body := []byte(`{"logGroupName":"` + group + `"}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", bytes.NewReader(body))
	r.RemoteAddr = addr
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		r, hex.EncodeToString(sum[:]), "logs", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	return r
}

// heldRequest is a request whose body, of a declared 1,000 bytes, does not arrive until released
// (or arrives in part: stream).
type heldRequest struct {
	r  *http.Request
	pw *io.PipeWriter
}

// anonymousForm is an awsQuery POST without Authorization: its form must be read to route it.
func anonymousForm(addr string) heldRequest {
	pr, pw := io.Pipe()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", pr)
	r.RemoteAddr = addr
	r.ContentLength = 1000
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return heldRequest{r, pw}
}

// keyOnly is a request from someone who knows the access key ID but not its secret: its
// signature can only be found wrong once its body has arrived.
func keyOnly(addr string) heldRequest {
	pr, pw := io.Pipe()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", pr)
	r.RemoteAddr = addr
	r.ContentLength = 1000
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	r.Header.Set("X-Amz-Date", fixedNow.Format("20060102T150405Z"))
	r.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/logs/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s", testAccessKey, fixedNow.Format("20060102"), strings.Repeat("0", 64)))
	return heldRequest{r, pw}
}

// serveHeld starts every request of held; statuses receives each one's status once answered.
func (e *slotEnv) serveHeld(held []heldRequest, wg *sync.WaitGroup, statuses chan<- int) {
	for _, hr := range held {
		wg.Go(func() {
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, hr.r)
			statuses <- w.Code
		})
	}
}

// serveStreaming starts n requests made by mk(i), each declaring contentLength and sending send
// bytes of its body before it stalls, serves them, and waits until those that found no budget have
// given up (the bubble's clock passes the wait for budget). It returns the requests, the group
// their writers and handlers run in, and the statuses of the requests already answered.
func (e *slotEnv) serveStreaming(n int, mk func(i int) heldRequest, contentLength int64, send int) ([]heldRequest, *sync.WaitGroup, chan int) {
	var held []heldRequest
	wg := new(sync.WaitGroup)
	for i := range n {
		hr := mk(i)
		hr.r.ContentLength = contentLength
		hr.stream(wg, send)
		held = append(held, hr)
	}
	statuses := make(chan int, len(held))
	e.serveHeld(held, wg, statuses)
	synctest.Wait()
	time.Sleep(time.Second)
	synctest.Wait()
	return held, wg, statuses
}

// stream sends n bytes of hr's body, then nothing more; the write ends when they are read or hr
// is released.
func (hr heldRequest) stream(wg *sync.WaitGroup, n int) {
	wg.Go(func() { _, _ = hr.pw.Write(bytes.Repeat([]byte("a"), n)) })
}

func release(held []heldRequest) {
	for _, hr := range held {
		hr.pw.CloseWithError(io.ErrUnexpectedEOF)
	}
}

// TestAnonymousFormsDoNotStarveSignedRequests: requests without any Authorization, from many
// addresses, that send most of a large form and then stall (more of them than their own budget
// holds) must not refuse a correctly signed SDK request, whose body must be read to be verified:
// they are charged to a budget of their own.
func TestAnonymousFormsDoNotStarveSignedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSlotEnvWith(t, func(c *awsapi.Config) {
			// As small as the anonymous budget: were they charged here, this would be spent.
			c.MaxUnverifiedBytes = 2 << 20
			c.MaxUnverifiedBytesPerClient = 2 << 20
		})
		// Those that found the budget spent give up.
		held, wg, statuses := e.serveStreaming(40, func(i int) heldRequest { return anonymousForm(fmt.Sprintf("192.0.2.%d:4000", i+1)) }, 64<<10, 60<<10)
		anonUse, anonPeak, _ := awsapi.BudgetUse(e.h, true, "")
		signedUse, _, _ := awsapi.BudgetUse(e.h, false, "")
		if anonPeak > 2<<20 || anonUse < 1<<20 || signedUse != 0 {
			t.Errorf("anonymous forms hold %d bytes (at most %d) of their budget and %d of signed requests', want 1-2 MiB and 0", anonUse, anonPeak, signedUse)
		}
		if len(statuses) == 0 {
			t.Errorf("all %d anonymous forms of 60 KiB fit a budget of 2 MiB", len(held))
		}

		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedCreateLogGroup(t, "198.51.100.7:5000", "legit"))
		if w.Code != http.StatusOK {
			t.Errorf("signed CreateLogGroup while anonymous bodies are held = %d %s", w.Code, w.Body)
		}
		release(held)
		wg.Wait()
		if use, _, _ := awsapi.BudgetUse(e.h, true, ""); use != 0 {
			t.Errorf("anonymous budget holds %d bytes after every request ended", use)
		}
	})
}

// TestOneClientCannotTakeEverySlot: a client that knows an access key ID but not its secret, from
// one address, opens many requests, sends part of each body and stalls. It holds at most its share
// of the budget (half), the requests past it are answered 503, and a signed request from another
// address is still served.
func TestOneClientCannotTakeEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 256 << 10
		e := newSlotEnvWith(t, func(c *awsapi.Config) { c.MaxUnverifiedBytes = budget })
		const client = "203.0.113.9:4000"
		held, wg, statuses := e.serveStreaming(30, func(int) heldRequest { return keyOnly(client) }, 1<<20, 16<<10)
		if got := len(statuses); got == 0 {
			t.Errorf("all %d requests of one client hold part of the budget", len(held))
		}
		for range len(statuses) {
			if s := <-statuses; s != http.StatusServiceUnavailable {
				t.Errorf("request over the per-client share = %d, want 503", s)
			}
		}
		if _, _, held := awsapi.BudgetUse(e.h, false, client); held > budget/2 || held < budget/4 {
			t.Errorf("one client holds %d bytes of a %d-byte budget, want at most half (and some)", held, budget)
		}

		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedCreateLogGroup(t, "198.51.100.7:5000", "legit"))
		if w.Code != http.StatusOK {
			t.Errorf("signed CreateLogGroup from another address = %d %s", w.Code, w.Body)
		}
		// The same holds for IPv6, per /64.
		w = httptest.NewRecorder()
		e.h.ServeHTTP(w, signedCreateLogGroup(t, "[2001:db8::1]:5000", "legit6"))
		if w.Code != http.StatusOK {
			t.Errorf("signed CreateLogGroup over IPv6 = %d %s", w.Code, w.Body)
		}
		release(held)
		wg.Wait()
	})
}

// TestUnverifiedBodyDeadline: over real connections, requests whose bodies never arrive (a key ID
// without its secret, and anonymous forms) are answered 408 RequestTimeout once their read deadline
// passes and their connections closed, instead of holding their connections (and the budget they
// were charged) for the server's ReadTimeout.
func TestUnverifiedBodyDeadline(t *testing.T) {
	e := &testEnv{
		mon:  &toyMonitoring{alarms: map[string]putMetricAlarmInput{}},
		logs: &toyLogs{groups: map[string]int64{}},
		sns:  &toySNS{topics: map[string]createTopicInput{}},
	}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:              []*awsapi.Service{e.mon.service(), e.logs.service(), e.sns.service()},
		Credentials:           staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:                   func() time.Time { return fixedNow },
		UnverifiedBodyTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = newServer(t, h)
	addr := strings.TrimPrefix(e.srv.URL, "http://")

	auth := fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/20251126/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s",
		testAccessKey, strings.Repeat("0", 64))
	signedHead := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Logs_20140328.CreateLogGroup\r\n"+
		"X-Amz-Date: 20251126T190000Z\r\nAuthorization: %s\r\nContent-Length: 100\r\n\r\n{", addr, auth)
	anonHead := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nAction=", addr)
	heads := []string{anonHead}
	for range 16 {
		heads = append(heads, signedHead)
	}
	var wg sync.WaitGroup
	for i, head := range heads {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, head); err != nil {
				t.Error(err)
				return
			}
			// Far past the deadline (100 ms plus 100 bytes at 256 KiB/s), short of a hung test.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("request %d: no answer while its body is withheld: %v", i, err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
				t.Errorf("request %d = %d (close %v) %s, want 408 and the connection closed", i, resp.StatusCode, resp.Close, b)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("request %d: connection still open after 408: %v", i, err)
			}
		})
	}
	wg.Wait()

	r := e.do(t, rawReq{service: "logs", body: []byte(`{"logGroupName":"legit"}`), headers: map[string]string{"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "Logs_20140328.CreateLogGroup"}})
	if r.status != http.StatusOK {
		t.Errorf("signed CreateLogGroup after the timeouts = %d %s", r.status, r.body)
	}
}

// TestUnverifiedDeadlineLiftedAfterBody: the read deadline of a body read before verification
// bounds the body only: an operation that takes longer than it is neither cut nor cancelled. (A
// guard rather than a regression test: net/http itself lifts the deadline when the body ends, so
// it passes without the handler's own lifting too.)
func TestUnverifiedDeadlineLiftedAfterBody(t *testing.T) {
	slow := &awsapi.Service{
		SigningName:    "logs",
		TargetPrefixes: []string{"Logs_20140328"},
		JSONVersion:    "1.1",
		Operations: map[string]awsapi.Operation{
			"CreateLogGroup": awsapi.Op(func(ctx context.Context, in *struct {
				LogGroupName string `json:"logGroupName"`
			}) (*struct{}, error) {
				select {
				case <-time.After(300 * time.Millisecond):
					return nil, nil
				case <-ctx.Done():
					return nil, &awsapi.Error{Code: "Cancelled", Message: context.Cause(ctx).Error(), Sender: true}
				}
			}),
		},
	}
	h, err := awsapi.NewHandler(awsapi.Config{
		Services:              []*awsapi.Service{slow},
		Credentials:           staticCreds{testAccessKey: {testSecret, testAccount}},
		Now:                   func() time.Time { return fixedNow },
		UnverifiedBodyTimeout: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{srv: newServer(t, h)}
	r := e.do(t, rawReq{service: "logs", body: []byte(`{"logGroupName":"slow"}`), headers: map[string]string{"Content-Type": "application/x-amz-json-1.1",
		"X-Amz-Target": "Logs_20140328.CreateLogGroup"}})
	if r.status != http.StatusOK {
		t.Errorf("operation slower than the body's read deadline = %d %s", r.status, r.body)
	}
}
