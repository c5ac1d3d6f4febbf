package awsapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// defaultMaxBody is the request body limit when Config.MaxBodyBytes is 0. PutLogEvents, the
// largest request, is at most 1 MiB of messages plus JSON overhead.
const defaultMaxBody = 10 << 20

// defaultUnverifiedBytes is the budget of the signed bodies held before their signature is
// verified when Config.MaxUnverifiedBytes is 0. It is charged as bytes arrive (readCharged), not
// per request: an earlier count of 24 slots let a client that knows an access key ID, but not its
// secret, keep every slot busy from a few addresses with connections that sent headers and
// nothing more, so that every SDK client was answered 503. Under a byte budget such connections
// are charged a few hundred bytes each, and holding the budget costs a client the bandwidth to
// send it; one client address holds at most half of it (Config.MaxUnverifiedBytesPerClient), and
// each read has a deadline (unverifiedDeadline).
const defaultUnverifiedBytes = 256 << 20

// anonymousBytes is the budget of the bodies, of at most maxUnsignedForm bytes each, read for
// requests that cannot be verified at all (no Authorization, or a scope naming no service here):
// the forms that route them and the inputs of unsigned operations. It is separate, so anonymous
// clients can never take the budget signed requests need.
const anonymousBytes = 2 << 20

// defaultUnverifiedTimeout and defaultUnverifiedRate set the deadline of a body read before its
// signature is verified when Config.UnverifiedBodyTimeout and Config.UnverifiedBodyRate are 0:
// 5 s, plus the body's size at 256 KiB/s (2 Mbit/s; 45 s for a 10 MiB body, 9 s for a full 1 MiB
// PutLogEvents batch). A client slower than that is answered 408 RequestTimeout and the connection
// closed; a client that sends headers and then nothing holds its goroutine and connection for
// about 5 s, not for the server's 2-minute ReadTimeout.
const (
	defaultUnverifiedTimeout = 5 * time.Second
	defaultUnverifiedRate    = 256 << 10
)

// handler serves every configured service.
type handler struct {
	services []*Service
	byTarget map[string]*Service // awsJson X-Amz-Target prefix
	byCBOR   map[string]*Service // CBOR service shape name
	bySign   map[string]*Service // SigV4 signing name
	creds    Credentials
	now      func() time.Time
	log      *slog.Logger
	onReq    func(RequestInfo)
	maxBody  int64
	// unverified budgets the bytes of signed bodies read before their signature is verified;
	// anonymous those of requests that cannot be verified (readUnsignedBody). Separate, so that
	// anonymous clients cannot starve signed ones.
	unverified *byteBudget
	anonymous  *byteBudget
	// bodyTimeout and bodyRate make the deadline of those reads (unverifiedDeadline).
	bodyTimeout time.Duration
	bodyRate    int64
	// bodies recycles the buffers of signed bodies (see bodyPool); nil for AnonymousBodies, whose
	// bodies go to callers that may keep them.
	bodies *bodyPool
}

// NewHandler returns the http.Handler that serves the AWS APIs of cfg.Services. It answers every
// request itself (POST, and GET for awsQuery); the application mounts it and adds its own routes
// such as /healthz in front. Each operation's shapes are checked here, so an unsupported field
// type fails at startup.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("awsapi: Config.Credentials is required")
	}
	h := &handler{
		services: cfg.Services,
		byTarget: map[string]*Service{},
		byCBOR:   map[string]*Service{},
		bySign:   map[string]*Service{},
		creds:    cfg.Credentials,
		now:      cfg.Now,
		log:      cfg.Logger,
		onReq:    cfg.OnRequest,
		maxBody:  cfg.MaxBodyBytes,
		bodies:   &bodyPool{},
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = defaultMaxBody
	}
	n := cfg.MaxUnverifiedBytes
	if n <= 0 {
		n = defaultUnverifiedBytes
	}
	h.unverified = newByteBudget(n, cfg.MaxUnverifiedBytesPerClient)
	h.anonymous = newByteBudget(anonymousBytes, 0)
	if cfg.Anonymous != nil {
		h.anonymous = cfg.Anonymous.budget
	}
	h.bodyTimeout, h.bodyRate = cfg.UnverifiedBodyTimeout, cfg.UnverifiedBodyRate
	if h.bodyTimeout <= 0 {
		h.bodyTimeout = defaultUnverifiedTimeout
	}
	if h.bodyRate <= 0 {
		h.bodyRate = defaultUnverifiedRate
	}
	for _, s := range cfg.Services {
		if s.SigningName == "" {
			return nil, errors.New("awsapi: service without SigningName")
		}
		if h.bySign[s.SigningName] != nil {
			return nil, fmt.Errorf("awsapi: duplicate service %q", s.SigningName)
		}
		h.bySign[s.SigningName] = s
		for _, p := range s.TargetPrefixes {
			if h.byTarget[p] != nil {
				return nil, fmt.Errorf("awsapi: duplicate target prefix %q", p)
			}
			h.byTarget[p] = s
		}
		if len(s.TargetPrefixes) > 0 && s.JSONVersion != "1.0" && s.JSONVersion != "1.1" {
			return nil, fmt.Errorf("awsapi: service %q: JSONVersion must be 1.0 or 1.1", s.SigningName)
		}
		if s.CBORService != "" {
			if h.byCBOR[s.CBORService] != nil {
				return nil, fmt.Errorf("awsapi: duplicate CBOR service %q", s.CBORService)
			}
			h.byCBOR[s.CBORService] = s
		}
		for name, op := range s.Operations {
			if op == nil {
				return nil, fmt.Errorf("awsapi: %s.%s: nil operation", s.SigningName, name)
			}
			for _, t := range []reflect.Type{op.inputType(), op.outputType()} {
				if err := checkShape(t, map[reflect.Type]bool{}); err != nil {
					return nil, fmt.Errorf("awsapi: %s.%s: %w", s.SigningName, name, err)
				}
			}
		}
	}
	return h, nil
}

