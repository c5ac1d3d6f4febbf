package web

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestClientAddrIPv6Prefix checks the key logins are limited by: an IPv6 peer's /64 (a client
// normally holds a whole /64, and could otherwise take a fresh budget from each of its 2^64
// addresses), an IPv4 peer's address, an IPv4-mapped IPv6 peer as IPv4.
func TestClientAddrIPv6Prefix(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"[2001:db8:1:2:aaaa::1]:5000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:5001", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:5000", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:5000", "fe80::/64"},
		{"203.0.113.7:5000", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:5000", "203.0.113.7"},
		{"not-an-address", "not-an-address"},
	} {
		r := httptest.NewRequest("POST", "/console/login", nil)
		r.RemoteAddr = tc.remote
		if got := clientAddr(r); got != tc.want {
			t.Errorf("clientAddr(%q) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// TestLoginLimitSharedByIPv6Prefix checks that rotating through the addresses of one /64 gives
// no more login attempts than one address has.
func TestLoginLimitSharedByIPv6Prefix(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(func() time.Time { return now }, LoginBurst, LoginRefill)
	allowed := 0
	for i := range 4 * LoginBurst {
		r := httptest.NewRequest("POST", "/console/login", nil)
		r.RemoteAddr = "[2001:db8::" + string("0123456789abcdef"[i%16]) + ":" + string("0123456789abcdef"[i/16]) + "]:443"
		if l.allow(clientAddr(r)) {
			allowed++
		}
	}
	if allowed != LoginBurst {
		t.Errorf("%d attempts allowed from one /64, want %d", allowed, LoginBurst)
	}
}
