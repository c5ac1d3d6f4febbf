package app

import (
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// TestHTTPServerDeadlines checks that every phase of a connection has a deadline (issue 11: the
// server had no read timeout, so a client sending a body slowly held its connection and buffer for
// ever), and that the write deadline, which Go starts when the headers are read, leaves the whole
// read time to the body.
func TestHTTPServerDeadlines(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s is not set", name)
		}
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout || srv.WriteTimeout <= srv.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v, ReadTimeout %v, WriteTimeout %v: want header <= read < write",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout)
	}
}
