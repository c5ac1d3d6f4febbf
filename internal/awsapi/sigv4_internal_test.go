package awsapi

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

func TestParseAuthorizationHeader(t *testing.T) {
	a, err := parseAuthorizationHeader("AWS4-HMAC-SHA256 Credential=AKID/20251126/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc123", "20251126T190000Z")
	if err != nil {
		t.Fatal(err.message)
	}
	want := &sigV4Auth{accessKeyID: "AKID", date: "20251126", region: "us-east-1", service: "monitoring", terminator: "aws4_request",
		signedHeaders: []string{"content-type", "host", "x-amz-date"}, signature: "abc123", amzDate: "20251126T190000Z"}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("got %+v\nwant %+v", a, want)
	}
	// Without spaces after commas (some hand-rolled signers).
	if _, err := parseAuthorizationHeader("AWS4-HMAC-SHA256 Credential=AKID/20251126/us-east-1/sns/aws4_request,SignedHeaders=host,Signature=00", "20251126T190000Z"); err != nil {
		t.Errorf("compact header rejected: %s", err.message)
	}
}

func TestParseSigV4Missing(t *testing.T) {
	_, err := parseSigV4(http.Header{}, url.Values{})
	if err == nil || err.code != "MissingAuthenticationToken" || err.jsonCode != "MissingAuthenticationTokenException" {
		t.Errorf("err = %+v", err)
	}
	_, err = parseSigV4(http.Header{}, url.Values{"X-Amz-Credential": {"a/b/c/d/e"}, "X-Amz-Algorithm": {"AWS4-HMAC-SHA256"}})
	if err == nil || err.code != "IncompleteSignature" {
		t.Errorf("incomplete presigned err = %+v", err)
	}
}

func FuzzSigV4Parse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20251126/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "20251126T190000Z",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20251126%2Fus-east-1%2Fsns%2Faws4_request&X-Amz-Date=20251126T190000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, Signature=", "", "")
	f.Fuzz(func(t *testing.T, authz, date, query string) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		h.Set("X-Amz-Date", date)
		q, _ := url.ParseQuery(query)
		a, err := parseSigV4(h, q)
		if (a == nil) == (err == nil) {
			t.Fatalf("parseSigV4 returned auth %v and error %v", a, err)
		}
		if a != nil && (a.accessKeyID == "" || len(a.signedHeaders) == 0) {
			t.Fatalf("accepted auth without key or signed headers: %+v", a)
		}
	})
}
