package sns

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
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
	var sp subPolicyJSON
	var tp topicPolicyJSON
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("failed to parse JSON")
	}
	if json.Unmarshal([]byte(s), &sp) != nil || json.Unmarshal([]byte(s), &tp) != nil {
		return d, fmt.Errorf("failed to parse JSON")
	}
	// Members left out take SNS's defaults (20 s targets, 3 retries, no phases, linear).
	if sp.HealthyRetryPolicy != nil {
		p := sp.HealthyRetryPolicy.policy()
		d.HealthyRetryPolicy = &p
	}
	if tp.HTTP != nil && tp.HTTP.DefaultHealthyRetryPolicy != nil {
		p := tp.HTTP.DefaultHealthyRetryPolicy.policy()
		d.HTTP.DefaultHealthyRetryPolicy = &p
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

// policy is the retry policy with SNS's defaults for the members left out.
func (r *retryJSON) policy() RetryPolicy {
	p := HTTPDefaultPolicy
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.MinDelayTarget, r.MinDelayTarget)
	set(&p.MaxDelayTarget, r.MaxDelayTarget)
	set(&p.NumRetries, r.NumRetries)
	set(&p.NumMaxDelayRetries, r.NumMaxDelayRetries)
	set(&p.NumNoDelayRetries, r.NumNoDelayRetries)
	set(&p.NumMinDelayRetries, r.NumMinDelayRetries)
	if r.BackoffFunction != nil {
		p.BackoffFunction = *r.BackoffFunction
	}
	return p
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

// retryJSON is a retry policy as given, so that members left out can be told apart.
type retryJSON struct {
	MinDelayTarget     *int    `json:"minDelayTarget"`
	MaxDelayTarget     *int    `json:"maxDelayTarget"`
	NumRetries         *int    `json:"numRetries"`
	NumMaxDelayRetries *int    `json:"numMaxDelayRetries"`
	NumNoDelayRetries  *int    `json:"numNoDelayRetries"`
	NumMinDelayRetries *int    `json:"numMinDelayRetries"`
	BackoffFunction    *string `json:"backoffFunction"`
}

// render writes the members given (all, when full), in AWS's order, with SNS's defaults for
// those left out of a full rendering.
func (r *retryJSON) render(full bool) []byte {
	var o object
	num := func(k string, p *int, def int) {
		if p != nil {
			o.raw(k, []byte(strconv.Itoa(*p)))
		} else if full {
			o.raw(k, []byte(strconv.Itoa(def)))
		}
	}
	num("minDelayTarget", r.MinDelayTarget, HTTPDefaultPolicy.MinDelayTarget)
	num("maxDelayTarget", r.MaxDelayTarget, HTTPDefaultPolicy.MaxDelayTarget)
	num("numRetries", r.NumRetries, HTTPDefaultPolicy.NumRetries)
	num("numMaxDelayRetries", r.NumMaxDelayRetries, 0)
	num("numNoDelayRetries", r.NumNoDelayRetries, 0)
	num("numMinDelayRetries", r.NumMinDelayRetries, 0)
	switch {
	case r.BackoffFunction != nil:
		o.add("backoffFunction", *r.BackoffFunction)
	case full:
		o.add("backoffFunction", "linear")
	}
	return []byte(o.String())
}

// throttleJSON is a throttle policy.
type throttleJSON struct {
	MaxReceivesPerSecond *int `json:"maxReceivesPerSecond"`
}

func (t *throttleJSON) render() []byte {
	if t == nil {
		return []byte("null")
	}
	var o object
	if t.MaxReceivesPerSecond != nil {
		o.raw("maxReceivesPerSecond", []byte(strconv.Itoa(*t.MaxReceivesPerSecond)))
	}
	return []byte(o.String())
}

type requestJSON struct {
	HeaderContentType *string `json:"headerContentType"`
}

func (r *requestJSON) render(def string) []byte {
	if r == nil || r.HeaderContentType == nil {
		if def == "" {
			return []byte("null")
		}
		return []byte(`{"headerContentType":` + string(jsonString(def)) + `}`)
	}
	return []byte(`{"headerContentType":` + string(jsonString(*r.HeaderContentType)) + `}`)
}

// subPolicyJSON is a subscription's DeliveryPolicy as given.
type subPolicyJSON struct {
	HealthyRetryPolicy *retryJSON    `json:"healthyRetryPolicy"`
	ThrottlePolicy     *throttleJSON `json:"throttlePolicy"`
	RequestPolicy      *requestJSON  `json:"requestPolicy"`
}

// topicPolicyJSON is a topic's DeliveryPolicy as given.
type topicPolicyJSON struct {
	HTTP *struct {
		DefaultHealthyRetryPolicy    *retryJSON    `json:"defaultHealthyRetryPolicy"`
		DefaultThrottlePolicy        *throttleJSON `json:"defaultThrottlePolicy"`
		DisableSubscriptionOverrides *bool         `json:"disableSubscriptionOverrides"`
		DefaultRequestPolicy         *requestJSON  `json:"defaultRequestPolicy"`
	} `json:"http"`
}

// NormaliseSubscriptionDeliveryPolicy returns a subscription DeliveryPolicy as
// GetSubscriptionAttributes shows it on AWS: every member present (null when not given), the
// retry policy completed with SNS's defaults, and "guaranteed":false — recorded from AWS in
// localstack's test_sns.snapshot.json (test_subscribe_external_http_endpoint_content_type):
// {"requestPolicy":{"headerContentType":"text/csv"}} is shown as
// {"healthyRetryPolicy":null,"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/csv"},"guaranteed":false}.
func NormaliseSubscriptionDeliveryPolicy(s string) (string, error) {
	if _, err := parseDeliveryPolicy(s); err != nil {
		return "", err
	}
	var p subPolicyJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return "", fmt.Errorf("failed to parse JSON")
	}
	var o object
	if p.HealthyRetryPolicy != nil {
		o.raw("healthyRetryPolicy", p.HealthyRetryPolicy.render(true))
	} else {
		o.raw("healthyRetryPolicy", []byte("null"))
	}
	o.raw("sicklyRetryPolicy", []byte("null"))
	o.raw("throttlePolicy", p.ThrottlePolicy.render())
	o.raw("requestPolicy", p.RequestPolicy.render(""))
	o.raw("guaranteed", []byte("false"))
	return o.String(), nil
}

