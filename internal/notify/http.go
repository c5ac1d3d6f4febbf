package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// HTTPTimeout is SNS's request timeout for HTTP/S deliveries [§3.3].
const HTTPTimeout = 15 * time.Second

// ErrForbiddenAddress is returned when an endpoint resolves to an address the SSRF guard
// refuses.
var ErrForbiddenAddress = errors.New("destination address is not allowed")

// blockedPrefixes are the destinations subscriber-chosen endpoints may not reach by default:
// loopback, link-local (cloud metadata at 169.254.169.254), private, shared (CGNAT), unspecified,
// multicast, broadcast and reserved ranges, in IPv4 and IPv6.
var blockedPrefixes = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// AllowedAddress reports whether the SSRF guard lets a delivery connect to ip. IPv4-mapped IPv6
// addresses are judged as the IPv4 address they carry; 6to4 and NAT64 forms are refused outright
// because they can embed any IPv4 address.
func AllowedAddress(ip netip.Addr) bool {
	// Prefix.Contains never matches an address with a zone (fe80::1%eth0): drop it first.
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return false
	}
	if ip.Is6() && netip.MustParsePrefix("2002::/16").Contains(ip) {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// HTTPSender delivers to http and https endpoints the way SNS does [§3.3]: a POST with SNS's
// headers and the rendered body; any status from 200 to 499 counts as delivered, a 5xx, a
// timeout or a connection error is a failed attempt.
//
// The SSRF guard checks the address actually dialled (after DNS resolution, so rebinding cannot
// get around it) unless AllowPrivate is set; proxies from the environment are ignored; redirects
// are followed only to the same host, at most three.
type HTTPSender struct {
	client *http.Client
}

// NewHTTPSender returns an HTTP sender. allowPrivate disables the SSRF guard (for endpoints on
// the operator's own network); tlsConfig, when non-nil, is used for https endpoints.
func NewHTTPSender(allowPrivate bool, transport *http.Transport) *HTTPSender {
	return &HTTPSender{client: NewClient(allowPrivate, transport)}
}

// NewClient returns the HTTP client of deliveries, SNS's and receivers' alike: the SSRF guard
// (unless allowPrivate), no proxies from the environment, SNS's 15 s timeout and redirects only
// to the same host.
func NewClient(allowPrivate bool, transport *http.Transport) *http.Client {
	if transport == nil {
		transport = &http.Transport{}
	}
	dialer := &net.Dialer{Timeout: HTTPTimeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !AllowedAddress(ap.Addr()) {
				return fmt.Errorf("connect to %s: %w", address, ErrForbiddenAddress)
			}
			return nil
		}
	}
	transport.Proxy = nil
	transport.DialContext = dialer.DialContext
	transport.MaxIdleConnsPerHost = 32
	transport.ResponseHeaderTimeout = HTTPTimeout
	client := &http.Client{
		Transport: transport,
		Timeout:   HTTPTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("stopped after 3 redirects")
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return client
}

// userAgent is the User-Agent of SNS's HTTP deliveries.
const userAgent = "Amazon Simple Notification Service Agent"

// Send implements Sender.
func (s *HTTPSender) Send(ctx context.Context, d sns.Delivery) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewReader([]byte(d.Body)))
	if err != nil {
		return "", fmt.Errorf("build request: %w", err)
	}
	for k, v := range d.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", userAgent)
	// As SNS sends it; the response body is discarded, so Go's transparent gunzip is not needed.
	req.Header.Set("Accept-Encoding", "gzip,deflate")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	detail := "HTTP " + strconv.Itoa(resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 499 {
		return detail, fmt.Errorf("endpoint answered %s", detail)
	}
	return detail, nil
}
