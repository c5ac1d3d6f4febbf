package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
)

// Request body bounds. EventBridge events are at most 256 KB (1 MiB leaves room for arrays);
// Firehose HTTP endpoint buffers are at most 64 MiB of data, which base64 grows by a third.
const (
	maxEventBridgeBody = 1 << 20
	maxFirehoseBody    = 96 << 20
)

// How many request bodies a handler reads and decodes at once by default: what a handler holds in
// memory is about this many bodies (and, for Firehose, their decompressed records). EventBridge
// bodies are small; a Firehose request may be 96 MiB and decompress to 512 MiB, so two at a time.
const (
	defaultEventBridgeBodies = 16
	defaultFirehoseBodies    = 2
)

// How long a handler waits for a request's body by default, from when it starts reading it. Firehose
// gives an endpoint 3 minutes to answer ("HTTP endpoint delivery request and response
// specifications", Firehose developer guide), so its body must arrive well within that.
const (
	defaultEventBridgeBodyTimeout = 30 * time.Second
	defaultFirehoseBodyTimeout    = 2 * time.Minute
)

// defaultFirehoseDecompressed bounds what one Firehose request's records decompress to: a full
// 64 MiB buffer of gzipped CloudWatch Logs subscription payloads is about 420 MiB of CloudTrail
// JSON at CloudTrail's usual compression ratio of about 6.5.
const defaultFirehoseDecompressed = 512 << 20

// Deliverer is what the HTTP endpoints hand records to; *Sink implements it.
type Deliverer interface {
	Deliver(ctx context.Context, dest Destination, res cloudtrail.Result) (Stats, error)
}

// EventBridgeHandler accepts EventBridge API destination deliveries: a POST whose body is the
// event (or an array of events), authenticated by an API key connection, which EventBridge sends
// as a header of the connection's choosing. Responses: 200 {"stored":n,"duplicates":n} once the
// records are durable; 401 for a missing or wrong key; 400 for a body that is not a CloudTrail
// event (nothing is stored); 413 for a body over 1 MiB; 408 for a body that does not arrive in
// time; 405 for other methods; 503 when too many requests are being read at once and 500 when
// storage fails, both of which make EventBridge retry.
//
// The key is checked before a byte of the body is read, and a request refused before its body is
// read is answered at once and its connection closed, so that a client without the key cannot make
// the server read, buffer or wait for anything.
type EventBridgeHandler struct {
	Sink Deliverer
	Dest Destination
	// HeaderName and APIKey are the API key connection's header and value; both are required.
	HeaderName, APIKey string
	Logger             *slog.Logger
	// MaxBodyBytes bounds a request's body; 0 means 1 MiB.
	MaxBodyBytes int64
	// MaxConcurrentBodies bounds how many authenticated requests are read and processed at once;
	// past it a request is answered 503 without its body being read. 0 means 16.
	MaxConcurrentBodies int
	// BodyTimeout bounds how long a request's body may take to arrive; 0 means 30 seconds.
	BodyTimeout time.Duration

	gate bodyGate
}

type jsonError struct {
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// keyOK compares a presented key with the configured one in constant time. Their SHA-256 digests
// are compared, not the keys, since subtle.ConstantTimeCompare returns at once when the lengths
// differ, which would tell a client the key's length.
func keyOK(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return want != "" && subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// bodyGate bounds how many request bodies a handler reads and holds at once.
type bodyGate struct {
	once  sync.Once
	slots chan struct{}
}

// enter takes a slot, without waiting: false means n bodies are being read already.
func (g *bodyGate) enter(n int) bool {
	g.once.Do(func() { g.slots = make(chan struct{}, n) })
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g *bodyGate) leave() { <-g.slots }

// closeUnread marks a response sent without reading the request's body: the connection is closed
// after it, at once. Otherwise net/http would read (up to 256 KiB of) the unread body before
// sending the response, and still after it, waiting as long as the client keeps the body from
// arriving; an expired read deadline ends that wait without touching the response.
func closeUnread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

// readBody reads a request's body of at most limit bytes as it arrives, within timeout. A declared
// Content-Length over the limit is refused before anything is read, and the client's number is
// never used to size a buffer. Errors come with the status to answer.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration) ([]byte, int, error) {
	if r.ContentLength > limit {
		closeUnread(w)
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)
	}
	// A connection deadline is wall-clock time by nature, hence time.Now rather than an injected
	// clock. Response writers that are not connections (tests' recorders) do not support it.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	// Lifted once the body is in: past it, net/http's wait for the connection's next request would
	// take the deadline for a client gone and cancel the request's context mid-delivery.
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		closeUnread(w)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds the limit of %d bytes", limit)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, http.StatusRequestTimeout, fmt.Errorf("request body did not arrive within %v", timeout)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	return body, 0, nil
}

