package awsapi

import (
	"context"
	"log/slog"
	"reflect"
	"time"
)

// Service describes one AWS service served on the shared endpoint. A Service is read-only once
// passed to NewHandler.
type Service struct {
	// SigningName is the SigV4 service name ("logs", "monitoring", "sns", "cloudtrail"). The
	// credential scope of every request must name it; awsQuery requests are routed by it.
	SigningName string
	// TargetPrefixes are the X-Amz-Target prefixes accepted for awsJson, e.g. "Logs_20140328" or
	// "GraniteServiceVersion20100801"; a service known under several spellings (CloudTrail) lists
	// them all. Empty means awsJson is not offered.
	TargetPrefixes []string
	// JSONVersion is "1.0" or "1.1": the Content-Type of JSON responses
	// (application/x-amz-json-<v>). Requests of either version are accepted.
	JSONVersion string
	// CBORService is the Smithy service shape name used in RPC v2 CBOR paths
	// (/service/<name>/operation/<Op>); "" means CBOR is not offered.
	CBORService string
	// QueryVersion is the awsQuery Version parameter, e.g. "2010-08-01"; "" means awsQuery is not
	// offered.
	QueryVersion string
	// XMLNamespace is the xmlns of awsQuery responses and errors, e.g.
	// "http://monitoring.amazonaws.com/doc/2010-08-01/".
	XMLNamespace string
	// QueryCompatible marks an @awsQueryCompatible service (CloudWatch): JSON and CBOR errors carry
	// the x-amzn-query-error header, and their status is 400 for client errors unless the request
	// sent X-Amzn-Query-Mode: true, in which case it is the modeled status.
	QueryCompatible bool
	// ErrorNamespace prefixes the __type of JSON and CBOR errors ("<ErrorNamespace>#<Code>"), e.g.
	// "com.amazonaws.cloudwatch.v2010_08_01". Empty sends the bare code, as CloudWatch Logs does.
	ErrorNamespace string
	// ErrorShapes maps an error code returned by a handler (for query-compatible services the
	// awsQuery code, e.g. "InvalidParameterValue") to the modeled error shape sent as the JSON/CBOR
	// __type, e.g. "InvalidParameterValueException" or, with a namespace of its own,
	// "com.amazon.coral.validate#ValidationException". Codes not listed are sent as they are.
	ErrorShapes map[string]string
	// QueryValidationCode is the awsQuery error code for a form value that does not parse as its
	// member's type, sent with a message naming the member. "" means AWS CloudWatch's answer:
	// MalformedInput without a message.
	QueryValidationCode string
	// UnsignedOperations lists operations that may be called without SigV4, such as SNS's
	// ConfirmSubscription, which subscribers call by visiting the unsigned SubscribeURL. A signed
	// request to them is still verified. Unsigned calls carry an Identity with only RequestID and
	// Protocol set; the handler must derive the scope from its input (the TopicArn).
	UnsignedOperations []string
	// UnsignedParameters, when it lists an unsigned operation, holds the only awsQuery
	// parameters (besides Action and an optional Version) an unsigned call of it may carry: an
	// unsigned call with any other parameter is refused for its missing signature, as any other
	// unsigned request is. SNS's links carry no Version ("?Action=ConfirmSubscription&TopicArn=…
	// &Token=…"), so an unsigned call of a listed operation may leave it out.
	UnsignedParameters map[string][]string
	// Operations maps operation names (PascalCase, as in the API reference) to handlers.
	Operations map[string]Operation
}

// Operation is a typed operation handler adapted by Op. Its methods are unexported so that every
// operation goes through Op and its shapes are checked once, at NewHandler.
type Operation interface {
	inputType() reflect.Type
	outputType() reflect.Type
	invoke(ctx context.Context, in any) (any, error)
}

// Op adapts a typed handler. In and Out are structs whose fields carry `json:"MemberName,omitempty"`
// tags naming the AWS member (PascalCase for monitoring and SNS, camelCase for logs); every protocol
// uses the same name (JSON key, CBOR key, query form key, XML element). Optional members are
// pointers. Out may be struct{} for operations without output; a nil *Out with a nil error is sent
// as an empty output.
func Op[In, Out any](fn func(ctx context.Context, in *In) (*Out, error)) Operation {
	return typedOp[In, Out]{fn: fn}
}

type typedOp[In, Out any] struct {
	fn func(ctx context.Context, in *In) (*Out, error)
}

func (typedOp[In, Out]) inputType() reflect.Type  { return reflect.TypeFor[In]() }
func (typedOp[In, Out]) outputType() reflect.Type { return reflect.TypeFor[Out]() }

func (o typedOp[In, Out]) invoke(ctx context.Context, in any) (any, error) {
	out, err := o.fn(ctx, in.(*In))
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = new(Out)
	}
	return out, nil
}

