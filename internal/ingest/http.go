package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/internal/cloudtrail"
)

// Request body bounds. EventBridge events are at most 256 KB (1 MiB leaves room for arrays);
// Firehose HTTP endpoint buffers are at most 64 MiB of data, which base64 grows by a third.
const (
	maxEventBridgeBody = 1 << 20
	maxFirehoseBody    = 96 << 20
)

// Deliverer is what the HTTP endpoints hand records to; *Sink implements it.
type Deliverer interface {
	Deliver(ctx context.Context, dest Destination, res cloudtrail.Result) (Stats, error)
}

// EventBridgeHandler accepts EventBridge API destination deliveries: a POST whose body is the
// event (or an array of events), authenticated by an API key connection, which EventBridge sends
// as a header of the connection's choosing. Responses: 200 {"stored":n,"duplicates":n} once the
// records are durable; 401 for a missing or wrong key; 400 for a body that is not a CloudTrail
// event (nothing is stored); 413 for a body over 1 MiB; 405 for other methods; 500 when storage
// fails, which makes EventBridge retry.
type EventBridgeHandler struct {
	Sink Deliverer
	Dest Destination
	// HeaderName and APIKey are the API key connection's header and value; both are required.
	HeaderName, APIKey string
	Logger             *slog.Logger
}

type jsonError struct {
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// keyOK compares a presented key with the configured one in constant time.
func keyOK(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds %d bytes", limit)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	return body, 0, nil
}

// ServeHTTP checks the key, decodes the event and answers only once its record is durably stored,
// so that EventBridge retries whatever trailwatch could not keep.
func (h *EventBridgeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, jsonError{"use POST"})
		return
	}
	if !keyOK(r.Header.Get(h.HeaderName), h.APIKey) {
		writeJSON(w, http.StatusUnauthorized, jsonError{"missing or invalid API key"})
		return
	}
	body, status, err := readBody(w, r, maxEventBridgeBody)
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
type FirehoseHandler struct {
	Sink      Deliverer
	Dest      Destination
	AccessKey string
	Now       func() time.Time
	Logger    *slog.Logger
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
		w.Header().Set("Allow", "POST")
		reply(http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !keyOK(r.Header.Get("X-Amz-Firehose-Access-Key"), h.AccessKey) {
		reply(http.StatusUnauthorized, "missing or invalid access key")
		return
	}
	body, status, err := readBody(w, r, maxFirehoseBody)
	if err != nil {
		reply(status, err.Error())
		return
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// The destination's "Content encoding: GZIP" setting compresses the whole request body.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(io.LimitReader(zr, maxFirehoseBody+1))
		}
		if err != nil || len(body) > maxFirehoseBody {
			reply(http.StatusBadRequest, "request body is not valid gzip within the size limit")
			return
		}
	}
	id, res, err := cloudtrail.DecodeFirehose(body)
	if id != "" {
		reqID = id
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
