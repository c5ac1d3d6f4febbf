package receiverapi

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/receiver/receivertest"
	"github.com/trailwatch/trailwatch/internal/sns"
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

// signed returns the JSON body of e signed (SignatureVersion 1) with key, naming certURL.
func signed(t *testing.T, e Envelope, key *rsa.PrivateKey, certURL string) []byte {
	t.Helper()
	e.SignatureVersion, e.SigningCertURL = "1", certURL
	sum := sha1.Sum(e.stringToSign())
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA1, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	e.Signature = base64.StdEncoding.EncodeToString(sig)
	b, _ := json.Marshal(e)
	return b
}

func certServer(t *testing.T, key *rsa.PrivateKey) *httptest.Server {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sns"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func subj(s string) *string { return &s }

func TestVerify(t *testing.T) {
	ctx := context.Background()
	awsKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cs := certServer(t, awsKey)
	v := &Verifier{OwnCertURL: "https://tw.example/SimpleNotificationService-own.pem", OwnKey: &testKey.PublicKey, AllowedHosts: []string{cs.URL}, AllowedAccounts: []string{"1"}, Client: cs.Client()}
	note := Envelope{Type: sns.TypeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Subject: subj("s"), Message: "hello", Timestamp: "2026-12-06T00:00:00.000Z"}
	parse := func(b []byte) Envelope {
		e, err := ParseEnvelope(func(string) string { return "" }, b)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if o, err := v.Verify(ctx, parse(signed(t, note, testKey, v.OwnCertURL))); err != nil || o != receiver.OriginTrailwatch {
		t.Errorf("own: %q %v", o, err)
	}
	if o, err := v.Verify(ctx, parse(signed(t, note, awsKey, cs.URL+"/SimpleNotificationService-x.pem"))); err != nil || o != receiver.OriginAWS {
		t.Errorf("aws: %q %v", o, err)
	}
	for name, e := range map[string]Envelope{
		"forged message":      func() Envelope { e := parse(signed(t, note, awsKey, cs.URL+"/c.pem")); e.Message = "evil"; return e }(),
		"subject dropped":     func() Envelope { e := parse(signed(t, note, awsKey, cs.URL+"/c.pem")); e.Subject = nil; return e }(),
		"own cert, other key": parse(signed(t, note, awsKey, v.OwnCertURL)),
		"host not allowed":    parse(signed(t, note, awsKey, "https://evil.example/c.pem")),
		"not a pem":           parse(signed(t, note, awsKey, cs.URL+"/c.txt")),
	} {
		if _, err := v.Verify(ctx, e); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestDefaultHosts: without a configured list, only https://sns.<the topic's region>.amazonaws.com
// (.com.cn in China) is trusted.
func TestDefaultHosts(t *testing.T) {
	v := &Verifier{}
	for raw, want := range map[string]bool{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem":   true,
		"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem":   false,
		"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem":    false,
		"https://sns.us-east-1.amazonaws.com.evil.example/a.pem":                false,
		"https://evil.example/sns.us-east-1.amazonaws.com/a.pem":                false,
		"https://sns.us-east-1.amazonaws.com:8443/a.pem":                        false,
		"https://user@sns.us-east-1.amazonaws.com/a.pem":                        false,
		"https://x.sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem": false,
	} {
		u, _ := url.Parse(raw)
		if got := v.allowed(u, "arn:aws:sns:us-east-1:1:t"); got != want {
			t.Errorf("%s: %v", raw, got)
		}
	}
	u, _ := url.Parse("https://sns.cn-north-1.amazonaws.com.cn/a.pem")
	if !v.allowed(u, "arn:aws-cn:sns:cn-north-1:1:t") {
		t.Error("China host refused")
	}
	w := &Verifier{AllowedHosts: []string{"sns.*.amazonaws.com"}}
	u, _ = url.Parse("https://sns.ap-south-1.amazonaws.com/a.pem")
	if !w.allowed(u, "") {
		t.Error("wildcard refused")
	}
}

func TestEndpointStatuses(t *testing.T) {
	ctx := context.Background()
	st := receivertest.NewMemory()
	svc := receiver.NewService(st, nopOutbox{}, receivertest.Account, "https://tw.example", nil)
	if _, err := svc.Put(ctx, receivertest.Account, receiver.Receiver{Name: "hook", Type: "webhook", URL: "https://h.example/", SendResolved: true}); err != nil {
		t.Fatal(err)
	}
	v := &Verifier{OwnCertURL: "https://tw.example/own.pem", OwnKey: &testKey.PublicKey}
	h := &Endpoint{Service: svc, Verifier: v}
	mux := http.NewServeMux()
	mux.Handle("POST /receivers/{name}", h)
	note := Envelope{Type: sns.TypeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:1:t", Message: "hello", Timestamp: "t"}
	good := signed(t, note, testKey, v.OwnCertURL)
	forged := strings.Replace(string(good), "hello", "HELLO", 1)
	for _, c := range []struct {
		name, body string
		raw        bool
		want       int
	}{
		{"hook", string(good), false, 200}, {"hook", forged, false, 403}, {"nope", string(good), false, 404},
		{"hook", "not json", false, 400}, {"hook", "hello", true, 403},
	} {
		req := httptest.NewRequest(http.MethodPost, "/receivers/"+c.name, strings.NewReader(c.body))
		if c.raw {
			req.Header.Set("x-amz-sns-rawdelivery", "true")
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s %.20q: %d %s, want %d", c.name, c.body, rec.Code, rec.Body, c.want)
		}
	}
	// In process, a missing receiver answers 404, which SNS counts as delivered.
	d, err := h.Deliver(ctx, "nope", sns.Delivery{Body: string(good)})
	if err != nil || !strings.HasPrefix(d, "HTTP 404") {
		t.Errorf("Deliver to a missing receiver: %q %v", d, err)
	}
}

type nopOutbox struct{}

func (nopOutbox) Enqueue(_ context.Context, _, id string, _ []sns.Delivery) (string, error) {
	return id, nil
}

// FuzzParseEnvelope: any body either parses into a message with a known type, ids and topic, or
// is refused with an error; it never panics.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"x","Subject":"s"}`), "")
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"t","Token":"k","SubscribeURL":"https://x"}`), "SubscriptionConfirmation")
	f.Add([]byte(`{"Type":1}`), "Notification")
	f.Add([]byte(`raw body`), "raw")
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		h := func(k string) string {
			switch {
			case typ == "raw" && k == "x-amz-sns-rawdelivery":
				return "true"
			case k == "x-amz-sns-message-type":
				return typ
			}
			return ""
		}
		e, err := ParseEnvelope(h, body)
		if err != nil {
			return
		}
		if e.MessageID == "" || e.TopicARN == "" || (e.Type != sns.TypeNotification && e.Type != sns.TypeSubscriptionConfirmation && e.Type != sns.TypeUnsubscribeConfirmation) {
			t.Fatalf("accepted %+v", e)
		}
		_ = e.stringToSign()
	})
}
