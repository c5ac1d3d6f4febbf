package awsapi

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// amzDateLayout is the ISO 8601 basic format of X-Amz-Date.
const amzDateLayout = "20060102T150405Z"

// maxClockSkew is how far the request time may be from the server clock. AWS's common window is
// five minutes (observed in Lambda, CodeDeploy and other services' "Signature expired" messages);
// the window of monitoring, logs and sns was not observed, so the conservative value is used.
const maxClockSkew = 5 * time.Minute

// sigV4Auth is a parsed SigV4 authorization, from the Authorization header or a presigned URL.
type sigV4Auth struct {
	accessKeyID   string
	date          string // YYYYMMDD of the scope
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
	amzDate       string
	presigned     bool
	expires       int64 // presigned X-Amz-Expires seconds
}

// parseSigV4 extracts the SigV4 elements of r. It returns errMissingAuth when the request carries
// no SigV4 authorization at all.
func parseSigV4(h http.Header, query url.Values) (*sigV4Auth, *wireError) {
	if authz := h.Get("Authorization"); authz != "" {
		return parseAuthorizationHeader(authz, h.Get("X-Amz-Date"))
	}
	if query.Get("X-Amz-Signature") != "" || query.Get("X-Amz-Credential") != "" {
		return parsePresigned(query)
	}
	e := errMissingAuth()
	return nil, &e
}

func parseAuthorizationHeader(authz, amzDate string) (*sigV4Auth, *wireError) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
	if alg != "AWS4-HMAC-SHA256" {
		e := errIncompleteSignature(fmt.Sprintf("Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=%s", truncate(authz, 200)))
		if !strings.HasPrefix(alg, "AWS4-") {
			e = errMissingAuth()
		}
		return nil, &e
	}
	a := &sigV4Auth{amzDate: amzDate}
	var cred, signed string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			a.signature, haveSig = v, true
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if amzDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		e := errIncompleteSignature(strings.Join(missing, " ") + " Authorization=" + truncate(authz, 200))
		return nil, &e
	}
	if err := a.setCredential(cred); err != nil {
		return nil, err
	}
	a.signedHeaders = strings.Split(signed, ";")
	return a, nil
}

func parsePresigned(q url.Values) (*sigV4Auth, *wireError) {
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		e := errIncompleteSignature("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
		return nil, &e
	}
	a := &sigV4Auth{presigned: true, amzDate: q.Get("X-Amz-Date"), signature: q.Get("X-Amz-Signature")}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			e := errIncompleteSignature(fmt.Sprintf("AWS query-string parameters must include '%s'. Re-examine the query-string parameters.", k))
			return nil, &e
		}
	}
	exp, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || exp < 0 || exp > 7*24*3600 {
		e := errIncompleteSignature("X-Amz-Expires must be a number of seconds between 0 and 604800")
		return nil, &e
	}
	a.expires = exp
	if werr := a.setCredential(q.Get("X-Amz-Credential")); werr != nil {
		return nil, werr
	}
	a.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	return a, nil
}

// setCredential parses AKID/date/region/service/aws4_request.
func (a *sigV4Auth) setCredential(cred string) *wireError {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" {
		e := errIncompleteSignature(fmt.Sprintf("Credential should have exactly 5 slash-delimited elements, e.g. keyId/date/region/service/term, got '%s'", truncate(cred, 200)))
		return &e
	}
	a.accessKeyID, a.date, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// validRegion reports whether r looks like a region name. Real regions are e.g. us-east-1; custom
// names of local tools ("local", "dev") are accepted too, since each region is just a scope here.
func validRegion(r string) bool {
	if r == "" || len(r) > 32 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// sdkIgnoredHeaders are headers the aws-sdk-go-v2 signer never signs. A client that signed one of
// them cannot be verified through that signer and is answered with a signature mismatch; none of
// the supported clients (botocore, aws-sdk-go-v2) signs them.
var sdkIgnoredHeaders = map[string]bool{"authorization": true, "user-agent": true, "x-amzn-trace-id": true, "expect": true, "transfer-encoding": true}

// emptyPayloadHash is the SHA-256 of the empty body: the payload hash of every presigned request.
// botocore's SigV4QueryAuth (auth.py: SigV4Auth.payload, which it inherits; only the S3 variants
// use UNSIGNED-PAYLOAD) and aws-sdk-go-v2's presign clients (the ComputePayloadSHA256 middleware
// after the body moved into the query) both sign it, as AWS's non-S3 services expect.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// verifiedKey is what checkAuth found for a request before its signature is compared.
type verifiedKey struct {
	secret  string
	account string
	time    time.Time
}

// checkAuth runs every check of a that needs neither the payload nor the secret's signature: the
// date and its skew (or a presigned URL's expiry), the credential scope against signingName (the
// service the request was routed to), and that the key exists. It runs before any body is read, so
// that a client without a known key and a fresh scope never gets its body read.
func checkAuth(a *sigV4Auth, creds Credentials, signingName string, now time.Time) (verifiedKey, *wireError) {
	fail := func(e wireError) (verifiedKey, *wireError) { return verifiedKey{}, &e }

	t, err := time.Parse(amzDateLayout, a.amzDate)
	if err != nil {
		return fail(errIncompleteSignature(fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", truncate(a.amzDate, 64))))
	}
	if a.terminator != "aws4_request" {
		return fail(errSignature(fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(a.terminator, 64))))
	}
	if a.date != t.Format("20060102") {
		return fail(errSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", truncate(a.date, 64), t.Format("20060102"), a.amzDate)))
	}
	if !validRegion(a.region) {
		return fail(errSignature(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", truncate(a.region, 64))))
	}
	if a.service != signingName {
		return fail(errSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", signingName)))
	}
	secret, account, ok := creds.Lookup(a.accessKeyID)
	if !ok {
		return fail(errUnknownKey())
	}
	now = now.UTC()
	if a.presigned {
		if now.After(t.Add(time.Duration(a.expires) * time.Second)) {
			return fail(errSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d sec.)",
				t.Add(time.Duration(a.expires)*time.Second).Format(amzDateLayout), now.Format(amzDateLayout), now.Format(amzDateLayout), a.expires)))
		}
	}
	if t.Before(now.Add(-maxClockSkew)) && !a.presigned {
		return fail(errSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			a.amzDate, now.Add(-maxClockSkew).Format(amzDateLayout), now.Format(amzDateLayout))))
	}
	if t.After(now.Add(maxClockSkew)) {
		return fail(errSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			a.amzDate, now.Add(maxClockSkew).Format(amzDateLayout), now.Format(amzDateLayout))))
	}
	return verifiedKey{secret: secret, account: account, time: t}, nil
}

