package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"
)

// DeliveryError is a failed attempt at a receiver's provider, classified by the provider's own
// rules (reference §A1): Permanent failures (a 400, Slack's "ok": false) are not retried and the
// message is kept as failed at once; the others are retried under the message's policy, not
// before RetryAfter when the provider asked for a pause.
type DeliveryError struct {
	// Status is the provider's HTTP status, 0 for a network error.
	Status int
	// Detail is the status and the provider's error text, for the delivery log.
	Detail     string
	Permanent  bool
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *DeliveryError) Error() string {
	if e.Err != nil && e.Detail == "" {
		return e.Err.Error()
	}
	return e.Detail
}

// Unwrap returns the underlying error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// MaxRetryAfter bounds how long a provider's Retry-After can postpone a retry.
const MaxRetryAfter = time.Hour

// retryAfterOf returns the pause a failed attempt asked for, and whether it must not be retried.
func retryAfterOf(err error) (after time.Duration, permanent bool) {
	var de *DeliveryError
	if errors.As(err, &de) {
		return min(de.RetryAfter, MaxRetryAfter), de.Permanent
	}
	return 0, false
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Response is a provider's answer to one request.
type Response struct {
	Status int
	Header http.Header
	// Body is the start of the response body (at most 64 KiB).
	Body []byte
}

// Post sends one JSON request with the receivers' client and reads the start of the answer.
// A network error is a retryable *DeliveryError.
func Post(ctx context.Context, client *http.Client, url string, headers map[string]string, body []byte) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Response{}, &DeliveryError{Detail: "build request: " + hideURL(err, url), Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "trailwatch")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, &DeliveryError{Detail: hideURL(err, url), Permanent: errors.Is(err, ErrForbiddenAddress), Err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// hideURL is the text of err without the secret URL it may quote. net/http's and net/url's
// errors (*url.Error) quote the URL as they re-serialise it, which is not always as it was given
// (a scheme in capitals comes out in lower case; after a redirect it is the redirect's target), so
// the quoted URL is dropped rather than searched for; the given one is removed from what remains.
func hideURL(err error, url string) string {
	s := err.Error()
	var ue *neturl.Error
	if errors.As(err, &ue) {
		s = ue.Op + " <receiver url>: " + ue.Err.Error()
	}
	return strings.ReplaceAll(s, url, "<receiver url>")
}

// Failure classifies a provider's non-success answer by the common rule: 429 and 5xx are retried
// (honouring Retry-After), other statuses are permanent. text is the provider's error text.
func Failure(r Response, text string, now time.Time) *DeliveryError {
	d := &DeliveryError{Status: r.Status, Detail: StatusText(r.Status, text)}
	if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
		d.RetryAfter = ParseRetryAfter(r.Header.Get("Retry-After"), now)
		return d
	}
	d.Permanent = true
	return d
}

// StatusText is the delivery-log text of an answer: "HTTP 400: invalid_payload".
func StatusText(status int, text string) string {
	s := "HTTP " + strconv.Itoa(status)
	if text = strings.TrimSpace(text); text != "" {
		if len(text) > 300 {
			text = text[:300] + "…"
		}
		s += ": " + strings.Join(strings.Fields(text), " ")
	}
	return s
}

// ErrorText extracts a short error text from a provider's body for the log.
func ErrorText(body []byte) string {
	return string(bytes.TrimSpace(body))
}

// MarshalJSON encodes a provider's request body without HTML escaping: <, > and & stay as they
// are (Slack's own entities stay readable), as every provider's JSON parser accepts.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