// call is the state of one request.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	proto     Protocol
	svc       *Service // nil until known
	op        string
	requestID string
	queryMode bool       // X-Amzn-Query-Mode: true
	presigned bool       // SigV4 in the query string
	unsigned  bool       // served as an unsigned operation
	form      url.Values // awsQuery parameters, URL and body
	status    int        // the status written, for the request log
	// giveBack returns the anonymous budget taken by an unsigned body, at the request's end.
	giveBack func()
}

// requestIDHeader is the response header carrying the request id, spelled as AWS spells it.
const requestIDHeader = "x-amzn-RequestId"

// newRequestID returns a request id: a random (version 4) UUID, as AWS's x-amzn-RequestId.
func newRequestID() string { return uuid.NewString() }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, requestID: newRequestID(), queryMode: strings.EqualFold(r.Header.Get("X-Amzn-Query-Mode"), "true")}
	start := h.now()
	defer func() {
		if c.giveBack != nil {
			c.giveBack()
		}
		if h.onReq != nil {
			info := RequestInfo{Operation: c.op, Status: c.status, Duration: h.now().Sub(start)}
			if c.svc != nil {
				info.Service = c.svc.SigningName
				_, info.Known = c.svc.Operations[c.op]
			}
			h.onReq(info)
		}
		if h.log.Enabled(r.Context(), slog.LevelDebug) {
			svc := ""
			if c.svc != nil {
				svc = c.svc.SigningName
			}
			h.log.DebugContext(r.Context(), "aws request", "service", svc, "operation", c.op, "protocol", string(c.proto),
				"status", c.status, "request_id", c.requestID, "duration", h.now().Sub(start))
		}
	}()
	w.Header().Set("Date", start.UTC().Format(http.TimeFormat))
	// The map is written directly because Set would canonicalize the name to X-Amzn-Requestid;
	// AWS spells it x-amzn-RequestId, and tests that compare raw headers see the difference.
	w.Header()[requestIDHeader] = []string{c.requestID}

	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && r.URL.Query().Get("Action") != "") {
		c.proto = ProtocolQuery
		h.writeError(c, wireError{code: "MethodNotAllowed", message: "The requested method is not allowed for this resource.", status: http.StatusMethodNotAllowed, sender: true})
		return
	}

	// Everything up to the signature check reads only the request line and headers: the body of a
	// client that has not proven it holds a key is read only where it must be (see authenticate),
	// bounded, and within a budget of bytes (Config.MaxUnverifiedBytes).
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	auth, aerr := parseSigV4(r.Header, r.URL.Query())
	c.presigned = auth != nil && auth.presigned
	if c.presigned {
		c.proto = ProtocolQuery
		if werr := checkPresigned(r, ct); werr != nil {
			h.writeError(c, *werr)
			return
		}
	} else if werr := h.route(c, ct); werr != nil {
		h.writeError(c, *werr)
		return
	}
	if r.ContentLength > h.maxBody {
		h.writeError(c, h.errTooLarge())
		return
	}
	if werr := checkContentEncoding(r.Header); werr != nil {
		h.writeError(c, *werr)
		return
	}

	if c.proto == ProtocolQuery {
		// Query requests are routed by the credential scope. Without a usable scope, a small form
		// decides which service answers (unsigned operations, and the namespace of the error).
		if auth != nil {
			c.svc = h.bySign[auth.service]
		}
		if c.svc == nil {
			if werr := h.readUnsignedForm(c, ct); werr != nil {
				h.writeError(c, *werr)
				return
			}
			c.svc = h.guessQueryService(c.form)
		}
	}
	if aerr != nil {
		if aerr.code == "MissingAuthenticationToken" && c.svc != nil && slices.Contains(c.svc.UnsignedOperations, c.op) {
			h.serveUnsigned(c)
			return
		}
		h.writeError(c, *aerr)
		return
	}
	if c.svc == nil {
		h.writeError(c, errSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", truncate(auth.service, 64))))
		return
	}
	account, raw, werr := h.authenticate(c, auth)
	if werr != nil {
		h.writeError(c, *werr)
		return
	}
	body, werr := h.decodeBody(r.Header, raw)
	if werr != nil {
		h.writeError(c, *werr)
		return
	}
	if c.proto == ProtocolQuery {
		// From the authenticated body: a form read before authentication only chose the service.
		if werr := c.parseForm(ct, body); werr != nil {
			h.writeError(c, *werr)
			return
		}
	}

	h.serveOperation(c, body, Identity{AccountID: account, Region: auth.region, AccessKeyID: auth.accessKeyID, RequestID: c.requestID, Protocol: c.proto})
	// The operation has been answered and its input decoded into copies: nothing refers to raw.
	h.bodies.put(raw)
}

