package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/trailwatch/trailwatch/internal/awsapi"
)

// TestUnverifiedBytesBounded: clients that stream real bytes of bodies they cannot sign (a key ID
// without its secret), from many addresses, are held to the budget: what is charged never exceeds
// it, the reads past it are answered 503, and every byte is given back when the requests end. A
// large honest body is then read and served within the same budget.
func TestUnverifiedBytesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 1 << 20
		e := newSlotEnvWith(t, func(c *awsapi.Config) { c.MaxUnverifiedBytes = budget })
		held, wg, statuses := e.serveStreaming(16, func(i int) heldRequest { return keyOnly(fmt.Sprintf("198.18.0.%d:4000", i+1)) }, 10<<20, 256<<10)

		inUse, peak, _ := awsapi.BudgetUse(e.h, false, "")
		t.Logf("16 clients streaming 256 KiB each: %d bytes charged, at most %d", inUse, peak)
		if peak > budget || inUse > budget {
			t.Errorf("charged %d bytes (at most %d), over the budget of %d", inUse, peak, budget)
		}
		if inUse < budget/2 {
			t.Errorf("charged %d bytes: the clients did not press on the budget of %d", inUse, budget)
		}
		if len(statuses) == 0 {
			t.Errorf("16 bodies of 256 KiB so far all fit a budget of %d bytes", budget)
		}
		for range len(statuses) {
			if s := <-statuses; s != http.StatusServiceUnavailable {
				t.Errorf("request past the budget = %d, want 503", s)
			}
		}
		release(held)
		wg.Wait()
		if inUse, _, _ := awsapi.BudgetUse(e.h, false, ""); inUse != 0 {
			t.Errorf("budget holds %d bytes after every request ended", inUse)
		}

		// A correctly signed body of 400 KiB, more than a third of the budget, is read and served.
		body := append(bytes.Repeat([]byte(" "), 400<<10), `{"logGroupName":"big"}`...)
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", bytes.NewReader(body))
		r.RemoteAddr = "198.51.100.7:5000"
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
			r, hex.EncodeToString(sum[:]), "logs", "us-east-1", fixedNow); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Errorf("signed body of 400 KiB = %d %s", w.Code, w.Body)
		}
		if inUse, peak, _ := awsapi.BudgetUse(e.h, false, ""); inUse != 0 || peak > budget {
			t.Errorf("after the signed body: %d bytes charged (at most %d)", inUse, peak)
		}
	})
}

// TestWaitingReadsDoNotRefuseEachOther is the regression test of the hold-and-wait deadlock of
// the byte budget: two reads each hold half of what they may hold together (one client's share,
// or the whole budget when they come from two addresses) and then both wait for more. Left to
// their timers, both were answered 503 at the same instant and the share stayed empty (the
// intermittent failures of TestOneClientCannotTakeEverySlot and TestUnverifiedBytesBounded). The
// newer read must give up at once, so that the older one goes on.
func TestWaitingReadsDoNotRefuseEachOther(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*awsapi.Config)
		addrB     string
	}{
		// One client's share of 4 KiB in a budget of 8 KiB.
		{"one client's share", func(c *awsapi.Config) { c.MaxUnverifiedBytes = 8 << 10 }, "203.0.113.9:4001"},
		// A budget of 4 KiB, each client's share all of it.
		{"the budget", func(c *awsapi.Config) { c.MaxUnverifiedBytes, c.MaxUnverifiedBytesPerClient = 4<<10, 4<<10 }, "203.0.113.10:4000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newSlotEnvWith(t, tc.configure)
				a, b := keyOnly("203.0.113.9:4000"), keyOnly(tc.addrB)
				a.r.ContentLength, b.r.ContentLength = 1<<20, 1<<20
				var wg sync.WaitGroup
				statuses := make(chan int, 2)
				send := func(hr heldRequest, n int) {
					wg.Go(func() { _, _ = hr.pw.Write(bytes.Repeat([]byte("a"), n)) })
					synctest.Wait()
				}
				// Chunks of 512, 512 and 1,024 bytes: 1 KiB read and 1 KiB reserved each, a
				// before b.
				e.serveHeld([]heldRequest{a}, &wg, statuses)
				send(a, 1<<10)
				e.serveHeld([]heldRequest{b}, &wg, statuses)
				send(b, 1<<10)
				// Both fill their third chunk and wait for a fourth of 2 KiB, which only the
				// other's bytes could make room for.
				send(a, 1<<10)
				send(b, 1<<10)
				if got := len(statuses); got != 1 {
					t.Errorf("%d reads answered once both wait for the other's bytes, want 1 at once", got)
				} else if s := <-statuses; s != http.StatusServiceUnavailable {
					t.Errorf("read that gave up = %d, want 503", s)
				}
				time.Sleep(time.Second) // past the wait for budget
				synctest.Wait()
				if got := len(statuses); got != 0 {
					t.Errorf("%d more reads answered after the wait for budget, want the older one still reading", got)
				}
				if _, _, held := awsapi.BudgetUse(e.h, false, "203.0.113.9:4000"); held != 4<<10 {
					t.Errorf("the older read holds %d bytes, want 4096 (2 KiB read, 2 KiB reserved)", held)
				}
				release([]heldRequest{a, b})
				wg.Wait()
				if use, _, _ := awsapi.BudgetUse(e.h, false, ""); use != 0 {
					t.Errorf("budget holds %d bytes after every request ended", use)
				}
			})
		})
	}
}
