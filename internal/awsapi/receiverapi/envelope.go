package receiverapi

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/trailwatch/trailwatch/internal/receiver"
	"github.com/trailwatch/trailwatch/internal/sns"
)

// Envelope is the JSON body of an SNS HTTP/S delivery.
type Envelope struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicARN         string `json:"TopicArn"`
	Subject          *string
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	UnsubscribeURL   string
}

// ErrRaw is returned by ParseEnvelope for a raw delivery (RawMessageDelivery=true): its body is
// the bare message, which carries no signature.
var ErrRaw = errors.New("raw message delivery carries no signature")

// ParseEnvelope reads an SNS delivery from its headers and body. A raw delivery (header
// x-amz-sns-rawdelivery: true) is returned with the body as Message and the ids from the headers,
// together with ErrRaw.
func ParseEnvelope(header func(string) string, body []byte) (Envelope, error) {
	if strings.EqualFold(header("x-amz-sns-rawdelivery"), "true") {
		return Envelope{Type: sns.TypeNotification, MessageID: header("x-amz-sns-message-id"), TopicARN: header("x-amz-sns-topic-arn"),
			Message: string(body)}, ErrRaw
	}
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("decode SNS message: %w", err)
	}
	switch e.Type {
	case sns.TypeNotification, sns.TypeSubscriptionConfirmation, sns.TypeUnsubscribeConfirmation:
	default:
		return e, fmt.Errorf("unknown SNS message type %q", e.Type)
	}
	if t := header("x-amz-sns-message-type"); t != "" && t != e.Type {
		return e, fmt.Errorf("x-amz-sns-message-type %q does not match the body's %q", t, e.Type)
	}
	if e.MessageID == "" || e.TopicARN == "" {
		return e, errors.New("SNS message without MessageId or TopicArn")
	}
	return e, nil
}

// stringToSign is the text the envelope's signature covers.
func (e Envelope) stringToSign() []byte {
	f := map[string]string{"Type": e.Type, "MessageId": e.MessageID, "TopicArn": e.TopicARN, "Message": e.Message, "Timestamp": e.Timestamp}
	if e.Type == sns.TypeNotification {
		if e.Subject != nil {
			f["Subject"] = *e.Subject
		}
	} else {
		f["Token"], f["SubscribeURL"] = e.Token, e.SubscribeURL
	}
	return sns.StringToSign(f)
}

// Inbound returns the message as the receiver service takes it.
func (e Envelope) Inbound(subscriptionARN, origin string) receiver.Inbound {
	in := receiver.Inbound{Type: e.Type, MessageID: e.MessageID, TopicARN: e.TopicARN, SubscriptionARN: subscriptionARN,
		Message: e.Message, Timestamp: e.Timestamp, Token: e.Token, SubscribeURL: e.SubscribeURL, Origin: origin}
	if e.Subject != nil {
		in.Subject = *e.Subject
	}
	return in
}

// Verifier checks the signatures of SNS messages delivered to receiver endpoints [SNSDG-SIG]:
// SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA) over SNS's string to sign, with the
// certificate at SigningCertURL. A message naming trailwatch's own certificate is verified with
// trailwatch's own key (origin trailwatch); any other certificate must be an https URL ending in
// .pem on an allowed SNS host, fetched without redirects and cached while valid (origin aws). The host is the trust
// anchor, as in AWS's own message validators; the certificate's chain is not checked, its
// validity period is.
type Verifier struct {
	// OwnCertURL and OwnKey are trailwatch's SigningCertURL and public key.
	OwnCertURL string
	OwnKey     *rsa.PublicKey
	// AllowedHosts lists where real SNS certificates (and SubscribeURLs) may be: a host name,
	// optionally with one "*" label ("sns.*.amazonaws.com"), reached over https, or an
	// "http://host:port" or "https://host:port" prefix for tests. Empty means AWS's rule: the
	// host is sns.<region of the topic>.amazonaws.com (.amazonaws.com.cn in China).
	AllowedHosts []string
	// AllowedAccounts lists the AWS accounts whose topics may deliver real SNS messages, or "*"
	// for any; empty means none. A real SNS signature proves that SNS sent the message, not whose
	// topic it came from: anyone with an AWS account can subscribe a topic of theirs to a
	// receiver endpoint and publish made-up alarms to it, or an OK that resolves a real incident
	// and makes the real ALARMs after it "superseded". So the topic's account (in its ARN, which
	// the signature covers) must be one the operator named; trailwatch's own messages are not
	// concerned. The check comes before any certificate is fetched.
	AllowedAccounts []string
	// Client fetches certificates and visits SubscribeURLs. Its redirects are never followed
	// (client below): the allowed hosts are the trust anchor, and real SNS does not redirect.
	Client *http.Client
	Now    func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
	// failed remembers, until when, the certificate URLs whose fetch failed; fetching bounds the
	// fetches in flight. An unauthenticated message makes trailwatch fetch the certificate it
	// names before its signature can be checked, so without both every forged message (a few
	// hundred bytes of the unauthenticated budget each) would be an outbound request to SNS.
	failed   map[string]time.Time
	fetching chan struct{}
}