// checkPresigned refuses what a presigned URL cannot sign. Its canonical request covers the method,
// path, query and the signed headers, and an empty payload: the URL of a read-only awsQuery call,
// shared as a link, must not become a bearer token for another operation through a body, an
// X-Amz-Target, a Smithy-Protocol or a JSON/CBOR Content-Type, none of which it signed. AWS's
// non-S3 services answer a presigned request whose body is not empty with a signature mismatch,
// since the empty payload hash no longer holds; this says why.
func checkPresigned(r *http.Request, ct string) *wireError {
	hasBody := r.ContentLength != 0 || len(r.TransferEncoding) > 0
	declared := r.Header.Get("X-Amz-Content-Sha256")
	if hasBody || r.Header.Get("X-Amz-Target") != "" || r.Header.Get("Smithy-Protocol") != "" ||
		(ct != "" && ct != "application/x-www-form-urlencoded") || (declared != "" && declared != emptyPayloadHash) {
		e := errSignature("A presigned URL signs an awsQuery request whose parameters are all in its query string: it must not carry a body, " +
			"an X-Amz-Target or Smithy-Protocol header, or a JSON or CBOR Content-Type.")
		return &e
	}
	return nil
}

// authenticate verifies a's signature over the request and returns the key's account and the body
// as transmitted. The body is read only after everything that needs no payload holds (checkAuth),
// and then:
//
//   - presigned requests have no body (checkPresigned): the signature is over the empty payload;
//   - a request that declares its payload hash in X-Amz-Content-Sha256 has its signature checked
//     over that hash before its body is read, and the body's hash checked while it streams in;
//   - a request that does not (botocore and aws-sdk-go-v2 send the header to S3 only; for these
//     services they put the payload's hash in the canonical request and send no header) must have
//     its body read to be verified: it is read bounded, without trusting Content-Length, within a
//     deadline, its bytes charged as they arrive to a budget (Config.MaxUnverifiedBytes, of which
//     one client address holds at most a share) and given back once the signature is checked;
//     a read that finds the budget spent is answered 503 after a short wait (readUnverified).
//
// UNSIGNED-PAYLOAD is refused: neither SDK ever sends it to CloudWatch, CloudWatch Logs, SNS or
// CloudTrail (no operation of theirs has the unsignedPayload trait in botocore's or
// aws-sdk-go-v2's models, and only S3 clients switch to unsigned payloads over TLS), and a
// signature that covers no body lets anyone who captures a request send any body under it.
func (h *handler) authenticate(c *call, a *sigV4Auth) (string, []byte, *wireError) {
	r := c.r
	k, werr := checkAuth(a, h.creds, c.svc.SigningName, h.now())
	if werr != nil {
		return "", nil, werr
	}
	if a.presigned {
		if werr := verifySignature(r.Context(), a, r, emptyPayloadHash, k); werr != nil {
			return "", nil, werr
		}
		return k.account, nil, nil
	}
	if werr := checkSignedHeaders(a, r.Header); werr != nil {
		return "", nil, werr
	}
	declared := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case declared == "":
		raw, sum, giveBack, werr := h.readUnverified(c, h.unverified, h.maxBody)
		if werr != nil {
			return "", nil, werr
		}
		defer giveBack()
		if werr := verifySignature(r.Context(), a, r, sum, k); werr != nil {
			return "", nil, werr
		}
		return k.account, raw, nil
	case !isSHA256Hex(declared):
		e := errSignature("x-amz-content-sha256 must be the hex SHA-256 of the payload; this service does not accept '" + truncate(declared, 64) + "'.")
		return "", nil, &e
	default:
		if werr := verifySignature(r.Context(), a, r, declared, k); werr != nil {
			return "", nil, werr
		}
		raw, sum, werr := h.readBody(r.Body, h.maxBody)
		if werr != nil {
			return "", nil, werr
		}
		if !strings.EqualFold(sum, declared) {
			// The signature covers the declared hash: a body that does not match it was not signed.
			e := errSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
			return "", nil, &e
		}
		return k.account, raw, nil
	}
}

// maxUnsignedForm bounds the body read before authentication to route an unsigned request: the
// form of an awsQuery request without a usable credential scope, or the input of an unsigned
// operation (SNS's ConfirmSubscription).
const maxUnsignedForm = 64 << 10

