package notify

import (
	"bytes"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

func testMailer() *Mailer {
	return &Mailer{Addr: "127.0.0.1:25", From: "alerts@example.com", Now: func() time.Time { return time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC) }}
}

// render builds and parses the message of d.
func render(t *testing.T, d sns.Delivery) (*mail.Message, []byte) {
	t.Helper()
	msg, err := testMailer().BuildMessage(d)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("unparsable message: %v\n%s", err, b.Bytes())
	}
	return m, b.Bytes()
}

func headerNames(h mail.Header) []string {
	var ks []string
	for k := range h {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func benign() sns.Delivery {
	return sns.Delivery{MessageID: "0f0e", SubscriptionARN: "arn:aws:sns:us-east-1:1:t:x", Protocol: "email", Endpoint: "ops@example.com",
		Subject: `ALARM: "root" in US East (N. Virginia)`, FromName: "AWS Notifications", Body: "hello", UnsubscribeURL: "https://tw.example/unsubscribe.html?x=1"}
}

// headerCheck asserts that a message rendered from d has exactly the benign header set, one
// recipient, and the sender address.
func headerCheck(t *testing.T, d sns.Delivery) {
	t.Helper()
	want, _ := render(t, benign())
	got, raw := render(t, d)
	if !slices.Equal(headerNames(got.Header), headerNames(want.Header)) {
		t.Fatalf("headers %v, want %v\n%s", headerNames(got.Header), headerNames(want.Header), raw)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != d.Endpoint {
		t.Fatalf("To %v %v", to, err)
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "alerts@example.com" {
		t.Fatalf("From %v %v\n%s", from, err, raw)
	}
	for _, k := range []string{"Cc", "Bcc", "Reply-To"} {
		if got.Header.Get(k) != "" {
			t.Fatalf("%s header injected", k)
		}
	}
}

func TestHeaderInjection(t *testing.T) {
	for _, evil := range []string{
		"x\r\nBcc: victim@example.com",
		"x\nBcc: victim@example.com",
		"x\rBcc: victim@example.com",
		"x\r\n\r\nbody takeover",
		"x\u2028Bcc: victim@example.com",
		"=?utf-8?q?a=0D=0ABcc:_victim@example.com?=",
		"ALARM: \"root\r\nX-Evil: 1\" in US East (N. Virginia)",
		"\x00\x01\x1b[31m",
		strings.Repeat("long ", 400),
	} {
		d := benign()
		d.Subject = evil
		headerCheck(t, d)
		d = benign()
		d.FromName = evil
		headerCheck(t, d)
		d = benign()
		d.Body = evil + "\r\n.\r\nMAIL FROM:<x@y>\r\n"
		headerCheck(t, d)
	}
	d := benign()
	d.Endpoint = "ops@example.com\r\nBcc: victim@example.com"
	if _, err := testMailer().BuildMessage(d); err == nil {
		t.Fatal("a recipient with a line break was accepted")
	}
}

func FuzzBuildMessage(f *testing.F) {
	f.Add("subject", "name", "body")
	f.Add("a\r\nBcc: x@y", "n\nTo: z@y", "b\r\n.\r\n")
	f.Fuzz(func(t *testing.T, subject, name, body string) {
		d := benign()
		d.Subject, d.FromName, d.Body = subject, name, body
		headerCheck(t, d)
	})
}

func TestMessageIDStableAcrossRetries(t *testing.T) {
	d := benign()
	a, _ := render(t, d)
	d.Attempts = 3
	b, _ := render(t, d)
	if a.Header.Get("Message-Id") == "" || a.Header.Get("Message-Id") != b.Header.Get("Message-Id") {
		t.Fatalf("Message-Id %q then %q", a.Header.Get("Message-Id"), b.Header.Get("Message-Id"))
	}
	if a.Header.Get("X-Amz-Sns-Message-Id") != d.MessageID {
		t.Fatalf("X-Amz-Sns-Message-Id %q", a.Header.Get("X-Amz-Sns-Message-Id"))
	}
}
