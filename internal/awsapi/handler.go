package awsapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// defaultMaxBody is the request body limit when Config.MaxBodyBytes is 0. PutLogEvents, the
// largest request, is at most 1 MiB of messages plus JSON overhead.
const defaultMaxBody = 10 << 20

// handler serves every configured service.
type handler struct {
	services []*Service
	byTarget map[string]*Service // awsJson X-Amz-Target prefix
	byCBOR   map[string]*Service // CBOR service shape name
	bySign   map[string]*Service // SigV4 signing name
	creds    Credentials
	now      func() time.Time
	log      *slog.Logger
	maxBody  int64
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
		maxBody:  cfg.MaxBodyBytes,
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
	form      url.Values // awsQuery parameters, URL and body
	status    int        // the status written, for the request log
}

// newRequestID returns a request id: a random (version 4) UUID, as AWS's x-amzn-RequestId.
func newRequestID() string { return uuid.NewString() }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, requestID: newRequestID(), queryMode: strings.EqualFold(r.Header.Get("X-Amzn-Query-Mode"), "true")}
	start := h.now()
	defer func() {
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
	w.Header().Set("x-amzn-RequestId", c.requestID)

	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && r.URL.Query().Get("Action") != "") {
		c.proto = ProtocolQuery
		h.writeError(c, wireError{code: "MethodNotAllowed", message: "The requested method is not allowed for this resource.", status: http.StatusMethodNotAllowed, sender: true})
		return
	}

	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if werr := h.route(c, ct); werr != nil {
		h.writeError(c, *werr)
		return
	}

	raw, body, werr := h.readBody(r)
	if werr != nil {
		h.writeError(c, *werr)
		return
	}

	auth, aerr := parseSigV4(r.Header, r.URL.Query())
	if c.proto == ProtocolQuery {
		// Query requests are routed by the credential scope, and their form is parsed only once
		// the signature holds, so that unauthenticated bodies cannot make the server build large
		// forms. Without a usable scope, a small form decides which service answers (unsigned
		// operations, and the namespace of the error).
		if auth != nil {
			c.svc = h.bySign[auth.service]
		}
		if c.svc == nil && len(body) <= maxUnsignedForm {
			if werr := c.parseForm(ct, body); werr != nil {
				h.writeError(c, *werr)
				return
			}
			c.svc = h.guessQueryService(c.form)
		}
	}
	if aerr != nil {
		if aerr.code == "MissingAuthenticationToken" && c.svc != nil && slices.Contains(c.svc.UnsignedOperations, c.op) {
			h.serveOperation(c, body, Identity{RequestID: c.requestID, Protocol: c.proto})
			return
		}
		h.writeError(c, *aerr)
		return
	}
	if c.svc == nil {
		h.writeError(c, errSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", truncate(auth.service, 64))))
		return
	}
	account, aerr := verifySigV4(r.Context(), auth, r, raw, h.creds, c.svc.SigningName, h.now())
	if aerr != nil {
		h.writeError(c, *aerr)
		return
	}
	if c.proto == ProtocolQuery && c.form == nil {
		if werr := c.parseForm(ct, body); werr != nil {
			h.writeError(c, *werr)
			return
		}
	}

	h.serveOperation(c, body, Identity{AccountID: account, Region: auth.region, AccessKeyID: auth.accessKeyID, RequestID: c.requestID, Protocol: c.proto})
}

// maxUnsignedForm bounds the awsQuery body parsed before authentication.
const maxUnsignedForm = 64 << 10

// parseForm collects the awsQuery parameters from the URL and a form body.
func (c *call) parseForm(ct string, body []byte) *wireError {
	c.form = c.r.URL.Query()
	if ct == "application/x-www-form-urlencoded" {
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
	case c.proto == ProtocolQuery && form.Get("Version") != c.svc.QueryVersion:
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

// guessQueryService finds the service whose operation and version match the form.
func (h *handler) guessQueryService(form url.Values) *Service {
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

// readBody reads the body within the size limit. It returns the bytes as transmitted (which SigV4
// signs) and the decoded payload, which differ when the client gzip-compressed the body (the Go SDK
// compresses PutMetricData bodies of 10 KiB or more).
func (h *handler) readBody(r *http.Request) (_, _ []byte, werr *wireError) {
	tooLarge := &wireError{code: "RequestEntityTooLarge", message: fmt.Sprintf("Request size exceeded %d bytes", h.maxBody), status: http.StatusRequestEntityTooLarge, sender: true,
		jsonCode: "RequestEntityTooLargeException"}
	unreadable := &wireError{code: "IncompleteBody", message: "The request body could not be read.", status: http.StatusBadRequest, sender: true}
	if r.ContentLength > h.maxBody {
		return nil, nil, tooLarge
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBody+1)); err != nil {
		return nil, nil, unreadable
	}
	raw := buf.Bytes()
	if int64(len(raw)) > h.maxBody {
		return nil, nil, tooLarge
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, nil, &wireError{code: "SerializationException", message: "The request body is not valid gzip.", status: http.StatusBadRequest, sender: true}
		}
		payload, err := io.ReadAll(io.LimitReader(zr, h.maxBody+1))
		if err != nil {
			return nil, nil, &wireError{code: "SerializationException", message: "The request body is not valid gzip.", status: http.StatusBadRequest, sender: true}
		}
		if int64(len(payload)) > h.maxBody {
			return nil, nil, tooLarge
		}
		return raw, payload, nil
	default:
		return nil, nil, &wireError{code: "UnsupportedContentEncoding", message: fmt.Sprintf("Content-Encoding %q is not supported", truncate(enc, 32)), status: http.StatusBadRequest, sender: true}
	}
}