// readUnsignedForm collects the awsQuery parameters of a request that has no usable scope: the URL's,
// and a form body of at most maxUnsignedForm bytes. A larger or compressed body is left out (such a
// request cannot be an unsigned operation, and its signature cannot be checked without a service);
// a presigned request's parameters are its query's only.
func (h *handler) readUnsignedForm(c *call, ct string) *wireError {
	if c.presigned || ct != "application/x-www-form-urlencoded" || c.r.ContentLength == 0 {
		return c.parseForm(ct, nil)
	}
	raw, tooLarge, werr := h.readUnsignedBody(c)
	if werr != nil {
		return werr
	}
	if tooLarge {
		raw = nil
	}
	return c.parseForm(ct, raw)
}

// readUnsignedBody reads, before authentication, a plain body of at most maxUnsignedForm bytes,
// charged to the anonymous budget, which signed requests never use, until the request ends.
// tooLarge reports a body that is compressed or larger; it is then not read, or not read to its
// end.
func (h *handler) readUnsignedBody(c *call) (_ []byte, tooLarge bool, _ *wireError) {
	r := c.r
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if r.ContentLength > maxUnsignedForm || (enc != "" && enc != "identity") {
		return nil, true, nil
	}
	raw, _, giveBack, werr := h.readUnverified(c, h.anonymous, maxUnsignedForm)
	if giveBack != nil {
		c.giveBack = giveBack
	}
	if werr != nil {
		if werr.status == http.StatusRequestEntityTooLarge {
			return nil, true, nil
		}
		return nil, false, werr
	}
	return raw, false, nil
}

// serveUnsigned serves an unsigned operation (Service.UnsignedOperations), whose body is at most
// maxUnsignedForm bytes.
func (h *handler) serveUnsigned(c *call) {
	if allowed, ok := c.svc.UnsignedParameters[c.op]; ok && c.proto == ProtocolQuery {
		for k := range c.form {
			if k != "Action" && k != "Version" && !slices.Contains(allowed, k) {
				h.writeError(c, errMissingAuth())
				return
			}
		}
	}
	c.unsigned = true
	var body []byte
	if c.proto != ProtocolQuery && c.r.ContentLength != 0 {
		raw, tooLarge, werr := h.readUnsignedBody(c)
		if werr == nil && tooLarge {
			e := errMissingAuth()
			werr = &e
		}
		if werr != nil {
			h.writeError(c, *werr)
			return
		}
		body = raw
	}
	h.serveOperation(c, body, Identity{RequestID: c.requestID, Protocol: c.proto})
}

// parseForm collects the awsQuery parameters from the URL and a form body; a presigned request's
// come from its signed query only.
func (c *call) parseForm(ct string, body []byte) *wireError {
	c.form = c.r.URL.Query()
	if ct == "application/x-www-form-urlencoded" && !c.presigned {
		bf, err := url.ParseQuery(string(body))
		if err != nil {
			return &wireError{code: "MalformedQueryString", message: "The request body is not a valid form encoding.", status: http.StatusBadRequest, sender: true}
		}
		for k, v := range bf {
			c.form[k] = append(c.form[k], v...)
		}
	}
	c.op = c.form.Get("Action")
	return nil
}

// serveOperation decodes the input, calls the operation as id and writes its result.
func (h *handler) serveOperation(c *call, body []byte, id Identity) {
	form := c.form
	op := c.svc.Operations[c.op]
	switch {
	case c.proto == ProtocolQuery && (c.svc.QueryVersion == "" || op == nil):
		h.writeError(c, unknownOperation(c))
		return
	case c.proto == ProtocolQuery && form.Get("Version") != c.svc.QueryVersion && !(c.unsigned && !form.Has("Version") && c.svc.UnsignedParameters[c.op] != nil):
		h.writeError(c, wireError{code: "InvalidAction", message: fmt.Sprintf("Could not find operation %s for version %s", c.op, truncate(form.Get("Version"), 64)), status: http.StatusBadRequest, sender: true})
		return
	case op == nil:
		h.writeError(c, unknownOperation(c))
		return
	}

	in := reflect.New(op.inputType())
	var err error
	switch c.proto {
	case ProtocolQuery:
		err = decodeQuery(form, in.Interface())
		if err != nil {
			h.writeError(c, queryDecodeError(c.svc, err))
			return
		}
	case ProtocolJSON10, ProtocolJSON11:
		if err = decodeJSON(body, in.Interface()); err != nil {
			h.writeError(c, decodeError(err))
			return
		}
	case ProtocolCBOR:
		if err = decodeCBOR(body, in.Interface()); err != nil {
			h.writeError(c, decodeError(err))
			return
		}
	}

	ctx := WithCaller(c.r.Context(), id)
	out, err := h.invoke(ctx, op, in.Interface())
	if err != nil {
		we, ok := resolveError(err)
		if !ok {
			h.log.ErrorContext(ctx, "operation failed", "service", c.svc.SigningName, "operation", c.op, "request_id", c.requestID, "err", err)
			we = internalFailure
		}
		h.writeError(c, we)
		return
	}
	h.writeOutput(c, out)
}

