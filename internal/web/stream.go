package web

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Bounds on the live event streams (the board's and the feed's). Each open stream holds a
// goroutine and, for the feed, a buffered channel, for as long as the browser keeps it open, so a
// client (a script with a stolen or its own session, or a browser with many tabs) must not be able
// to open them without limit.
const (
	// maxStreamsPerSession is how many streams one session may hold open at once: browsers open
	// at most six HTTP/1.1 connections per origin, so a person's tabs rarely need more.
	maxStreamsPerSession = 6
	// maxStreams is how many streams the console serves at once, across sessions.
	maxStreams = 64
	// streamWriteTimeout bounds each write to a stream: a client that stops reading (its
	// socket buffers full) has its stream ended instead of pinning the handler forever. The
	// server's WriteTimeout cannot do this, since it would also end healthy streams.
	streamWriteTimeout = 30 * time.Second
)

// streamLimits counts the open streams, per session token and in total.
type streamLimits struct {
	mu        sync.Mutex
	total     int
	bySession map[string]int
}

func newStreamLimits() *streamLimits { return &streamLimits{bySession: map[string]int{}} }

// acquire takes a stream slot for the session tok; false means a limit is reached.
func (l *streamLimits) acquire(tok string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= maxStreams || l.bySession[tok] >= maxStreamsPerSession {
		return false
	}
	l.total++
	l.bySession[tok]++
	return true
}

// release gives back a slot taken by acquire.
func (l *streamLimits) release(tok string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.bySession[tok]--; l.bySession[tok] <= 0 {
		delete(l.bySession, tok)
	}
}

// liveStream is one open live stream of a session.
type liveStream struct {
	c   *Console
	tok string
}

// openStream takes a stream slot for the request's session (requireSession has checked it); when
// a limit is reached it answers 429 and ok is false. An EventSource does not retry after a 429,
// so the page says its live updates are interrupted. The caller must call release.
func (c *Console) openStream(w http.ResponseWriter, r *http.Request) (st liveStream, ok bool) {
	st = liveStream{c: c}
	if ck, err := r.Cookie(c.cookieName()); err == nil {
		st.tok = ck.Value
	}
	if !c.streams.acquire(st.tok) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "Too many live streams are open; close other console tabs.", http.StatusTooManyRequests)
		return st, false
	}
	return st, true
}

// release gives the stream's slot back.
func (st liveStream) release() { st.c.streams.release(st.tok) }

// live reports whether the stream's session still lives; a stream checks it before each event
// and keepalive and ends when it does not, so that logging out (in another tab) or the session's
// MaxAge ends access to the live data too, not only to new requests. An open stream counts as
// use of its session (it keeps an idle board on a wall screen logged in), up to MaxAge.
func (st liveStream) live() bool {
	_, ok := st.c.sessions.touch(st.tok)
	return ok
}

// sse writes server-sent events, each write bounded by streamWriteTimeout.
type sse struct {
	w  http.ResponseWriter
	fl http.Flusher
	rc *http.ResponseController
}

// startSSE starts a server-sent event response; ok is false when the connection cannot stream.
func startSSE(w http.ResponseWriter) (*sse, bool) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "Streaming is not supported.", http.StatusInternalServerError)
		return nil, false
	}
	s := &sse{w: w, fl: fl, rc: http.NewResponseController(w)}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	if s.send("") != nil {
		return nil, false
	}
	return s, true
}

// send writes text (one or more complete events, or "" for just the headers) and flushes it,
// within streamWriteTimeout of now. The deadline is the connection's, in wall-clock time: it is
// not the console's (injectable) clock. An error means the stream is dead and must end.
func (s *sse) send(text string) error {
	// Without deadline support (a wrapped writer), the server's own timeouts still apply.
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if text == "" {
		s.w.WriteHeader(http.StatusOK)
	} else if _, err := fmt.Fprint(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}

// fingerprintCache shares the board's fingerprint among its streams: computing it walks every
// alarm, so each open stream doing so four times a second would cost streams × alarms.
type fingerprintCache struct {
	mu  sync.Mutex
	at  time.Time
	val uint64
}

// fingerprintTTL is how long one computed fingerprint serves every board stream.
const fingerprintTTL = 200 * time.Millisecond

// sharedFingerprint returns the board fingerprint, computing it at most once per fingerprintTTL
// of wall-clock time: like the streams' 250 ms ticker, this paces CPU work, it is not alarm logic,
// so it does not follow the console's injectable clock (a frozen test clock would freeze it).
func (c *Console) sharedFingerprint() uint64 {
	f := &c.fp
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.val != 0 && now.Sub(f.at) < fingerprintTTL && !now.Before(f.at) {
		return f.val
	}
	f.val, f.at = c.fingerprint(), now
	return f.val
}
