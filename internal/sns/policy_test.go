package sns

import (
	"testing"
	"time"
)

func TestRetryPolicyDelays(t *testing.T) {
	sum := func(p RetryPolicy) (time.Duration, int) {
		var total time.Duration
		n := 0
		for i := 1; ; i++ {
			d, ok := p.Delay(i)
			if !ok {
				return total, n
			}
			total += d
			n++
		}
	}
	// HTTP default: 3 retries, 20 s apart [§3.3].
	for i := 1; i <= 3; i++ {
		if d, ok := HTTPDefaultPolicy.Delay(i); !ok || d != 20*time.Second {
			t.Errorf("HTTP retry %d: %v %v", i, d, ok)
		}
	}
	if _, ok := HTTPDefaultPolicy.Delay(4); ok {
		t.Error("HTTP retry 4 allowed")
	}
	// SMTP: 2 at 10 s, 10 exponential 10 → 600 s, 38 at 600 s: 50 retries over 6+ hours.
	want := map[int]time.Duration{1: 10 * time.Second, 2: 10 * time.Second, 3: 10 * time.Second, 12: 600 * time.Second, 13: 600 * time.Second, 50: 600 * time.Second}
	for i, w := range want {
		if d, _ := EmailPolicy.Delay(i); d != w {
			t.Errorf("email retry %d: %v, want %v", i, d, w)
		}
	}
	for i := 3; i < 12; i++ {
		a, _ := EmailPolicy.Delay(i)
		b, _ := EmailPolicy.Delay(i + 1)
		if b <= a {
			t.Errorf("backoff not increasing at %d: %v then %v", i, a, b)
		}
	}
	total, n := sum(EmailPolicy)
	if n != 50 || total < 6*time.Hour {
		t.Errorf("email policy: %d retries over %v", n, total)
	}
	// Phases: 1 immediate, 1 at min, 2 linear backoff, 1 at max.
	p := RetryPolicy{NumRetries: 5, NumNoDelayRetries: 1, NumMinDelayRetries: 1, NumMaxDelayRetries: 1, MinDelayTarget: 2, MaxDelayTarget: 8, BackoffFunction: "linear"}
	var got []time.Duration
	for i := 1; i <= 5; i++ {
		d, _ := p.Delay(i)
		got = append(got, d)
	}
	wantP := []time.Duration{0, 2 * time.Second, 2 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range wantP {
		if got[i] != wantP[i] {
			t.Fatalf("phases %v, want %v", got, wantP)
		}
	}
}

func TestDeliveryPolicyValidation(t *testing.T) {
	for _, c := range []struct {
		doc string
		ok  bool
	}{
		{`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":1}}`, true},
		{`{"http":{"defaultHealthyRetryPolicy":{"numRetries":3,"minDelayTarget":20,"maxDelayTarget":20}}}`, true},
		{`{"healthyRetryPolicy":{"numRetries":101,"minDelayTarget":1,"maxDelayTarget":1}}`, false},
		{`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":5,"maxDelayTarget":1}}`, false},
		{`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":3601}}`, false},
		{`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":2,"backoffFunction":"cubic"}}`, false},
		{`{`, false},
	} {
		if _, err := parseDeliveryPolicy(c.doc); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.doc, err)
		}
	}
	p, ct := httpPolicy(`{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":3,"maxDelayTarget":3},"disableSubscriptionOverrides":true,"defaultRequestPolicy":{"headerContentType":"application/json"}}}`,
		`{"healthyRetryPolicy":{"numRetries":1,"minDelayTarget":1,"maxDelayTarget":1}}`)
	if p.NumRetries != 5 || ct != "application/json" {
		t.Errorf("disableSubscriptionOverrides ignored: %+v %s", p, ct)
	}
	p, _ = httpPolicy("", `{"healthyRetryPolicy":{"numRetries":1,"minDelayTarget":1,"maxDelayTarget":1}}`)
	if p.NumRetries != 1 {
		t.Errorf("subscription policy ignored: %+v", p)
	}
}