// route detects the protocol, in LocalStack's priority order (reference §4.2), and for JSON and
// CBOR the service and operation; awsQuery requests are routed later, by their credential scope.
func (h *handler) route(c *call, ct string) *wireError {
	r := c.r
	switch {
	case strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor"):
		c.proto = ProtocolCBOR
		if svcName, op, ok := cborPath(r.URL.Path); ok {
			c.svc, c.op = h.byCBOR[svcName], op
		}
	case strings.HasPrefix(ct, "application/x-amz-json-1."):
		c.proto = ProtocolJSON11
		if ct == "application/x-amz-json-1.0" {
			c.proto = ProtocolJSON10
		}
		target := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			c.svc, c.op = h.byTarget[target[:i]], target[i+1:]
		}
		if c.svc != nil {
			// Responses use the service's version whatever the request declared.
			c.proto = ProtocolJSON11
			if c.svc.JSONVersion == "1.0" {
				c.proto = ProtocolJSON10
			}
		}
	case ct == "application/x-www-form-urlencoded" || r.URL.Query().Get("Action") != "":
		c.proto = ProtocolQuery
		return nil
	default:
		c.proto = ProtocolQuery
		return &wireError{code: "UnknownOperationException", message: "Cannot determine the protocol of the request: unsupported Content-Type",
			status: http.StatusBadRequest, sender: true}
	}
	if c.svc == nil {
		e := unknownOperation(c)
		return &e
	}
	return nil
}

// queryDecodeError is the answer to a form value that does not parse as its member's type. AWS
// CloudWatch answers Period=30.0 with <Code>MalformedInput</Code> and no message (boto/boto#3530),
// which is the default; a service with its own code gets a validation-style message naming the
// member.
func queryDecodeError(svc *Service, err error) wireError {
	if svc.QueryValidationCode == "" {
		return wireError{code: "MalformedInput", status: http.StatusBadRequest, sender: true, noMessage: true}
	}
	msg := err.Error()
	var qe *queryError
	if errors.As(err, &qe) {
		msg = "1 validation error detected: " + msg
	}
	return wireError{code: svc.QueryValidationCode, message: msg, status: http.StatusBadRequest, sender: true}
}

// invoke calls the operation, turning a panic into an internal failure so that one bad request
// cannot take the listener down.
func (h *handler) invoke(ctx context.Context, op Operation, in any) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in operation: %v\n%s", p, debug.Stack())
		}
	}()
	return op.invoke(ctx, in)
}

// cborPath extracts service and operation from …/service/<svc>/operation/<op>; a prefix before
// /service/ is allowed, as Java SDK v2 sends one.
func cborPath(p string) (svc, op string, ok bool) {
	i := strings.LastIndex(p, "/service/")
	if i < 0 {
		return "", "", false
	}
	rest := p[i+len("/service/"):]
	svc, op, ok = strings.Cut(rest, "/operation/")
	if !ok || svc == "" || op == "" || strings.Contains(op, "/") {
		return "", "", false
	}
	return svc, op, true
}

// guessQueryService finds the service whose operation and version match the form; a form
// without a Version names one of the unsigned operations that may leave it out
// (Service.UnsignedParameters).
func (h *handler) guessQueryService(form url.Values) *Service {
	if !form.Has("Version") {
		for _, s := range h.services {
			if _, ok := s.UnsignedParameters[form.Get("Action")]; ok && s.QueryVersion != "" {
				return s
			}
		}
	}
	var match *Service
	for _, s := range h.services {
		if s.QueryVersion == "" {
			continue
		}
		if s.QueryVersion == form.Get("Version") && s.Operations[form.Get("Action")] != nil {
			return s
		}
		if match == nil && s.QueryVersion == form.Get("Version") {
			match = s
		}
	}
	return match
}

// unknownOperation is AWS's answer to an operation the service does not have, per protocol.
func unknownOperation(c *call) wireError {
	if c.proto == ProtocolQuery {
		msg := fmt.Sprintf("Could not find operation %s for version %s", truncate(c.op, 128), truncate(c.form.Get("Version"), 64))
		if c.op == "" {
			msg = "Could not find operation for this request"
		}
		return wireError{code: "InvalidAction", message: msg, status: http.StatusBadRequest, sender: true}
	}
	return wireError{code: "UnknownOperationException", status: http.StatusBadRequest, sender: true, noMessage: true, coral: true}
}

// readBody reads body up to limit bytes and returns it with its hex SHA-256, computed as it
// streams in. It never sizes a buffer from the client's Content-Length: the buffer grows with
// what actually arrives.
func (h *handler) readBody(body io.Reader, limit int64) ([]byte, string, *wireError) {
	var buf bytes.Buffer
	sum := sha256.New()
	if _, err := buf.ReadFrom(io.TeeReader(io.LimitReader(body, limit+1), sum)); err != nil {
		return nil, "", readError(err)
	}
	if int64(buf.Len()) > limit {
		e := h.errTooLarge()
		return nil, "", &e
	}
	return buf.Bytes(), hex.EncodeToString(sum.Sum(nil)), nil
}

// errTooLarge is the answer to a body over the limit.
func (h *handler) errTooLarge() wireError {
	return wireError{code: "RequestEntityTooLarge", message: fmt.Sprintf("Request size exceeded %d bytes", h.maxBody), status: http.StatusRequestEntityTooLarge, sender: true,
		jsonCode: "RequestEntityTooLargeException"}
}

