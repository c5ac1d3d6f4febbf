package awsapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// AnonymousBodies is the budget of request bodies read before anything proves who sent them:
// the forms that route unsigned requests, the inputs of unsigned operations and, outside this
// package, the SNS deliveries to receiver endpoints, whose signature is inside the body. One
// budget is shared by all of them (Config.Anonymous and the application's other unauthenticated
// routes), so that unauthenticated clients together hold at most anonymousBytes (2 MiB), one
// client address at most half, however many routes they spread over; signed requests have a
// budget of their own that these never take.
type AnonymousBodies struct {
	budget *byteBudget
	// timeout and rate make a read's deadline (handler.unverifiedDeadline).
	timeout time.Duration
	rate    int64
}

// NewAnonymousBodies returns an empty budget of 2 MiB of unauthenticated bodies.
func NewAnonymousBodies() *AnonymousBodies {
	return &AnonymousBodies{budget: newByteBudget(anonymousBytes, 0), timeout: defaultUnverifiedTimeout, rate: defaultUnverifiedRate}
}

// MaxAnonymousBody is the largest body Read can take: the share of one client address, less the
// byte readCharged reserves to detect a body past its limit.
const MaxAnonymousBody = anonymousBytes/2 - 1

// Read reads r's body, of at most limit bytes (at most MaxAnonymousBody), before its sender is
// authenticated, as the API reads its own unverified bodies (readUnverified): its bytes are
// charged to the budget as they arrive, the read has a deadline of 5 s plus the body's size at
// 256 KiB/s, and a read that finds the budget spent is refused after a short wait. On success,
// release gives the bytes back; the caller runs it once it no longer holds the body. On failure
// status is the HTTP status to answer (413, 503, 408 or 400) and the connection is marked to be
// closed.
func (a *AnonymousBodies) Read(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), status int, err error) {
	limit = min(limit, MaxAnonymousBody)
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return nil, nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body is larger than %d bytes", limit)
	}
	h := &handler{maxBody: limit, bodyTimeout: a.timeout, bodyRate: a.rate}
	raw, _, giveBack, werr := h.readUnverified(&call{w: w, r: r}, a.budget, limit)
	if werr != nil {
		return nil, nil, werr.status, errors.New(werr.message)
	}
	return raw, giveBack, http.StatusOK, nil
}