// routingHeaders are the headers that decide which operation a request calls and how its body is
// read. A header-signed request that carries one must have signed it, or a captured request could
// be turned into another operation (X-Amz-Target) or protocol. botocore signs every header but
// hop-by-hop ones, expect, user-agent and x-amzn-trace-id (auth.py SIGNED_HEADERS_BLACKLIST, in
// botocore 1.43 and in the aws CLI v2's copy) and aws-sdk-go-v2 every header but authorization,
// user-agent, x-amzn-trace-id, expect and transfer-encoding (v4 IgnoredHeaders), so every
// supported client (both SDKs and the aws CLI v1 and v2, which run on botocore) signs them.
var routingHeaders = []string{"content-type", "x-amz-target", "smithy-protocol"}

// checkSignedHeaders requires every routing header r carries to be among a's signed headers.
func checkSignedHeaders(a *sigV4Auth, h http.Header) *wireError {
	for _, name := range routingHeaders {
		if _, present := h[http.CanonicalHeaderKey(name)]; present && !slices.Contains(a.signedHeaders, name) {
			e := errSignature(fmt.Sprintf("'%s' must be a 'SignedHeader' in the AWS Authorization.", http.CanonicalHeaderKey(name)))
			return &e
		}
	}
	return nil
}

// verifySignature compares a's signature with the one computed over payloadHash. It answers the
// generic mismatch, as AWS does, whatever part of the request differs.
func verifySignature(ctx context.Context, a *sigV4Auth, r *http.Request, payloadHash string, k verifiedKey) *wireError {
	ok, werr := signatureMatches(ctx, a, r, payloadHash, k.secret, k.time)
	if werr != nil {
		return werr
	}
	if !ok {
		e := errSignature(badSignatureMessage)
		return &e
	}
	return nil
}

// isSHA256Hex reports whether s is a hex SHA-256 digest, the only payload hash accepted in
// X-Amz-Content-Sha256: every client of these services signs the payload (see authenticate).
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// signatureMatches compares the client's signature with the one computed for payloadHash, in
// constant time.
func signatureMatches(ctx context.Context, a *sigV4Auth, r *http.Request, payloadHash, secret string, t time.Time) (bool, *wireError) {
	want, werr := expectedSignature(ctx, a, r, payloadHash, secret, t)
	if werr != nil {
		return false, werr
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) == 1, nil
}

// expectedSignature recomputes the signature with aws-sdk-go-v2's signer over a reconstruction of
// r that carries exactly the headers the client signed.
func expectedSignature(ctx context.Context, a *sigV4Auth, r *http.Request, payloadHash, secret string, t time.Time) (string, *wireError) {
	hasHost := false
	for _, h := range a.signedHeaders {
		if h == "host" {
			hasHost = true
		}
		if sdkIgnoredHeaders[h] {
			e := errSignature(badSignatureMessage)
			return "", &e
		}
	}
	if !hasHost {
		e := errSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
		return "", &e
	}

	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if a.presigned {
		q := r.URL.Query()
		for _, k := range []string{"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Date", "X-Amz-SignedHeaders"} {
			q.Del(k)
		}
		u.RawQuery = q.Encode()
	}
	req := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, h := range a.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
			if v := r.Header.Get("Content-Length"); v != "" {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					req.ContentLength = n
				}
			}
		default:
			if vals, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
				req.Header[http.CanonicalHeaderKey(h)] = vals
			} else {
				req.Header[h] = nil // signed but absent: not reproducible, fails the comparison
			}
		}
	}

	creds := aws.Credentials{AccessKeyID: a.accessKeyID, SecretAccessKey: secret}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableSessionToken = true; o.DisableHeaderHoisting = true })
	if a.presigned {
		signed, _, err := signer.PresignHTTP(ctx, creds, req, payloadHash, a.service, a.region, t)
		if err != nil {
			e := errSignature(badSignatureMessage)
			return "", &e
		}
		su, err := url.Parse(signed)
		if err != nil {
			e := errSignature(badSignatureMessage)
			return "", &e
		}
		return su.Query().Get("X-Amz-Signature"), nil
	}
	if err := signer.SignHTTP(ctx, creds, req, payloadHash, a.service, a.region, t); err != nil {
		e := errSignature(badSignatureMessage)
		return "", &e
	}
	_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	return sig, nil
}