// regionRe is a region name. The default allowed host is built from the region of the message's
// TopicArn, which the sender chooses: one with dots would allow any host under amazonaws.com
// whose name starts with "sns." (such as an S3 bucket's).
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+$`)

// allowed reports whether u may be fetched for a message of topicARN.
func (v *Verifier) allowed(u *url.URL, topicARN string) bool {
	if u.User != nil {
		return false
	}
	if len(v.AllowedHosts) == 0 {
		region := ""
		if p := strings.Split(topicARN, ":"); len(p) >= 6 {
			region = p[3]
		}
		suffix := ".amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			suffix = ".amazonaws.com.cn"
		}
		return u.Scheme == "https" && regionRe.MatchString(region) && u.Port() == "" && strings.EqualFold(u.Hostname(), "sns."+region+suffix)
	}
	for _, h := range v.AllowedHosts {
		if pre, ok := strings.CutPrefix(h, "http://"); ok {
			if u.Scheme == "http" && u.Host == strings.TrimRight(pre, "/") {
				return true
			}
			continue
		}
		if pre, ok := strings.CutPrefix(h, "https://"); ok {
			if u.Scheme == "https" && u.Host == strings.TrimRight(pre, "/") {
				return true
			}
			continue
		}
		if u.Scheme == "https" && u.Port() == "" && hostMatches(h, u.Hostname()) {
			return true
		}
	}
	return false
}

// client is v.Client, refusing every redirect: a redirect off the allowed hosts would let them
// hand trust (a certificate) or a request (SSRF) to any other address.
func (v *Verifier) client() *http.Client {
	c := http.Client{Timeout: certFetchTimeout}
	if v.Client != nil {
		c = *v.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// accountAllowed reports whether a real SNS message from topicARN may be taken (AllowedAccounts).
func (v *Verifier) accountAllowed(topicARN string) bool {
	p := strings.Split(topicARN, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[4] == "" {
		return false
	}
	for _, a := range v.AllowedAccounts {
		if a == "*" || a == p[4] {
			return true
		}
	}
	return false
}

func hostMatches(pattern, host string) bool {
	pl, hl := strings.Split(strings.ToLower(pattern), "."), strings.Split(strings.ToLower(host), ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
	}
	return true
}

// Verify checks e's signature and returns its origin.
func (v *Verifier) Verify(ctx context.Context, e Envelope) (string, error) {
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil || len(sig) == 0 {
		return "", errors.New("signature is not base64")
	}
	var h crypto.Hash
	var sum []byte
	data := e.stringToSign()
	switch e.SignatureVersion {
	case "1":
		d := sha1.Sum(data)
		h, sum = crypto.SHA1, d[:]
	case "2":
		d := sha256.Sum256(data)
		h, sum = crypto.SHA256, d[:]
	default:
		return "", fmt.Errorf("unknown SignatureVersion %q", e.SignatureVersion)
	}
	if v.OwnKey != nil && e.SigningCertURL == v.OwnCertURL {
		if err := rsa.VerifyPKCS1v15(v.OwnKey, h, sum, sig); err != nil {
			return "", errors.New("signature does not verify")
		}
		return receiver.OriginTrailwatch, nil
	}
	if !v.accountAllowed(e.TopicARN) {
		return "", fmt.Errorf("topic %q is not in an account allowed to deliver to receivers (--receiver-sns-accounts)", e.TopicARN)
	}
	cert, err := v.cert(ctx, e)
	if err != nil {
		return "", err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", errors.New("signing certificate has no RSA key")
	}
	if err := rsa.VerifyPKCS1v15(key, h, sum, sig); err != nil {
		return "", errors.New("signature does not verify")
	}
	return receiver.OriginAWS, nil
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// maxCachedCerts bounds the certificates kept: SNS has a few per region.
const maxCachedCerts = 100

// certFetchTimeout bounds a certificate fetch or SubscribeURL visit when Client has no timeout of
// its own.
const certFetchTimeout = 10 * time.Second

// cert returns the certificate at e.SigningCertURL, fetched from an allowed host. It is cached
// while it is valid; one that has expired is fetched again (it may have been renewed at the same
// URL), and a full cache forgets an entry rather than stop caching.
func (v *Verifier) cert(ctx context.Context, e Envelope) (*x509.Certificate, error) {
	u, err := url.Parse(e.SigningCertURL)
	if err != nil || !strings.HasSuffix(u.Path, ".pem") || u.RawQuery != "" || !v.allowed(u, e.TopicARN) {
		return nil, fmt.Errorf("SigningCertURL %q is not a certificate on an allowed SNS host", e.SigningCertURL)
	}
	now := v.now()
	v.mu.Lock()
	c := v.certs[e.SigningCertURL]
	v.mu.Unlock()
	if c != nil && (now.Before(c.NotBefore) || now.After(c.NotAfter)) {
		c = nil // expired (or not yet valid): fetch again, it may have been renewed in place
	}
	if c == nil {
		if c, err = v.fetchCert(ctx, e.SigningCertURL, now); err != nil {
			return nil, err
		}
		v.mu.Lock()
		if v.certs == nil {
			v.certs = map[string]*x509.Certificate{}
		}
		if _, ok := v.certs[e.SigningCertURL]; !ok && len(v.certs) >= maxCachedCerts {
			for k := range v.certs { // full: forget one, so new certificates are still cached
				delete(v.certs, k)
				break
			}
		}
		v.certs[e.SigningCertURL] = c
		v.mu.Unlock()
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, errors.New("signing certificate is not valid now")
	}
	return c, nil
}

// Bounds of certificate fetching: fetches in flight at once, how long a failed URL is not
// fetched again, and how many failed URLs are remembered.
const (
	maxCertFetches = 4
	certFailureTTL = time.Minute
	maxFailedCerts = 1000
)

// fetchCert fetches and parses the certificate at u, unless a fetch of u failed within
// certFailureTTL, waiting for one of maxCertFetches slots.
func (v *Verifier) fetchCert(ctx context.Context, u string, now time.Time) (*x509.Certificate, error) {
	v.mu.Lock()
	if until, ok := v.failed[u]; ok && now.Before(until) {
		v.mu.Unlock()
		return nil, errors.New("fetch signing certificate: it failed less than a minute ago")
	}
	if v.fetching == nil {
		v.fetching = make(chan struct{}, maxCertFetches)
	}
	slots := v.fetching
	v.mu.Unlock()
	select {
	case slots <- struct{}{}:
		defer func() { <-slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("fetch signing certificate: %w", ctx.Err())
	}
	c, err := v.doFetchCert(ctx, u)
	if err != nil && ctx.Err() == nil {
		v.mu.Lock()
		if v.failed == nil || len(v.failed) >= maxFailedCerts {
			v.failed = map[string]time.Time{}
		}
		v.failed[u] = now.Add(certFailureTTL)
		v.mu.Unlock()
	}
	return c, err
}

func (v *Verifier) doFetchCert(ctx context.Context, u string) (*x509.Certificate, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch signing certificate: %w", err)
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch signing certificate: %w", err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch signing certificate: HTTP %d", resp.StatusCode)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("signing certificate is not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing certificate: %w", err)
	}
	return c, nil
}

// Visit confirms a real SNS subscription by visiting its SubscribeURL, which must be on an
// allowed SNS host.
func (v *Verifier) Visit(ctx context.Context, subscribeURL, topicARN string) error {
	u, err := url.Parse(subscribeURL)
	if err != nil || !v.allowed(u, topicARN) {
		return fmt.Errorf("SubscribeURL %q is not on an allowed SNS host", subscribeURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
	if err != nil {
		return fmt.Errorf("visit SubscribeURL: %w", err)
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return fmt.Errorf("visit SubscribeURL: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("visit SubscribeURL: HTTP %d", resp.StatusCode)
	}
	return nil
}

// SNSConfirmer is the part of the SNS service that confirms trailwatch's own subscriptions.
type SNSConfirmer interface {
	ConfirmSubscription(ctx context.Context, caller sns.Scope, topicARN, token, authenticateOnUnsubscribe string) (string, error)
}

// Confirmer implements receiver.Confirmer: trailwatch's own subscriptions are confirmed with
// their token, as visiting the SubscribeURL would (whatever form that URL takes); real SNS
// subscriptions by visiting the SubscribeURL on its allowed host.
type Confirmer struct {
	SNS      SNSConfirmer
	Verifier *Verifier
}

// Confirm implements receiver.Confirmer.
func (c *Confirmer) Confirm(ctx context.Context, in receiver.Inbound) error {
	if in.Origin == receiver.OriginTrailwatch {
		_, err := c.SNS.ConfirmSubscription(ctx, sns.Scope{}, in.TopicARN, in.Token, "")
		return err
	}
	return c.Verifier.Visit(ctx, in.SubscribeURL, in.TopicARN)
}
