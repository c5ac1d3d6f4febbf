package awsapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"

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