// checkContentEncoding refuses a Content-Encoding other than gzip before anything is read.
func checkContentEncoding(hdr http.Header) *wireError {
	switch enc := strings.ToLower(strings.TrimSpace(hdr.Get("Content-Encoding"))); enc {
	case "", "identity", "gzip":
		return nil
	default:
		return &wireError{code: "UnsupportedContentEncoding", message: fmt.Sprintf("Content-Encoding %q is not supported", truncate(enc, 32)), status: http.StatusBadRequest, sender: true}
	}
}

// decodeBody returns the payload of raw, the body as transmitted (which SigV4 signs): raw itself,
// or its gzip decompression (the Go SDK compresses PutMetricData bodies of 10 KiB or more). It
// runs only on authenticated bodies. The decompressed size is bounded by the body limit; gzip's
// trailing size field, which the sender chooses, is never used to size anything.
func (h *handler) decodeBody(hdr http.Header, raw []byte) ([]byte, *wireError) {
	if !strings.EqualFold(strings.TrimSpace(hdr.Get("Content-Encoding")), "gzip") {
		return raw, nil
	}
	notGzip := &wireError{code: "SerializationException", message: "The request body is not valid gzip.", status: http.StatusBadRequest, sender: true}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, notGzip
	}
	var payload bytes.Buffer
	if _, err := payload.ReadFrom(io.LimitReader(zr, h.maxBody+1)); err != nil {
		return nil, notGzip
	}
	if int64(payload.Len()) > h.maxBody {
		return nil, &wireError{code: "RequestEntityTooLarge", message: fmt.Sprintf("The gzip request body decompresses to more than %d bytes", h.maxBody),
			status: http.StatusRequestEntityTooLarge, sender: true, jsonCode: "RequestEntityTooLargeException"}
	}
	return payload.Bytes(), nil
}

// readUnverified reads, within unverifiedDeadline, a body of at most limit bytes whose signature
// is not verified yet, charging budget for its bytes as they arrive (readCharged). It returns the
// body, its hex SHA-256 and the function that gives the bytes back to budget, which the caller
// runs once the body is verified or refused. A request that finds the budget spent for more than
// unverifiedWait is answered 503 (the SDKs retry it); one whose body does not arrive in time is
// answered 408 RequestTimeout and its connection closed.
//
// The deadline is set on the connection (http.ResponseController) and lifted once the body is in,
// so that it cannot cut the operation's own work (net/http also lifts it when it starts its
// background read at the body's end; this does not rely on that). After a failed read it stays and
// the connection is closed: net/http drains the rest of the body after the handler, and would
// otherwise wait for it without limit. It is wall-clock time, hence time.Now rather than the
// injected clock; response writers that are not connections (tests' recorders) do not support it,
// and the read then has the server's deadlines only.
func (h *handler) readUnverified(c *call, budget *byteBudget, limit int64) ([]byte, string, func(), *wireError) {
	r := c.r
	rc := http.NewResponseController(c.w)
	limited := rc.SetReadDeadline(time.Now().Add(h.unverifiedDeadline(r.ContentLength, limit))) == nil
	ch := budget.open(clientKey(r.RemoteAddr))
	raw, sum, werr := h.readCharged(r.Context(), r.Body, limit, ch)
	if werr != nil {
		ch.close()
		c.w.Header().Set("Connection", "close")
		return nil, "", nil, werr
	}
	if limited {
		_ = rc.SetReadDeadline(time.Time{})
	}
	return raw, sum, ch.close, nil
}

// The bytes of an unverified body are charged to its budget in chunks, each reserved before the
// read that fills it: the first of minChunk bytes, then as many as have arrived so far, up to
// maxChunk. A connection that sends its headers and then nothing is charged minChunk; one that
// stalls after n bytes is charged less than 2n+minChunk. Holding memory therefore costs a client
// the bandwidth to send it, while an honest body grows its chunks quickly.
const (
	minChunk = 512
	maxChunk = 64 << 10
)

// readCharged reads body up to limit bytes into chunks charged to ch, and returns the body and
// its hex SHA-256; the caller gives ch's bytes back (close), error or not. Each chunk is taken
// (from h.bodies, of exactly its size) when its bytes are reserved, so what the budget counts is
// what the chunks hold; the body is assembled from them once complete, into a buffer of h.bodies,
// and the chunks go back to it (a body of one chunk is used as it is). The caller may give the body
// back to h.bodies once nothing refers to it. It never sizes anything from the client's
// Content-Length.
func (h *handler) readCharged(ctx context.Context, body io.Reader, limit int64, ch *charge) ([]byte, string, *wireError) {
	var chunks [][]byte
	var n int64
	sum := sha256.New()
	for eof := false; !eof; {
		if n > limit {
			h.putChunks(chunks)
			e := h.errTooLarge()
			return nil, "", &e
		}
		size := min(max(n, minChunk), maxChunk, limit+1-n)
		if !ch.take(ctx, size, unverifiedWait) {
			h.putChunks(chunks)
			return nil, "", errBusy()
		}
		buf := h.bodies.getExact(int(size))
		filled := 0
		for filled < len(buf) {
			k, err := body.Read(buf[filled:])
			sum.Write(buf[filled : filled+k])
			filled += k
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				h.putChunks(append(chunks, buf))
				return nil, "", readError(err)
			}
		}
		// Give back at once what the last chunk did not use.
		ch.give(size - int64(filled))
		chunks = append(chunks, buf[:filled])
		n += int64(filled)
	}
	if n > limit {
		h.putChunks(chunks)
		e := h.errTooLarge()
		return nil, "", &e
	}
	raw := chunks[0]
	if len(chunks) > 1 {
		raw = h.bodies.get(int(n))[:0]
		for _, ch := range chunks {
			raw = append(raw, ch...)
		}
		h.putChunks(chunks)
	}
	return raw, hex.EncodeToString(sum.Sum(nil)), nil
}

