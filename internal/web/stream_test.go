package web

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// TestStreamsPerSessionBounded checks that one session cannot hold more than
// maxStreamsPerSession live streams open: each holds a goroutine (and the board's recomputes
// every alarm's fingerprint), so an unbounded number would let one client pin the server. A slot
// is given back when its stream ends, and another session has its own budget.
func TestStreamsPerSessionBounded(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	r.login(c)
	var open []*http.Response
	defer func() {
		for _, resp := range open {
			resp.Body.Close()
		}
	}()
	for i := range maxStreamsPerSession {
		path := "/console/board/stream"
		if i%2 == 1 {
			path = "/console/feed/stream"
		}
		resp := r.do(c, "GET", path, nil, "same-origin")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d, want 200", i+1, resp.StatusCode)
		}
		open = append(open, resp)
	}
	for _, path := range []string{"/console/board/stream", "/console/feed/stream"} {
		resp := r.do(c, "GET", path, nil, "same-origin")
		if resp.StatusCode != http.StatusTooManyRequests {
			resp.Body.Close() // a stream: reading it would never end
			t.Errorf("GET %s beyond %d open streams: %d, want 429", path, maxStreamsPerSession, resp.StatusCode)
			continue
		}
		readBody(t, resp)
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s refused without the security headers", path)
		}
	}
	// Another session is not refused by this one's streams.
	r.clock.advance(LoginRefill)
	other := r.client()
	r.login(other)
	resp := r.do(other, "GET", "/console/board/stream", nil, "same-origin")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another session's stream: %d, want 200", resp.StatusCode)
	}
	resp.Body.Close()
	// Ending a stream gives its slot back (the handler notices the closed connection).
	open[0].Body.Close()
	open = open[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := r.do(c, "GET", "/console/board/stream", nil, "same-origin")
		if resp.StatusCode == http.StatusOK {
			open = append(open, resp)
			break
		}
		readBody(t, resp) // a refusal, not a stream
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot was not given back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStreamLimitsTotal checks the console-wide bound across sessions, and that release gives a
// slot back.
func TestStreamLimitsTotal(t *testing.T) {
	l := newStreamLimits()
	n := 0
	for s := 0; n < maxStreams; s++ {
		for range maxStreamsPerSession {
			if n == maxStreams {
				break
			}
			if !l.acquire(string(rune('a' + s))) {
				t.Fatalf("slot %d refused below the limits", n+1)
			}
			n++
		}
	}
	if l.acquire("fresh") {
		t.Fatalf("a session got stream %d, beyond maxStreams = %d", maxStreams+1, maxStreams)
	}
	l.release("a")
	if !l.acquire("fresh") {
		t.Fatal("a released slot was not given back")
	}
	if got := l.bySession["a"]; got != maxStreamsPerSession-1 {
		t.Errorf("session a holds %d slots, want %d", got, maxStreamsPerSession-1)
	}
}

// stalledWriter is a streaming ResponseWriter whose client stopped reading: after the headers,
// every write fails as a write deadline would make it fail. It records the deadlines it is given.
type stalledWriter struct {
	mu        sync.Mutex
	h         http.Header
	deadlines []time.Time
	writes    int
}

func (w *stalledWriter) Header() http.Header { return w.h }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return 0, errors.New("i/o timeout")
}
func (w *stalledWriter) Flush() {}
func (w *stalledWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadlines = append(w.deadlines, t)
	return nil
}

// TestStalledStreamEnds checks that a stream whose client stopped reading ends: every write has a
// deadline (not the "no deadline" that would block a write forever), and a failed write ends the
// handler and frees its slot, instead of it looping until the connection is closed.
func TestStalledStreamEnds(t *testing.T) {
	r := newRig(t, nil)
	r.seed() // an alarm, so that the board stream has a fingerprint to send at once
	for _, tc := range []struct {
		path string
		h    http.HandlerFunc
		prep func()
	}{
		{"/console/board/stream", r.console.boardStream, func() {}},
		{"/console/feed/stream", r.console.feedStream, func() {
			r.console.watch(context.Background())
			r.put(rootLogin(r.clock.now(), "198.51.100.9", "curl"))
			waitFeed(t, r, 1)
		}},
	} {
		tc.prep()
		w := &stalledWriter{h: http.Header{}}
		req := httptest.NewRequest("GET", tc.path, nil) // its context never ends
		req.AddCookie(&http.Cookie{Name: cookiePlain, Value: r.console.sessions.create(testKeyID)})
		done := make(chan struct{})
		go func() { tc.h(w, req); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the handler still runs after its writes failed", tc.path)
		}
		w.mu.Lock()
		if len(w.deadlines) == 0 {
			t.Errorf("%s: no write deadline was set", tc.path)
		}
		for _, d := range w.deadlines {
			if d.IsZero() || time.Until(d) > streamWriteTimeout {
				t.Errorf("%s: write deadline %v, want within %s", tc.path, d, streamWriteTimeout)
			}
		}
		w.mu.Unlock()
		if r.console.streams.total != 0 {
			t.Errorf("%s: %d stream slots still held after the handler ended", tc.path, r.console.streams.total)
		}
	}
}

// TestStreamsEndWithTheirSession checks that an open stream ends when its session does: at logout
// (from another tab) and at the session's MaxAge. Before, requireSession checked the session only
// when the stream opened, and the stream went on sending events (identities, source addresses)
// after logout.
func TestStreamsEndWithTheirSession(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	for _, tc := range []struct {
		name, path string
		end        func(c *http.Client)
		then       func()
	}{
		{"feed, logout", "/console/feed/stream", func(c *http.Client) {
			readBody(t, r.do(c, "POST", "/console/logout", url.Values{}, "same-origin"))
		}, func() { r.put(rootLogin(r.clock.now(), "198.51.100.20", "curl")) }},
		{"board, logout", "/console/board/stream", func(c *http.Client) {
			readBody(t, r.do(c, "POST", "/console/logout", url.Values{}, "same-origin"))
		}, func() {
			must(t, r.alarms.SetAlarmState(context.Background(), alarm.Scope(home), "RootAccountUsage", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "x"}))
		}},
		{"board, MaxAge", "/console/board/stream", func(*http.Client) { r.clock.advance(DefaultMaxAge) }, func() {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.clock.advance(LoginRefill) // a fresh login budget
			c := r.client()
			r.login(c)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", r.srv.URL+tc.path, nil)
			resp, err := c.Do(req)
			must(t, err)
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("stream: %d", resp.StatusCode)
			}
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			// The board sends the state it opened with first; wait for it, so that what follows
			// is sent after the session ended.
			if tc.path == "/console/board/stream" {
				for l := range lines {
					if l == "event: changed" {
						break
					}
				}
			}
			tc.end(c)
			tc.then()
			for l := range lines {
				if strings.HasPrefix(l, "event: ") {
					t.Errorf("after the session ended the stream sent %q", l)
				}
			}
			if ctx.Err() != nil {
				t.Error("the stream did not end with its session")
			}
		})
	}
}
