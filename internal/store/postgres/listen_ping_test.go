package postgres

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/metrics"
)

// freezingProxy forwards TCP connections to the database until frozen, then forwards nothing
// more while keeping every connection open: a network fault that leaves a half-open connection,
// which neither end notices by itself.
type freezingProxy struct {
	ln     net.Listener
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	return p
}

// pipe copies from src to dst until either closes, dropping everything once the proxy is frozen.
func (p *freezingProxy) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// A LISTEN connection that silently stops carrying anything (no FIN, no RST) is noticed by its
// ping and reported, so that the replica listens again on a new connection instead of waiting
// forever while every notification is lost.
func TestListenNoticesADeadConnection(t *testing.T) {
	u, err := url.Parse(testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newFreezingProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	listening := make(chan string, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := Open(ctx, u.String(), Options{ListenPing: 200 * time.Millisecond, OnListening: func(ch string) { listening <- ch }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ended := make(chan error, 1)
	go func() { ended <- db.ListenSamples(ctx, func(metrics.Scope, []metrics.Metric) {}) }()
	select {
	case <-listening:
	case err := <-ended:
		t.Fatalf("listener ended before listening: %v", err)
	}
	// Quiet but healthy: the pings keep it listening.
	select {
	case err := <-ended:
		t.Fatalf("a healthy quiet connection was given up: %v", err)
	case <-time.After(time.Second):
	}
	p.frozen.Store(true)
	select {
	case err := <-ended:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("listener ended with %v, ctx %v; want the ping's failure", err, ctx.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the listener still waits on a dead connection after 5 s")
	}
}
