package awsapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestStalledBodiesDoNotStarveSignedRequests is the regression test of the slot count that bodies
// read before verification used to take: from three addresses, a client that knows an access key
// ID (not its secret) opens 64 requests that send their headers and a few bytes of body and then
// stall. They must cost it the bytes it sent, not a share of a few slots: a correctly signed
// request from a fourth address is still served, and the stalled ones are not refused either
// (they cost almost nothing while they wait for their deadline).
func TestStalledBodiesDoNotStarveSignedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newSlotEnv(t)
		var held []heldRequest
		for i := range 64 {
			held = append(held, keyOnly(fmt.Sprintf("203.0.113.%d:%d", 1+i%3, 4000+i)))
		}
		var wg sync.WaitGroup
		statuses := make(chan int, len(held))
		e.serveHeld(held, &wg, statuses)
		for _, hr := range held {
			wg.Go(func() { _, _ = hr.pw.Write([]byte(`{"logG`)) })
		}
		synctest.Wait()
		time.Sleep(time.Second) // past the wait for a share of the bodies' memory
		synctest.Wait()
		if n := len(statuses); n != 0 {
			t.Errorf("%d of %d stalled requests answered before their bodies ended, want none", n, len(held))
		}

		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, signedCreateLogGroup(t, "198.51.100.7:5000", "legit"))
		if w.Code != http.StatusOK {
			t.Errorf("signed CreateLogGroup from a fourth address while 64 bodies stall = %d %s", w.Code, w.Body)
		}
		release(held)
		wg.Wait()
	})
}