// NormaliseTopicDeliveryPolicy returns a topic DeliveryPolicy as GetTopicAttributes shows it on
// AWS: the members given, in AWS's order, with disableSubscriptionOverrides always present
// (test_topic_delivery_policy_crud, recorded 2024-10: {"http":{"defaultHealthyRetryPolicy":
// {"minDelayTarget":5,"maxDelayTarget":6,"numRetries":1}}} is shown with
// "disableSubscriptionOverrides":false added).
func NormaliseTopicDeliveryPolicy(s string) (string, error) {
	if _, err := parseDeliveryPolicy(s); err != nil {
		return "", err
	}
	var p topicPolicyJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return "", fmt.Errorf("failed to parse JSON")
	}
	return topicPolicy(p, false), nil
}

// topicPolicy renders a topic policy; effective fills in SNS's defaults as
// EffectiveDeliveryPolicy shows them.
func topicPolicy(p topicPolicyJSON, effective bool) string {
	var h object
	hp := p.HTTP
	if hp == nil {
		hp = &struct {
			DefaultHealthyRetryPolicy    *retryJSON    `json:"defaultHealthyRetryPolicy"`
			DefaultThrottlePolicy        *throttleJSON `json:"defaultThrottlePolicy"`
			DisableSubscriptionOverrides *bool         `json:"disableSubscriptionOverrides"`
			DefaultRequestPolicy         *requestJSON  `json:"defaultRequestPolicy"`
		}{}
	}
	switch {
	case hp.DefaultHealthyRetryPolicy != nil:
		h.raw("defaultHealthyRetryPolicy", hp.DefaultHealthyRetryPolicy.render(effective))
	case effective:
		h.raw("defaultHealthyRetryPolicy", (&retryJSON{}).render(true))
	}
	if hp.DefaultThrottlePolicy != nil {
		h.raw("defaultThrottlePolicy", hp.DefaultThrottlePolicy.render())
	}
	h.raw("disableSubscriptionOverrides", []byte(strconv.FormatBool(hp.DisableSubscriptionOverrides != nil && *hp.DisableSubscriptionOverrides)))
	switch {
	case hp.DefaultRequestPolicy != nil && hp.DefaultRequestPolicy.HeaderContentType != nil:
		h.raw("defaultRequestPolicy", hp.DefaultRequestPolicy.render(""))
	case effective:
		h.raw("defaultRequestPolicy", (*requestJSON)(nil).render(defaultContentType))
	}
	var o object
	o.raw("http", []byte(h.String()))
	return o.String()
}

// defaultContentType is the Content-Type of HTTP/S deliveries without a request policy.
const defaultContentType = "text/plain; charset=UTF-8"

// topicEffectiveDeliveryPolicy is a topic's EffectiveDeliveryPolicy: its DeliveryPolicy with
// every member AWS shows, SNS's defaults filling the rest [§3.1, LS-SNS-SNAP].
func topicEffectiveDeliveryPolicy(dp string) string {
	var p topicPolicyJSON
	if dp != "" {
		json.Unmarshal([]byte(dp), &p)
	}
	return topicPolicy(p, true)
}

// subscriptionEffectiveDeliveryPolicy is an HTTP/S subscription's EffectiveDeliveryPolicy: its
// own policy completed from the topic's defaults (or only the topic's, when the topic disables
// overrides), in the shape AWS shows (test_subscribe_external_http_endpoint_content_type).
func subscriptionEffectiveDeliveryPolicy(topicDP, subDP string) string {
	var t topicPolicyJSON
	var s subPolicyJSON
	if topicDP != "" {
		json.Unmarshal([]byte(topicDP), &t)
	}
	if subDP != "" {
		json.Unmarshal([]byte(subDP), &s)
	}
	override := t.HTTP == nil || t.HTTP.DisableSubscriptionOverrides == nil || !*t.HTTP.DisableSubscriptionOverrides
	retry := &retryJSON{}
	var throttle *throttleJSON
	ct := defaultContentType
	if t.HTTP != nil {
		if t.HTTP.DefaultHealthyRetryPolicy != nil {
			retry = t.HTTP.DefaultHealthyRetryPolicy
		}
		throttle = t.HTTP.DefaultThrottlePolicy
		if r := t.HTTP.DefaultRequestPolicy; r != nil && r.HeaderContentType != nil {
			ct = *r.HeaderContentType
		}
	}
	if override {
		if s.HealthyRetryPolicy != nil {
			retry = s.HealthyRetryPolicy
		}
		if s.ThrottlePolicy != nil {
			throttle = s.ThrottlePolicy
		}
		if r := s.RequestPolicy; r != nil && r.HeaderContentType != nil {
			ct = *r.HeaderContentType
		}
	}
	var o object
	o.raw("healthyRetryPolicy", retry.render(true))
	o.raw("sicklyRetryPolicy", []byte("null"))
	o.raw("throttlePolicy", throttle.render())
	o.raw("requestPolicy", (*requestJSON)(nil).render(ct))
	o.raw("guaranteed", []byte("false"))
	return o.String()
}
