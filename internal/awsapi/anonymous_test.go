package awsapi_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// TestAnonymousBodiesAreShared: a budget given in Config.Anonymous is the one the handler charges
// its unsigned forms to, so bodies read through it by the application's other unauthenticated
// routes (the receiver endpoints) and the API's unsigned requests together stay within 2 MiB.
func TestAnonymousBodiesAreShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := awsapi.NewAnonymousBodies()
		e := newSlotEnvWith(t, func(c *awsapi.Config) { c.Anonymous = a })
		const addr = "192.0.2.1:4000"
		pr, pw := io.Pipe()
		r := httptest.NewRequest(http.MethodPost, "/receivers/x", pr)
		r.RemoteAddr = addr
		r.ContentLength = 100 << 10
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = pw.Write(bytes.Repeat([]byte("a"), 10<<10)) })
		wg.Go(func() {
			if _, _, status, err := a.Read(httptest.NewRecorder(), r, 1<<20); err == nil || status != http.StatusBadRequest {
				t.Errorf("Read of a body cut short = %d %v, want 400", status, err)
			}
		})
		synctest.Wait()
		if use, _, client := awsapi.BudgetUse(e.h, true, addr); use < 10<<10 || client != use {
			t.Errorf("handler's anonymous budget holds %d bytes (client %d) while a shared read holds 10 KiB", use, client)
		}
		pw.CloseWithError(io.ErrUnexpectedEOF)
		wg.Wait()
		if use, _, _ := awsapi.BudgetUse(e.h, true, ""); use != 0 {
			t.Errorf("budget holds %d bytes after the read failed", use)
		}

		// A body past its limit is refused before it is read.
		r = httptest.NewRequest(http.MethodPost, "/receivers/x", bytes.NewReader(make([]byte, 2<<20)))
		if _, _, status, err := a.Read(httptest.NewRecorder(), r, 4<<20); err == nil || status != http.StatusRequestEntityTooLarge {
			t.Errorf("Read of 2 MiB = %d %v, want 413 (one client's share is 1 MiB)", status, err)
		}
	})
}

// TestAnonymousBodiesDeadline: over a real connection, a body read through AnonymousBodies (the
// receiver endpoints') that never arrives is answered 408 once its read deadline passes and its
// connection closed, and gives its bytes back, instead of holding both for the server's
// ReadTimeout.
func TestAnonymousBodiesDeadline(t *testing.T) {
	a := awsapi.NewAnonymousBodies()
	awsapi.SetAnonymousTimeout(a, 100*time.Millisecond)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, release, status, err := a.Read(w, r, 64<<10)
		if err != nil {
			http.Error(w, err.Error(), status)
			return
		}
		release()
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /receivers/x HTTP/1.1\r\nHost: "+addr+"\r\nContent-Length: 1000\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // far past the deadline, short of a hung test
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer while the body is withheld: %v", err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Errorf("withheld body = %d (close %v), want 408 and the connection closed", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("connection still open after 408: %v", err)
	}
}