// putChunks gives readCharged's chunks back to the pool.
func (h *handler) putChunks(chunks [][]byte) {
	for _, c := range chunks {
		h.bodies.put(c)
	}
}

// readError is the answer to a body that could not be read: 408 past its read deadline, 400
// otherwise.
func readError(err error) *wireError {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &wireError{code: "RequestTimeout", message: "Your socket connection to the server was not read from or written to within the timeout period.",
			status: http.StatusRequestTimeout, sender: true, jsonCode: "RequestTimeoutException"}
	}
	return &wireError{code: "IncompleteBody", message: "The request body could not be read.", status: http.StatusBadRequest, sender: true}
}

// unverifiedDeadline is the time allowed to read a body of contentLength bytes (-1 when unknown,
// then limit) before its signature is verified: Config.UnverifiedBodyTimeout plus the size at
// Config.UnverifiedBodyRate.
func (h *handler) unverifiedDeadline(contentLength, limit int64) time.Duration {
	n := contentLength
	if n < 0 || n > limit {
		n = limit
	}
	return h.bodyTimeout + time.Duration(n*int64(time.Second)/h.bodyRate)
}

// unverifiedWait is how long a read waits for budget to be given back before it is answered 503:
// long enough to ride out a burst of honest clients, whose bodies are read and verified in
// milliseconds, and short enough that waiting requests cannot pile up.
const unverifiedWait = 250 * time.Millisecond

// byteBudget bounds the bytes of bodies held before authentication: in all, and per client
// address, so that one host cannot take all of it. Each read is charged through a charge of its
// own (open), so that the budget knows what every read holds and which of them wait.
//
// Reads are charged in growing chunks and wait for the next one while holding the earlier ones:
// hold and wait. Reads that together fill a share (or the whole budget) and then all wait for
// more can only be freed by one of them giving up; left to their timers, which they started at
// about the same time, they used to give up together, so that a burst from one address (or from
// many) was refused entirely while its share could have held some of it, and the bytes taken
// were wasted. So the budget breaks such a deadlock when the read that completes it starts to
// wait: the waiting read holding least (the newest, between equals) gives up at once (503) and
// gives its bytes back, until some waiting read can go on once the reads still reading end.
type byteBudget struct {
	max, perClient int64
	mu             sync.Mutex
	total, peak    int64
	held           map[string]int64
	// freed is closed, and replaced, whenever bytes are given back, to wake the waiting reads.
	freed chan struct{}
	// waiting holds the reads waiting for bytes, by client; waitTotal and waitHeld what they
	// hold, in all and by client.
	waiting   map[string]map[*charge]struct{}
	waitTotal int64
	waitHeld  map[string]int64
	opened    uint64
}

// newByteBudget returns a budget of n bytes of which one client holds at most perClient; perClient
// 0 means half of them.
func newByteBudget(n, perClient int64) *byteBudget {
	if perClient <= 0 || perClient > n {
		perClient = max(n/2, 1)
	}
	return &byteBudget{max: n, perClient: perClient, held: map[string]int64{}, freed: make(chan struct{}),
		waiting: map[string]map[*charge]struct{}{}, waitHeld: map[string]int64{}}
}

// charge is what one read of client holds of a byteBudget. Only that read's goroutine calls its
// methods; the budget's mutex guards its fields.
type charge struct {
	b      *byteBudget
	client string
	seq    uint64 // order of open, to choose the newest read between equals
	held   int64
	// need is what the read waits for, while waiting; abort is closed when the budget chooses
	// it to give up.
	need    int64
	waiting bool
	abort   chan struct{}
}

// open returns an empty charge of client's.
func (b *byteBudget) open(client string) *charge {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opened++
	return &charge{b: b, client: client, seq: b.opened, abort: make(chan struct{})}
}

// fits reports whether n more bytes of client's are free.
func (b *byteBudget) fits(client string, n int64) bool {
	return b.total+n <= b.max && b.held[client]+n <= b.perClient
}

// add charges n bytes to c.
func (b *byteBudget) add(c *charge, n int64) {
	b.total += n
	b.held[c.client] += n
	b.peak = max(b.peak, b.total)
	c.held += n
}

