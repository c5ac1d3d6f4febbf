package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"

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