// Time is a timestamp member. It travels as epoch seconds printed as a Java double
// (1.764183600123E9) in awsJson, as CBOR tag 1 around a float64 in RPC v2 CBOR and as ISO 8601 in
// awsQuery and XML, with milliseconds only when they are not zero (2025-11-26T19:00:00.123Z,
// 2025-11-26T19:00:00Z). CloudWatch Logs timestamps are plain int64 epoch milliseconds in its model
// and do not use Time.
type Time struct{ time.Time }

// EmptyResult is the output of an operation whose model has an output shape without members, such
// as CloudWatch's TagResource (TagResourceOutput). awsQuery sends such a shape as an empty
// <TagResourceResult/> element, which botocore's query parser requires (it raises
// KeyError: 'TagResourceResult' without it); an operation without an output shape (PutMetricAlarm)
// returns *struct{} instead and gets no result element. JSON and CBOR send {}.
type EmptyResult struct{}

// emptyResultType marks EmptyResult for the XML encoder.
var emptyResultType = reflect.TypeFor[EmptyResult]()

// Protocol names the wire protocol a request arrived in.
type Protocol string

// The protocols served, named as in Smithy.
const (
	ProtocolQuery  Protocol = "awsQuery"
	ProtocolJSON10 Protocol = "awsJson1_0"
	ProtocolJSON11 Protocol = "awsJson1_1"
	ProtocolCBOR   Protocol = "rpcv2Cbor"
)

// Identity is the verified caller of a request: every resource is scoped by its AccountID and
// Region.
type Identity struct {
	AccountID   string
	Region      string
	AccessKeyID string
	// RequestID is the id sent back in x-amzn-RequestId / <RequestId>; handlers may use it in
	// messages and logs.
	RequestID string
	Protocol  Protocol
}

type identityKey struct{}

// Caller returns the identity of the request being served. It is the zero Identity outside a
// request served by NewHandler's handler.
func Caller(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// WithCaller returns a context carrying id, so that handlers can be called directly in tests and by
// internal callers (such as the alarm scheduler acting for an account) with a known identity.
func WithCaller(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Credentials resolves access keys. Lookup returns the secret key and the account the key belongs
// to; ok is false for an unknown key.
type Credentials interface {
	Lookup(accessKeyID string) (secret, accountID string, ok bool)
}

// Config configures NewHandler.
type Config struct {
	Services    []*Service
	Credentials Credentials
	// Now is the clock for SigV4 skew checks and the Date header; nil means time.Now.
	Now func() time.Time
	// Logger receives internal failures; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds the request body, as transmitted and after gzip decompression; 0 means
	// 10 MiB.
	MaxBodyBytes int64
	// MaxUnverifiedBytes bounds the bytes of signed request bodies held before their signature is
	// verified (clients of these services sign the payload's hash without declaring it, so the body
	// must be read to be checked); 0 means 256 MiB. Bodies are charged as their bytes arrive, in
	// chunks reserved before each read (a connection that sends headers and then nothing is charged
	// 512 bytes), and give their bytes back once verified or refused; a read that finds the budget
	// spent waits briefly for bytes to be given back, then is answered 503 ServiceUnavailable.
	// Requests that cannot be verified at all (no Authorization) have a budget of their own, 2 MiB
	// of bodies of at most 64 KiB, so they never take this one. It should be well above
	// MaxBodyBytes: a body larger than a client's share can never be read.
	MaxUnverifiedBytes int64
	// MaxUnverifiedBytesPerClient bounds the bytes of MaxUnverifiedBytes one client address (an
	// IPv6 /64) holds at once; 0 means half of them.
	MaxUnverifiedBytesPerClient int64
	// UnverifiedBodyTimeout and UnverifiedBodyRate set the deadline of a body read before its
	// signature is verified: UnverifiedBodyTimeout (0 means 5 s) plus its size at
	// UnverifiedBodyRate bytes per second (0 means 256 KiB/s), the whole limit when the size is
	// not declared. A body that does not arrive in time is answered 408 RequestTimeout.
	UnverifiedBodyTimeout time.Duration
	UnverifiedBodyRate    int64
	// Anonymous, when set, is the budget of bodies read for requests that cannot be verified,
	// shared with the application's other unauthenticated routes (the receiver endpoints); nil
	// means a budget of the handler's own.
	Anonymous *AnonymousBodies
	// OnRequest, when non-nil, is told of every request once it is answered (the application's
	// request metrics). It runs on the request's goroutine and must not block.
	OnRequest func(RequestInfo)
}

// RequestInfo describes an answered request to Config.OnRequest. Service and Operation are as
// the client named them: Service is "" when the request did not resolve to a served service, and
// Operation may name an operation the service does not have, so a consumer that labels by them
// must bound them (Known tells whether the service implements Operation).
type RequestInfo struct {
	Service   string // the service's SigV4 signing name, "" when unknown
	Operation string
	Known     bool // Service implements Operation
	Status    int  // the HTTP status written
	Duration  time.Duration
}
