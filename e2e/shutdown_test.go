package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestGracefulShutdownFinishesInFlightRequests sends SIGTERM while a PutLogEvents request is half
// transmitted: the server must stop accepting but finish that request, acknowledge it, and have stored it.
//
// The client cannot see when the server has accepted its connection: if SIGTERM lands while the
// connection still waits in the kernel's accept queue, closing the listener resets it, and that request
// was never the server's to finish. Such an attempt must store nothing; the scenario is then tried again
// (up to five times) until a request really is in flight at SIGTERM.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	for attempt := 1; attempt <= 5; attempt++ {
		if gracefulShutdownAttempt(t) {
			return
		}
		t.Logf("attempt %d: SIGTERM came before the server accepted the connection; trying again", attempt)
	}
	t.Fatal("in five attempts, SIGTERM never found the request in flight")
}

// gracefulShutdownAttempt runs the scenario once and reports whether the request was in flight.
func gracefulShutdownAttempt(t *testing.T) bool {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s := startServer(t, dir)
	lc := logsClient(s)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	const n = 500
	events := make([]logEvent, n)
	for i := range events {
		events[i] = logEvent{Timestamp: time.Now().UnixMilli(), Message: fmt.Sprintf("event %d", i)}
	}
	body, _ := json.Marshal(map[string]any{"logGroupName": "g", "logStreamName": "s", "logEvents": events})
	sum := sha256.Sum256(body)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.URL+"/", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		req, hex.EncodeToString(sum[:]), "logs", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil { // returns once the transport has taken it
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	// The listener closes promptly; the half-sent request is still being served.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepts new connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A write error means the transport already gave up on a reset connection; done says so.
	pw.Write(body[half:])
	pw.Close()
	r := <-done
	if err := <-s.done; err != nil {
		t.Fatalf("server exit after SIGTERM: %v", err)
	}
	s2 := startServer(t, dir)
	defer s2.stop()
	got := storedEvents(t, ctx, logsClient(s2), "g")
	if r.err != nil { // reset or closed before the server took the connection (a server that drops
		// requests it did take fails all five attempts)
		if got != 0 {
			t.Fatalf("a request reset before the server accepted it left %d events stored", got)
		}
		return false
	}
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight PutLogEvents during shutdown: status %d, err %v, body %s", r.status, r.err, r.body)
	}
	if got != n {
		t.Fatalf("after a graceful shutdown %d events are stored, want %d", got, n)
	}
	return true
}
