package awsapi_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestSigV4(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	const listTopics = "Action=ListTopics&Version=2010-03-31"
	withSign := func(f func(*rawReq)) rawReq {
		r := formReq("sns", listTopics)
		f(&r)
		return r
	}
	tests := []struct {
		name    string
		req     rawReq
		status  int
		code    string
		message string
	}{
		{"good", formReq("sns", listTopics), 200, "", ""},
		{"good within skew (past)", withSign(func(r *rawReq) { r.signAt = fixedNow.Add(-4*time.Minute - 59*time.Second) }), 200, "", ""},
		{"good within skew (future)", withSign(func(r *rawReq) { r.signAt = fixedNow.Add(5 * time.Minute) }), 200, "", ""},
		{"region comes from the scope", withSign(func(r *rawReq) { r.region = "eu-central-1" }), 200, "", ""},
		{"tampered body", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				b := []byte(listTopics + "&NextToken=x")
				req.Body, req.ContentLength = http.NoBody, int64(len(b))
				req.Body = readCloser(b)
			}
		}), 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
		{"tampered signed header", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) { req.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
		}), 403, "SignatureDoesNotMatch", ""},
		{"tampered path", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) { req.URL.Path = "/other" }
		}), 403, "SignatureDoesNotMatch", ""},
		{"tampered date", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) { req.Header.Set("X-Amz-Date", "20251126T190001Z") }
		}), 403, "SignatureDoesNotMatch", ""},
		{"unsigned header added is fine", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) { req.Header.Set("X-Extra", "1"); req.Header.Set("User-Agent", "other") }
		}), 200, "", ""},
		{"wrong secret", withSign(func(r *rawReq) { r.key, r.secret = testAccessKey, "nope" }), 403, "SignatureDoesNotMatch", ""},
		{"expired", withSign(func(r *rawReq) { r.signAt = fixedNow.Add(-6 * time.Minute) }), 403, "SignatureDoesNotMatch",
			"Signature expired: 20251126T185400Z is now earlier than 20251126T185500Z (20251126T190000Z - 5 min.)"},
		{"not yet current", withSign(func(r *rawReq) { r.signAt = fixedNow.Add(5*time.Minute + time.Second) }), 403, "SignatureDoesNotMatch",
			"Signature not yet current: 20251126T190501Z is still later than 20251126T190500Z (20251126T190000Z + 5 min.)"},
		{"scope for another service", withSign(func(r *rawReq) { r.service = "monitoring" }), 400, "InvalidAction", ""},                                                            // routed to monitoring, which has no ListTopics
		{"scope for an unknown service", withSign(func(r *rawReq) { r.service = "sts" }), 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sns'. "}, // the service whose Action and Version match
		{"invalid region", withSign(func(r *rawReq) { r.region = "US EAST" }), 403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not 'US EAST'. "},
		{"scope date differs from X-Amz-Date", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20251126/", "/20251125/", 1))
			}
		}), 403, "SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251125' != '20251126', from '20251126T190000Z'."},
		{"bad terminator", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
			}
		}), 403, "SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{"host not signed", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;", 1))
			}
		}), 403, "SignatureDoesNotMatch", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"no X-Amz-Date", withSign(func(r *rawReq) { r.tamper = func(req *http.Request) { req.Header.Del("X-Amz-Date") } }), 400, "IncompleteSignature", ""},
		{"malformed credential", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20251126, SignedHeaders=host, Signature=00")
			}
		}), 400, "IncompleteSignature", "Credential should have exactly 5 slash-delimited elements, e.g. keyId/date/region/service/term, got 'AKID/20251126'"},
		{"missing signature", withSign(func(r *rawReq) {
			r.tamper = func(req *http.Request) {
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDTRAILWATCHTEST/20251126/us-east-1/sns/aws4_request, SignedHeaders=host")
			}
		}), 400, "IncompleteSignature", ""},
		{"other scheme", withSign(func(r *rawReq) { r.tamper = func(req *http.Request) { req.Header.Set("Authorization", "Bearer x") } }), 403, "MissingAuthenticationToken", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.req)
			if r.status != tt.status {
				t.Errorf("status = %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.code == "" {
				return
			}
			q := parseQueryErr(t, r)
			if q.Error.Code != tt.code {
				t.Errorf("code = %q, want %q (%s)", q.Error.Code, tt.code, r.body)
			}
			if tt.message != "" && (q.Error.Message == nil || *q.Error.Message != tt.message) {
				t.Errorf("message = %v, want %q", strPtr(q.Error.Message), tt.message)
			}
		})
	}
}

