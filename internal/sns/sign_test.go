package sns

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func TestStringToSign(t *testing.T) {
	n := map[string]string{"Type": "Notification", "MessageId": "id", "TopicArn": "arn", "Subject": "s", "Message": "m\nx", "Timestamp": "ts", "Token": "ignored", "SubscribeURL": "ignored"}
	if got := string(StringToSign(n)); got != "Message\nm\nx\nMessageId\nid\nSubject\ns\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n" {
		t.Errorf("notification: %q", got)
	}
	c := map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "id", "TopicArn": "arn", "Subject": "ignored", "Message": "m", "Timestamp": "ts", "Token": "tok", "SubscribeURL": "u"}
	if got := string(StringToSign(c)); got != "Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n" {
		t.Errorf("confirmation: %q", got)
	}
}

// TestRenderedSignatureVerifies checks both signature versions of a rendered body against the
// certificate, rebuilding the string to sign from the JSON body as a subscriber would.
func TestRenderedSignatureVerifies(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	certPEM, name, err := SigningCertificate(key, time.Now())
	if err != nil || len(name) != len("SimpleNotificationService-")+32+4 {
		t.Fatalf("certificate %q %v", name, err)
	}
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSigner(key, "https://tw.example/"+name)
	for _, v := range []string{"1", "2"} {
		for _, e := range []envelope{
			{Type: TypeNotification, MessageID: "m1", TopicARN: "arn:t", Message: `{"a":"<b>&"}`, Subject: "subj", HasSubject: true, Timestamp: "2026-11-25T20:00:00.000Z", SignatureVersion: v, UnsubscribeURL: "u"},
			{Type: TypeSubscriptionConfirmation, MessageID: "m2", TopicARN: "arn:t", Message: "confirm", Token: "tok", SubscribeURL: "https://x/?a=1&b=2", Timestamp: "ts", SignatureVersion: v},
		} {
			body, err := e.render(s, nil)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			if m["SignatureVersion"] != v || m["SigningCertURL"] != s.CertURL {
				t.Fatalf("body %s", body)
			}
			sig, _ := base64.StdEncoding.DecodeString(m["Signature"])
			data := StringToSign(m)
			pub := cert.PublicKey.(*rsa.PublicKey)
			if v == "1" {
				h := sha1.Sum(data)
				err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, h[:], sig)
			} else {
				h := sha256.Sum256(data)
				err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
			}
			if err != nil {
				t.Errorf("v%s %s: %v", v, e.Type, err)
			}
		}
	}
}

// TestNotificationKeyOrder pins SNS's key order [§3.3].
func TestNotificationKeyOrder(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	s := NewSigner(key, "C")
	body, _ := envelope{Type: TypeNotification, MessageID: "M", TopicARN: "T", Message: "<x>", Timestamp: "TS", SignatureVersion: "1", UnsubscribeURL: "U"}.render(s, nil)
	var keys []string
	dec := json.NewDecoder(strings.NewReader(body))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		dec.Token()
	}
	want := []string{"Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"}
	if len(keys) != len(want) {
		t.Fatalf("keys %v", keys)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("keys %v, want %v", keys, want)
		}
	}
	if !strings.Contains(body, `"Message":"<x>"`) {
		t.Errorf("HTML-escaped message: %s", body)
	}
}
