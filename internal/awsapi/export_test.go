package awsapi

import (
	"net/http"
	"time"
)

// BudgetUse reports the bytes of unverified bodies h holds now and at most since it was made, for
// the signed budget or, with anonymous, the budget of requests that cannot be verified; and the
// bytes the client of remoteAddr holds now. Tests check the byte budgets with it.
func BudgetUse(h http.Handler, anonymous bool, remoteAddr string) (inUse, peak, client int64) {
	b := h.(*handler).unverified
	if anonymous {
		b = h.(*handler).anonymous
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total, b.peak, b.held[clientKey(remoteAddr)]
}

// SetAnonymousTimeout shortens the fixed part of the read deadline of a's reads, so that tests
// over real connections need not wait 5 s.
func SetAnonymousTimeout(a *AnonymousBodies, d time.Duration) { a.timeout = d }
