package receiverapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/url"
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

// TestDefaultHostRegionIsARegion: the default host is built from the region in the message's
// TopicArn, which the sender chooses before anything is verified; a "region" holding dots made
// the allowed host any name under amazonaws.com that starts with "sns." (an S3 bucket named
// sns.x is at sns.x.s3.amazonaws.com), so only a region name (letters, digits, '-') counts.
func TestDefaultHostRegionIsARegion(t *testing.T) {
	v := &Verifier{}
	for topic, raw := range map[string]string{
		"arn:aws:sns:x.s3:1:t":                      "https://sns.x.s3.amazonaws.com/a.pem",
		"arn:aws:sns:abc.execute-api.us-east-1:1:t": "https://sns.abc.execute-api.us-east-1.amazonaws.com/a.pem",
	} {
		u, _ := url.Parse(raw)
		if v.allowed(u, topic) {
			t.Errorf("%s allowed for topic %s", raw, topic)
		}
	}
	u, _ := url.Parse("https://sns.us-gov-west-1.amazonaws.com/a.pem")
	if !v.allowed(u, "arn:aws-us-gov:sns:us-gov-west-1:1:t") {
		t.Error("GovCloud host refused")
	}
}
