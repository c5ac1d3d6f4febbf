package receiverapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
)

// TestEndpointBodiesAreBudgeted: the receiver endpoint needs no credentials and reads a body
// before its signature can be checked, so deliveries from many addresses that send 60 KiB of a
// body and then stall must not pin memory without bound. Their bytes are charged to the budget of
// unauthenticated bodies (2 MiB in all): the deliveries past it are answered 503 and never read,
// and a body declared larger than the endpoint takes is answered 413 without being read.
// (Before, each stalled delivery held what it had sent, up to 2 MiB apiece, for the server's
// 2-minute read timeout.)
func TestEndpointBodiesAreBudgeted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := receivertest.NewMemory()
		svc := receiver.NewService(st, nopOutbox{}, receivertest.Account, "https://tw.example", nil)
		h := &Endpoint{Service: svc, Verifier: &Verifier{OwnCertURL: "https://tw.example/own.pem", OwnKey: &testKey.PublicKey}}
		mux := http.NewServeMux()
		mux.Handle("POST /receivers/{name}", h)

		const n, sent = 40, 60 << 10
		var wg sync.WaitGroup
		var consumed atomic.Int64
		statuses := make(chan int, n)
		var writers []*io.PipeWriter
		for i := range n {
			pr, pw := io.Pipe()
			writers = append(writers, pw)
			req := httptest.NewRequest(http.MethodPost, "/receivers/hook", pr)
			req.RemoteAddr = fmt.Sprintf("192.0.2.%d:4000", i+1)
			req.ContentLength = 100 << 10
			wg.Go(func() {
				if _, err := pw.Write(bytes.Repeat([]byte(" "), sent)); err == nil {
					consumed.Add(sent)
				}
			})
			wg.Go(func() {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				statuses <- rec.Code
			})
		}
		synctest.Wait()
		time.Sleep(time.Second) // the bubble's clock: past the wait for budget
		synctest.Wait()
		if got := consumed.Load(); got > 2<<20 {
			t.Errorf("stalled unauthenticated deliveries hold %d bytes, want at most 2 MiB", got)
		}
		busy := 0
		for len(statuses) > 0 {
			if c := <-statuses; c == http.StatusServiceUnavailable {
				busy++
			} else {
				t.Errorf("stalled delivery answered %d, want 503 or still waiting", c)
			}
		}
		if busy == 0 {
			t.Errorf("all %d stalled deliveries of %d bytes were read, want those past 2 MiB answered 503", n, sent)
		}
		for _, pw := range writers {
			pw.CloseWithError(io.ErrUnexpectedEOF)
		}
		wg.Wait()

		// A body declared larger than the endpoint takes is refused before it is read.
		pr, pw := io.Pipe()
		defer pw.Close()
		req := httptest.NewRequest(http.MethodPost, "/receivers/hook", pr)
		req.ContentLength = MaxBody + 1
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("body of %d bytes declared: %d, want 413", req.ContentLength, rec.Code)
		}
	})
}
