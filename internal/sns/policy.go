package sns

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// RetryPolicy is an SNS delivery retry policy [§3.3, SNSDG-RETRY]. Retries run in four phases:
// NumNoDelayRetries immediately, NumMinDelayRetries at MinDelay, the backoff phase (the retries
// left over) going from MinDelay to MaxDelay along Backoff, then NumMaxDelayRetries at MaxDelay.
//
// Decision: no jitter is applied (AWS adds some); the schedule is deterministic, which keeps
// retries testable and cannot make them later than the documented policy.
type RetryPolicy struct {
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	MinDelayTarget     int    `json:"minDelayTarget"` // seconds
	MaxDelayTarget     int    `json:"maxDelayTarget"` // seconds
	BackoffFunction    string `json:"backoffFunction"`
}

// HTTPDefaultPolicy is SNS's default HTTP/S policy: 3 retries 20 s apart.
var HTTPDefaultPolicy = RetryPolicy{NumRetries: 3, MinDelayTarget: 20, MaxDelayTarget: 20, BackoffFunction: "linear"}

// EmailPolicy is SNS's fixed policy for SMTP: 2 retries at 10 s, 10 exponential from 10 to
// 600 s, then 38 at 600 s: 50 retries over more than six hours. A mail server down for ten
// minutes therefore delays mail without losing it.
var EmailPolicy = RetryPolicy{NumRetries: 50, NumMinDelayRetries: 2, NumMaxDelayRetries: 38, MinDelayTarget: 10, MaxDelayTarget: 600, BackoffFunction: "exponential"}

// Delay returns the wait before retry number n (1 for the first retry after the first attempt);
// ok is false when the policy allows no retry n.
func (p RetryPolicy) Delay(n int) (d time.Duration, ok bool) {
	if n < 1 || n > p.NumRetries {
		return 0, false
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	if n <= p.NumNoDelayRetries {
		return 0, true
	}
	n -= p.NumNoDelayRetries
	if n <= p.NumMinDelayRetries {
		return sec(float64(p.MinDelayTarget)), true
	}
	n -= p.NumMinDelayRetries
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	if n > backoff {
		return sec(float64(p.MaxDelayTarget)), true
	}
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	if backoff <= 1 || hi <= lo {
		return sec(lo), true
	}
	f := float64(n-1) / float64(backoff-1) // 0 at the first backoff retry, 1 at the last
	var v float64
	switch p.BackoffFunction {
	case "exponential":
		v = lo * math.Pow(hi/lo, f)
	case "geometric":
		v = lo + (hi-lo)*f*f*f
	case "arithmetic":
		v = lo + (hi-lo)*f*f
	default: // linear
		v = lo + (hi-lo)*f
	}
	return sec(math.Round(v*1000) / 1000), true
}

// validate applies SNS's limits on a healthy retry policy.
func (p RetryPolicy) validate() error {
	switch {
	case p.NumRetries < 0 || p.NumRetries > 100:
		return fmt.Errorf("numRetries must be between 0 and 100")
	case p.MinDelayTarget < 1 || p.MaxDelayTarget < p.MinDelayTarget || p.MaxDelayTarget > 3600:
		return fmt.Errorf("minDelayTarget and maxDelayTarget must satisfy 0 < minDelayTarget <= maxDelayTarget <= 3600")
	case p.NumNoDelayRetries < 0 || p.NumMinDelayRetries < 0 || p.NumMaxDelayRetries < 0 ||
		p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries > p.NumRetries:
		return fmt.Errorf("the phase retries must add up to at most numRetries")
	}
	switch p.BackoffFunction {
	case "", "linear", "arithmetic", "geometric", "exponential":
	default:
		return fmt.Errorf("backoffFunction must be linear, arithmetic, geometric or exponential")
	}
	return nil
}

// deliveryPolicy is the DeliveryPolicy document of a subscription ({"healthyRetryPolicy":…})
// and, under "http", of a topic ({"http":{"defaultHealthyRetryPolicy":…}}).
type deliveryPolicy struct {
	HealthyRetryPolicy *RetryPolicy `json:"healthyRetryPolicy"`
	HTTP               *struct {
		DefaultHealthyRetryPolicy   *RetryPolicy `json:"defaultHealthyRetryPolicy"`
		DisableSubscriptionOverride bool         `json:"disableSubscriptionOverrides"`
		DefaultRequestPolicy        *struct {
			HeaderContentType string `json:"headerContentType"`
		} `json:"defaultRequestPolicy"`
	} `json:"http"`
	RequestPolicy *struct {
		HeaderContentType string `json:"headerContentType"`
	} `json:"requestPolicy"`
}

func parseDeliveryPolicy(s string) (deliveryPolicy, error) {
	var d deliveryPolicy
	if s == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("failed to parse JSON")
	}
	for _, p := range []*RetryPolicy{d.HealthyRetryPolicy, d.httpDefault()} {
		if p != nil {
			if err := p.validate(); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

func (d deliveryPolicy) httpDefault() *RetryPolicy {
	if d.HTTP == nil {
		return nil
	}
	return d.HTTP.DefaultHealthyRetryPolicy
}

// httpPolicy is the effective retry policy and Content-Type of an HTTP/S subscription: the
// subscription's own policy unless the topic disables overrides, then the topic's default, then
// SNS's default.
func httpPolicy(topicPolicy, subPolicy string) (RetryPolicy, string) {
	p, ct := HTTPDefaultPolicy, "text/plain; charset=UTF-8"
	t, _ := parseDeliveryPolicy(topicPolicy)
	s, _ := parseDeliveryPolicy(subPolicy)
	if dp := t.httpDefault(); dp != nil {
		p = *dp
	}
	if t.HTTP != nil && t.HTTP.DefaultRequestPolicy != nil && t.HTTP.DefaultRequestPolicy.HeaderContentType != "" {
		ct = t.HTTP.DefaultRequestPolicy.HeaderContentType
	}
	if t.HTTP == nil || !t.HTTP.DisableSubscriptionOverride {
		if s.HealthyRetryPolicy != nil {
			p = *s.HealthyRetryPolicy
		}
		if s.RequestPolicy != nil && s.RequestPolicy.HeaderContentType != "" {
			ct = s.RequestPolicy.HeaderContentType
		}
	}
	return p, ct
}
