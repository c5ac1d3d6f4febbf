package receiverapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
	"github.com/trailwatch/trailwatch/internal/sns"
)

type failingOutbox struct{}

func (failingOutbox) Enqueue(context.Context, string, string, []sns.Delivery) (string, error) {
	return "", errors.New("disk I/O error in /var/lib/trailwatch/trailwatch.db")
}

// TestEndpointHidesInternalErrors: the endpoint answers whoever calls it, unauthenticated, so a
// failure of trailwatch's own (here the outbox's) is answered 500, which SNS retries, without its
// text; the text goes to OnError, for the log.
func TestEndpointHidesInternalErrors(t *testing.T) {
	ctx := context.Background()
	svc := receiver.NewService(receivertest.NewMemory(), failingOutbox{}, receivertest.Account, "https://tw.example", nil)
	if _, err := svc.Put(ctx, receivertest.Account, receiver.Receiver{Name: "hook", Type: "webhook", URL: "https://h.example/", SendResolved: true}); err != nil {
		t.Fatal(err)
	}
	var logged []error
	v := &Verifier{OwnCertURL: "https://tw.example/own.pem", OwnKey: &testKey.PublicKey}
	h := &Endpoint{Service: svc, Verifier: v, OnError: func(_ string, err error) { logged = append(logged, err) }}
	mux := http.NewServeMux()
	mux.Handle("POST /receivers/{name}", h)
	body := signed(t, Envelope{Type: sns.TypeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hello", Timestamp: "t"}, testKey, v.OwnCertURL)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/receivers/hook", strings.NewReader(string(body))))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "trailwatch.db") {
		t.Errorf("internal failure answered %d %q, want 500 without its text", rec.Code, rec.Body)
	}
	if len(logged) != 1 || !strings.Contains(logged[0].Error(), "trailwatch.db") {
		t.Errorf("logged %v, want the failure", logged)
	}
}