// take takes n bytes for c's read, waiting at most wait for them: past the budget, clients are
// answered at once (and retry, as the SDKs do on 503) rather than queued without bound. It
// returns false too when the budget chooses c to give up, to break a deadlock of waiting reads.
func (c *charge) take(ctx context.Context, n int64, wait time.Duration) bool {
	b := c.b
	b.mu.Lock()
	if b.fits(c.client, n) {
		b.add(c, n)
		b.mu.Unlock()
		return true
	}
	b.startWait(c, n)
	freed := b.freed
	b.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		over := false
		select {
		case <-freed:
		case <-c.abort:
		case <-t.C:
			over = true
		case <-ctx.Done():
			over = true
		}
		b.mu.Lock()
		switch {
		case !c.waiting: // chosen to give up
			b.mu.Unlock()
			return false
		case b.fits(c.client, n):
			b.stopWait(c)
			b.add(c, n)
			b.mu.Unlock()
			return true
		case over:
			b.stopWait(c)
			b.mu.Unlock()
			return false
		}
		freed = b.freed
		b.mu.Unlock()
	}
}

// give returns n of c's bytes.
func (c *charge) give(n int64) {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	c.b.give(c, n)
}

// close returns every byte c holds; the read runs it once it no longer holds its body, and may
// run it again.
func (c *charge) close() {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	c.b.give(c, c.held)
}

// give returns n of c's bytes and wakes the waiting reads.
func (b *byteBudget) give(c *charge, n int64) {
	if n <= 0 {
		return
	}
	c.held -= n
	b.total -= n
	if b.held[c.client] -= n; b.held[c.client] <= 0 {
		delete(b.held, c.client)
	}
	close(b.freed)
	b.freed = make(chan struct{})
}

// startWait records c as waiting for n bytes and breaks the deadlock this may complete: waiting
// is the only change that can make one (giving bytes back, and a waiting read going on or giving
// up, leave fewer bytes held by waiting reads).
func (b *byteBudget) startWait(c *charge, n int64) {
	c.waiting, c.need = true, n
	if b.waiting[c.client] == nil {
		b.waiting[c.client] = map[*charge]struct{}{}
	}
	b.waiting[c.client][c] = struct{}{}
	b.waitTotal += c.held
	b.waitHeld[c.client] += c.held
	for {
		v := b.deadlocked(c.client)
		if v == nil {
			return
		}
		b.stopWait(v)
		close(v.abort)
	}
}

// stopWait records that c no longer waits.
func (b *byteBudget) stopWait(c *charge) {
	c.waiting = false
	delete(b.waiting[c.client], c)
	if len(b.waiting[c.client]) == 0 {
		delete(b.waiting, c.client)
	}
	b.waitTotal -= c.held
	if b.waitHeld[c.client] -= c.held; b.waitHeld[c.client] <= 0 {
		delete(b.waitHeld, c.client)
	}
}

// deadlocked returns the read that must give up when no waiting read of client could go on even
// once every read that is not waiting has ended (client's share is held by its waiting reads), or
// when no waiting read at all could (the budget is): the one of them holding least, the newest
// between equals. A read holding nothing frees nothing by giving up; it waits for its timer.
func (b *byteBudget) deadlocked(client string) *charge {
	if v, stuck := b.victim(b.waiting[client], false); stuck {
		return v
	}
	// Every chunk is at most maxChunk: while that much is free of waiting reads, any of them fits
	// the budget once the others end, and is held back by its client's share alone.
	if b.waitTotal+maxChunk <= b.max {
		return nil
	}
	var v *charge
	for _, reads := range b.waiting {
		w, stuck := b.victim(reads, true)
		if !stuck {
			return nil
		}
		if w != nil && (v == nil || w.held < v.held || (w.held == v.held && w.seq > v.seq)) {
			v = w
		}
	}
	return v
}

// victim reports whether none of reads (all of one client's) could go on once the reads that
// are not waiting end, within their client's share (and, with total, within the budget), and
// then returns the one holding least, the newest between equals, or nil when none holds
// anything.
func (b *byteBudget) victim(reads map[*charge]struct{}, total bool) (v *charge, stuck bool) {
	for w := range reads {
		if (!total || b.waitTotal+w.need <= b.max) && b.waitHeld[w.client]+w.need <= b.perClient {
			return nil, false
		}
		if w.held > 0 && (v == nil || w.held < v.held || (w.held == v.held && w.seq > v.seq)) {
			v = w
		}
	}
	return v, len(reads) > 0
}

// clientKey names the client of a request for the per-client limit: its IP address, or for IPv6
// its /64, which one host usually has whole. Behind a reverse proxy every request has the proxy's
// address, so the proxy's clients share one client's share of the budget.
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// errBusy is the answer when the budget of unverified bodies is spent: 503, which both SDKs retry
// with backoff.
func errBusy() *wireError {
	return &wireError{code: "ServiceUnavailable", message: "Too many request bodies are being read before authentication; retry later.",
		status: http.StatusServiceUnavailable, sender: false, jsonCode: "ServiceUnavailableException", coral: true}
}
