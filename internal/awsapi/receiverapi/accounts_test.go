package receiverapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// TestRealSNSAccounts: a real SNS signature proves that SNS sent the message, not whose topic it
// came from; anyone with an AWS account can subscribe a topic of theirs to a receiver endpoint,
// have the confirmation taken, and publish made-up alarms (or an OK with a later StateChangeTime,
// which resolves the PagerDuty incident and makes the real ALARMs that follow "superseded").
// So a real SNS message is taken only from a topic of an allowed account ("*": any), none by
// default; trailwatch's own messages are not concerned.
func TestRealSNSAccounts(t *testing.T) {
	ctx := context.Background()
	awsKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cs := certServer(t, awsKey)
	note := func(topic string) Envelope {
		e, err := ParseEnvelope(func(string) string { return "" }, signed(t, Envelope{Type: sns.TypeNotification, MessageID: "m",
			TopicARN: topic, Message: "hello", Timestamp: "2026-12-06T00:00:00.000Z"}, awsKey, cs.URL+"/SimpleNotificationService-x.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	mine, theirs := note("arn:aws:sns:us-east-1:111122223333:alarms"), note("arn:aws:sns:us-east-1:444455556666:alarms")
	for _, c := range []struct {
		name    string
		allowed []string
		e       Envelope
		want    bool
	}{
		{"default: none", nil, mine, false},
		{"listed account", []string{"111122223333"}, mine, true},
		{"other account", []string{"111122223333"}, theirs, false},
		{"any", []string{"*"}, theirs, true},
	} {
		v := &Verifier{AllowedHosts: []string{cs.URL}, AllowedAccounts: c.allowed, Client: cs.Client()}
		o, err := v.Verify(ctx, c.e)
		if got := err == nil && o == receiver.OriginAWS; got != c.want {
			t.Errorf("%s: origin %q, error %v; want accepted %v", c.name, o, err, c.want)
		}
	}
	// trailwatch's own messages do not depend on the list.
	v := &Verifier{OwnCertURL: "https://tw.example/own.pem", OwnKey: &testKey.PublicKey}
	e, _ := ParseEnvelope(func(string) string { return "" }, signed(t, Envelope{Type: sns.TypeNotification, MessageID: "m",
		TopicARN: "arn:aws:sns:us-east-1:444455556666:t", Message: "hello", Timestamp: "t"}, testKey, v.OwnCertURL))
	if o, err := v.Verify(ctx, e); err != nil || o != receiver.OriginTrailwatch {
		t.Errorf("own message: %q %v", o, err)
	}
}