func strPtr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestSigV4Variants covers signing forms real clients use: an unsigned-payload hash, a session
// token, a presigned URL and a pre-computed X-Amz-Content-Sha256.
func TestSigV4Variants(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	signer := v4.NewSigner()
	send := func(req *http.Request) int {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := "Action=ListTopics&Version=2010-03-31"
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}

	// No client of these services sends UNSIGNED-PAYLOAD (see authenticate); a signature that
	// covers no body is refused.
	req := newReq()
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := signer.SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "sns", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := send(req); got != 403 {
		t.Errorf("UNSIGNED-PAYLOAD = %d, want 403", got)
	}

	req = newReq()
	tokenCreds := creds
	tokenCreds.SessionToken = "session-token"
	if err := signer.SignHTTP(context.Background(), tokenCreds, req, sha256Hex(body), "sns", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Amz-Security-Token") == "" {
		t.Fatal("signer did not add the token")
	}
	if got := send(req); got != 200 {
		t.Errorf("session token = %d", got)
	}

	req = newReq()
	req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	if err := signer.SignHTTP(context.Background(), creds, req, sha256Hex(body), "sns", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := send(req); got != 200 {
		t.Errorf("X-Amz-Content-Sha256 = %d", got)
	}

	// Presigned GET (the query parameters carry the signature), over the empty payload's hash as
	// every non-S3 presigner signs it.
	presign := func(at time.Time, expires string) string {
		q := url.Values{"Action": {"ListTopics"}, "Version": {"2010-03-31"}, "X-Amz-Expires": {expires}}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/?"+q.Encode(), nil)
		u, _, err := signer.PresignHTTP(context.Background(), creds, req, sha256Hex(""), "sns", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(u string) int {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return send(req)
	}
	if got := get(presign(fixedNow.Add(-time.Minute), "300")); got != 200 {
		t.Errorf("presigned = %d", got)
	}
	if got := get(presign(fixedNow.Add(-10*time.Minute), "300")); got != 403 {
		t.Errorf("expired presigned = %d", got)
	}
	if got := get(presign(fixedNow.Add(-10*time.Minute), "900")); got != 200 {
		t.Errorf("presigned with long expiry = %d", got)
	}
	if got := get(strings.Replace(presign(fixedNow, "300"), "Action=ListTopics", "Action=CreateTopic", 1)); got != 403 {
		t.Errorf("tampered presigned = %d", got)
	}
}

// TestSigV4PayloadHash covers the payload hash forms: a header that lies about the body, and a
// signature over UNSIGNED-PAYLOAD sent without the header, which no client of these services sends
// (botocore and aws-sdk-go-v2 skip payload signing on TLS for S3 only) and which is refused.
func TestSigV4PayloadHash(t *testing.T) {
	e := newTestEnv(t, func() time.Time { return fixedNow })
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	body := "Action=ListTopics&Version=2010-03-31"
	send := func(req *http.Request) rawResp {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return rawResp{status: resp.StatusCode, header: resp.Header, body: b}
	}
	newReq := func(b string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/", strings.NewReader(b))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}

	// The header is signed with the hash of one body, and another body is sent.
	req := newReq(body + "&NextToken=x")
	req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), "sns", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	r := send(req)
	if q := parseQueryErr(t, r); r.status != 403 || q.Error.Code != "SignatureDoesNotMatch" ||
		*q.Error.Message != "The provided 'x-amz-content-sha256' header does not match what was computed." {
		t.Errorf("lying hash header = %d %s", r.status, r.body)
	}

	req = newReq(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "sns", "us-east-1", fixedNow); err != nil {
		t.Fatal(err)
	}
	if r := send(req); r.status != 403 || parseQueryErr(t, r).Error.Code != "SignatureDoesNotMatch" {
		t.Errorf("UNSIGNED-PAYLOAD without header = %d %s, want 403 SignatureDoesNotMatch", r.status, r.body)
	}
}