// ServeHTTP checks the key, decodes the event and answers only once its record is durably stored,
// so that EventBridge retries whatever trailwatch could not keep.
func (h *EventBridgeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		closeUnread(w)
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, jsonError{"use POST"})
		return
	}
	if !keyOK(r.Header.Get(h.HeaderName), h.APIKey) {
		closeUnread(w)
		writeJSON(w, http.StatusUnauthorized, jsonError{"missing or invalid API key"})
		return
	}
	if !h.gate.enter(orDefault(h.MaxConcurrentBodies, defaultEventBridgeBodies)) {
		closeUnread(w)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, jsonError{"too many requests are being read at once; retry"})
		return
	}
	defer h.gate.leave()
	body, status, err := readBody(w, r, orDefault(h.MaxBodyBytes, maxEventBridgeBody), orDefault(h.BodyTimeout, defaultEventBridgeBodyTimeout))
	if err != nil {
		writeJSON(w, status, jsonError{err.Error()})
		return
	}
	res, err := cloudtrail.DecodeEventBridge(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, jsonError{err.Error()})
		return
	}
	if len(res.Records) == 0 {
		writeJSON(w, http.StatusBadRequest, jsonError{"the event's detail is not a usable CloudTrail record (no eventTime, or too large)"})
		return
	}
	st, err := h.Sink.Deliver(r.Context(), h.Dest, res)
	if err != nil {
		if h.Logger != nil {
			h.Logger.Warn("EventBridge delivery failed", "err", err)
		}
		writeJSON(w, http.StatusInternalServerError, jsonError{"could not store the event"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"stored": st.Stored, "duplicates": st.Duplicates})
}

// FirehoseHandler implements Amazon Data Firehose's HTTP endpoint delivery protocol ("HTTP
// Endpoint Delivery Request and Response Specifications", Firehose developer guide): a POST with
// X-Amz-Firehose-Access-Key and X-Amz-Firehose-Request-Id headers and a JSON body
// {"requestId","timestamp","records":[{"data":base64}]}, answered with
// {"requestId","timestamp"} (200) or the same with "errorMessage" (4xx/5xx; Firehose retries).
// Records are CloudWatch Logs subscription payloads (gzipped) from a subscription filter on a
// CloudTrail log group, or CloudTrail records themselves.
//
// As with EventBridgeHandler, the access key is checked before the body is read, a request
// refused unread is answered at once and its connection closed, and bodies are bounded in size,
// number and time; a request whose records decompress to more than MaxDecompressed is refused
// with 413.
type FirehoseHandler struct {
	Sink      Deliverer
	Dest      Destination
	AccessKey string
	Now       func() time.Time
	Logger    *slog.Logger
	// MaxBodyBytes bounds a request's body, and the body once decompressed when the destination's
	// content encoding is GZIP; 0 means 96 MiB.
	MaxBodyBytes int64
	// MaxDecompressed bounds what all the records of one request decompress to; 0 means 512 MiB.
	MaxDecompressed int64
	// MaxConcurrentBodies bounds how many authenticated requests are read and processed at once;
	// past it a request is answered 503, which Firehose retries, without its body being read.
	// 0 means 2.
	MaxConcurrentBodies int
	// BodyTimeout bounds how long a request's body may take to arrive; 0 means 2 minutes.
	BodyTimeout time.Duration

	gate bodyGate
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

type firehoseResponse struct {
	RequestID    string `json:"requestId"`
	Timestamp    int64  `json:"timestamp"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// ServeHTTP checks the access key, decodes every record of the request and answers 200 only once
// all are durably stored; any other answer makes Firehose retry the whole request, which
// deduplication makes harmless.
func (h *FirehoseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	reqID := r.Header.Get("X-Amz-Firehose-Request-Id")
	reply := func(status int, msg string) {
		writeJSON(w, status, firehoseResponse{RequestID: reqID, Timestamp: now().UnixMilli(), ErrorMessage: msg})
	}
	if r.Method != http.MethodPost {
		closeUnread(w)
		w.Header().Set("Allow", "POST")
		reply(http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !keyOK(r.Header.Get("X-Amz-Firehose-Access-Key"), h.AccessKey) {
		closeUnread(w)
		reply(http.StatusUnauthorized, "missing or invalid access key")
		return
	}
	if !h.gate.enter(orDefault(h.MaxConcurrentBodies, defaultFirehoseBodies)) {
		closeUnread(w)
		w.Header().Set("Retry-After", "1")
		reply(http.StatusServiceUnavailable, "too many requests are being read at once; retry")
		return
	}
	defer h.gate.leave()
	limit := orDefault(h.MaxBodyBytes, maxFirehoseBody)
	body, status, err := readBody(w, r, limit, orDefault(h.BodyTimeout, defaultFirehoseBodyTimeout))
	if err != nil {
		reply(status, err.Error())
		return
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// The destination's "Content encoding: GZIP" setting compresses the whole request body.
		// Read without a size hint (gzip's trailer is the client's number) and never past limit.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(zr, limit+1))
		}
		switch {
		case err != nil:
			reply(http.StatusBadRequest, "request body is not valid gzip: "+err.Error())
			return
		case int64(len(body)) > limit:
			reply(http.StatusRequestEntityTooLarge, fmt.Sprintf("decompressed request body exceeds the limit of %d bytes", limit))
			return
		}
	}
	dec := cloudtrail.Decoder{MaxDecompressed: orDefault(h.MaxDecompressed, defaultFirehoseDecompressed)}
	id, res, err := dec.DecodeFirehose(body)
	if id != "" {
		reqID = id
	}
	if errors.Is(err, cloudtrail.ErrTooLarge) {
		reply(http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	if err != nil {
		reply(http.StatusBadRequest, err.Error())
		return
	}
	if _, err := h.Sink.Deliver(r.Context(), h.Dest, res); err != nil {
		if h.Logger != nil {
			h.Logger.Warn("Firehose delivery failed", "err", err, "requestId", reqID)
		}
		reply(http.StatusInternalServerError, "could not store the records")
		return
	}
	reply(http.StatusOK, "")
}
