// Package awsclient holds what trailwatch's own aws-sdk-go-v2 clients (the ingest and backfill
// commands, the S3/SQS source, the tests) share: an HTTP client that works around a smithy-go
// request-body race.
//
// The race: smithy-go wraps every request body in a "safe" closer and closes it as soon as
// http.Client.Do returns. net/http's write loop, after sending ContentLength bytes, copies the body
// once more into io.Discard to check that it has ended; that copy uses the body's WriteTo, and once
// the body is closed smithy-go's WriteTo returns io.EOF, which io.Copy reports as an error (WriteTo
// must return nil at the end). When the server has answered before the write loop gets to that check
// (a fast local server, a loaded machine), net/http takes it for a failed request write and closes
// the connection while the caller is still reading the response: "deserialization failed, read tcp
// …: use of closed network connection" after a 200 status. aws-sdk-go-v2 issues #1825 and #2737
// describe the symptom; the SDK's answer was to retry net.ErrClosed (PR #2949), which a client with
// retries off, or a non-idempotent request, cannot rely on. Hiding WriteTo makes net/http read the
// closed body with Read, which ends with io.EOF as it should.
package awsclient

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// HTTPClient returns the SDK's default HTTP client (its timeouts and connection pool) with request
// bodies passed through Body.
func HTTPClient() aws.HTTPClient { return Wrap(awshttp.NewBuildableClient()) }

// Wrap returns next with every request body passed through Body; a nil next stands for the SDK's
// default client. Wrap a configuration's client after config.LoadDefaultConfig rather than passing
// one in with config.WithHTTPClient: the loader customises its own client (AWS_CA_BUNDLE, for
// example) and refuses one it cannot customise.
func Wrap(next aws.HTTPClient) aws.HTTPClient {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	return client{next: next}
}

type client struct{ next aws.HTTPClient }

// Do sends r with its body wrapped by Body; r itself is not modified.
func (c client) Do(r *http.Request) (*http.Response, error) {
	if _, ok := r.Body.(io.WriterTo); ok {
		r = r.WithContext(r.Context()) // a shallow copy, so the caller's request keeps its body
		r.Body = Body(r.Body)
	}
	return c.next.Do(r)
}

// Body returns rc without its WriteTo method (if it had one), so that net/http reads it only with
// Read. The returned body closes rc.
func Body(rc io.ReadCloser) io.ReadCloser { return readCloser{rc} }

// readCloser exposes only Read and Close of the body it holds.
type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
