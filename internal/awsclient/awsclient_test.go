package awsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"sync"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// gatedConn holds the write that ends a request body until gate is closed, so that the test can let
// the response arrive (and close the request body, as smithy-go does) before net/http's write loop
// checks that the body has ended.
type gatedConn struct {
	net.Conn
	marker    []byte
	gate      <-chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *gatedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if bytes.HasSuffix(p, c.marker) {
		<-c.gate
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// TestClosedRequestBodyKeepsResponse replays, step by step, the race behind aws-sdk-go-v2 issues #1825
// and #2737 ("use of closed network connection" after a 200 status): the server answers, smithy-go
// closes the request body right after Do, and only then does net/http's write loop check the body's end.
// With smithy-go's own body the connection is closed under the response; through Wrap it is not. The
// first case pins the upstream behaviour: when it fails, smithy-go has fixed WriteTo and this package
// can go.
func TestClosedRequestBodyKeepsResponse(t *testing.T) {
	const marker = "<end of request body>"
	reqBody := append(bytes.Repeat([]byte("x"), 8<<10), marker...)
	respBody := bytes.Repeat([]byte("y"), 4<<20) // far more than net/http's read buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(b, reqBody) {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		w.Write(respBody)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name    string
		wrap    bool
		wantErr bool
	}{
		{"smithy-go body", false, true},
		{"through Wrap", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			var conn *gatedConn
			transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				conn = &gatedConn{Conn: c, marker: []byte(marker), gate: gate, closed: make(chan struct{})}
				return conn, nil
			}}
			defer transport.CloseIdleConnections()
			var c interface {
				Do(*http.Request) (*http.Response, error)
			} = &http.Client{Transport: transport}
			if tc.wrap {
				c = Wrap(c)
			}

			wrote := make(chan error, 1)
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				WroteRequest: func(info httptrace.WroteRequestInfo) { wrote <- info.Err },
			})
			sreq := smithyhttp.NewStackRequest().(*smithyhttp.Request)
			sreq.Method = http.MethodPost
			sreq.URL, _ = url.Parse(srv.URL)
			sreq, err := sreq.SetStream(bytes.NewReader(reqBody))
			if err != nil {
				t.Fatal(err)
			}
			sreq.ContentLength = int64(len(reqBody))
			hreq := sreq.Build(ctx)
			if _, ok := hreq.Body.(io.WriterTo); !ok {
				t.Fatalf("smithy-go's request body %T has no WriteTo; the race this package works around is gone", hreq.Body)
			}

			resp, err := c.Do(hreq) // returns with the response headers; the write loop waits at the gate
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			hreq.Body.Close() // what smithy-go's ClientHandler does as soon as Do returns
			close(gate)
			if werr := <-wrote; werr != nil {
				<-conn.closed // the write loop closes the connection after a failed request write
			}
			got, err := io.ReadAll(resp.Body)
			if tc.wantErr {
				if !errors.Is(err, net.ErrClosed) {
					t.Fatalf("reading the response: %v; want net.ErrClosed (smithy-go's WriteTo no longer returns io.EOF once closed?)", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, respBody) {
				t.Fatalf("reading the response: %d bytes, %v; want all %d bytes", len(got), err, len(respBody))
			}
		})
	}
}

// TestWrapKeepsRequest checks that Wrap does not change the caller's request and that closing the
// wrapped body closes the original.
func TestWrapKeepsRequest(t *testing.T) {
	var seen io.ReadCloser
	next := doFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.Body
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	body := &closeRecorder{Reader: bytes.NewReader([]byte("payload"))}
	req, _ := http.NewRequest(http.MethodPost, "http://example.invalid/", body)
	if _, err := Wrap(next).Do(req); err != nil {
		t.Fatal(err)
	}
	if req.Body != io.ReadCloser(body) {
		t.Fatalf("the caller's request body was replaced by %T", req.Body)
	}
	if _, ok := seen.(io.WriterTo); ok {
		t.Fatalf("the body sent on (%T) still has WriteTo", seen)
	}
	if b, err := io.ReadAll(seen); err != nil || string(b) != "payload" {
		t.Fatalf("the body sent on reads %q, %v", b, err)
	}
	seen.Close()
	if !body.closed {
		t.Fatal("closing the body sent on did not close the original")
	}
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

type closeRecorder struct {
	*bytes.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }
