package sns

import (
	"strings"
	"testing"
)

// FuzzParsers runs the SNS input parsers on arbitrary text: none may panic, and what they
// accept must be consistent (an accepted ARN round-trips, an accepted retry policy yields delays
// within its targets).
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"arn:aws:sns:us-east-1:111122223333:alerts", "arn:aws:sns:us-east-1:111122223333:alerts:0a1b",
		`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":9,"backoffFunction":"geometric"}}`, "YWJj", ":::::",
		`{"requestPolicy":{"headerContentType":"text/csv"},"throttlePolicy":{"maxReceivesPerSecond":5}}`, `{"http":{"defaultHealthyRetryPolicy":{"numRetries":1},"disableSubscriptionOverrides":true}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sc, topic, sub, err := arnParts("TopicArn", s); err == nil {
			parts := strings.Split(s, ":")
			rebuilt := strings.Join([]string{"arn", parts[1], "sns", sc.Region, sc.AccountID, topic}, ":")
			if sub != "" {
				rebuilt += ":" + sub
			}
			if rebuilt != s || !strings.HasPrefix(parts[1], "aws") {
				t.Fatalf("%q accepted as %q", s, rebuilt)
			}
		}
		if d, err := parseDeliveryPolicy(s); err == nil && d.HealthyRetryPolicy != nil {
			p := *d.HealthyRetryPolicy
			for i := 1; i <= p.NumRetries; i++ {
				delay, ok := p.Delay(i)
				if !ok || delay < 0 || delay.Seconds() > float64(p.MaxDelayTarget)+0.001 {
					t.Fatalf("policy %+v retry %d: %v %v", p, i, delay, ok)
				}
			}
		}
		// A normalised DeliveryPolicy is accepted again and normalises to itself.
		if n, err := NormaliseSubscriptionDeliveryPolicy(s); err == nil {
			if m, err := NormaliseSubscriptionDeliveryPolicy(n); err != nil || m != n {
				t.Fatalf("subscription policy %q normalised to %q, then %q (%v)", s, n, m, err)
			}
		}
		if n, err := NormaliseTopicDeliveryPolicy(s); err == nil {
			if m, err := NormaliseTopicDeliveryPolicy(n); err != nil || m != n {
				t.Fatalf("topic policy %q normalised to %q, then %q (%v)", s, n, m, err)
			}
		}
		if after, err := decodeToken(s); err == nil && s != "" && encodeToken(after) != s {
			t.Fatalf("token %q decodes to %q, which encodes differently", s, after)
		}
	})
}
