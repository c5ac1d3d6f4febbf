package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
	"github.com/trailwatch/trailwatch/internal/logs"
)

// views are the console's pages, each with its own URL.
var views = []string{
	"/console/", "/console/board", "/console/board?state=ALARM&account=111122223333", "/console/alarms/111122223333/us-east-1/RootAccountUsage",
	"/console/feed", "/console/evidence?account=111122223333&region=us-east-1&group=g&stream=s&ts=1", "/console/coverage",
	"/console/workbench", "/console/notifications", "/console/sources", "/console/no-such-page",
}

// TestNoSessionRedirectsToLogin checks that without a session every view answers 303 to the
// login page (naming the page asked for), and that script endpoints and POSTs answer 401.
func TestNoSessionRedirectsToLogin(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	for _, v := range views {
		resp := r.do(c, "GET", v, nil, "same-origin")
		readBody(t, resp)
		want := "/console/login?next=" + url.QueryEscape(v)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s without a session: %d %q, want 303 %q", v, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	for _, v := range []string{"/console/board/stream", "/console/feed/stream", "/console/alarms/111122223333/us-east-1/RootAccountUsage/graph.json"} {
		if code, _ := r.get(c, v); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", v, code)
		}
	}
	for _, v := range []string{"/console/workbench", "/console/workbench/create"} {
		resp := r.do(c, "POST", v, url.Values{"pattern": {"x"}}, "same-origin")
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401", v, resp.StatusCode)
		}
	}
	// A forged or expired cookie is no session either.
	c.Jar.SetCookies(mustURL(t, r.srv.URL), []*http.Cookie{{Name: cookiePlain, Value: "forged", Path: "/"}})
	if code, _ := r.get(c, "/console/board"); code != http.StatusSeeOther {
		t.Errorf("GET /console/board with a forged cookie: %d, want 303", code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSecurityHeaders checks the headers on every kind of console response: pages, redirects,
// errors, assets, refusals.
func TestSecurityHeaders(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	check := func(what string, h http.Header) {
		t.Helper()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", what, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q allows inline script, eval or other origins", what, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", what, h)
		}
	}
	for _, v := range []string{"/console/login", "/console/board", "/console/static/console.css", "/console/static/uPlot.iife.min.js"} {
		resp := r.do(c, "GET", v, nil, "same-origin")
		readBody(t, resp)
		check("GET "+v+" logged out", resp.Header)
	}
	resp := r.do(c, "POST", "/console/login", url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}}, "cross-site")
	readBody(t, resp)
	check("cross-site POST", resp.Header)
	r.login(c)
	for _, v := range views {
		resp := r.do(c, "GET", v, nil, "same-origin")
		body := readBody(t, resp)
		check("GET "+v, resp.Header)
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, " onclick=") {
			t.Errorf("GET %s has inline script or style", v)
		}
	}
}

// TestCrossOriginPostRefused checks that a cross-origin POST is refused (CrossOriginProtection)
// before it changes anything, whether it logs in, logs out or creates a metric filter.
func TestCrossOriginPostRefused(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	creds := url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}}
	resp := r.do(c, "POST", "/console/login", creds, "cross-site")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site login: %d, cookies %v; want 403 and no session", resp.StatusCode, resp.Cookies())
	}
	// The Origin check of browsers that send no Sec-Fetch-Site.
	req, _ := http.NewRequest("POST", r.srv.URL+"/console/login", strings.NewReader(creds.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.Do(req)
	must(t, err)
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with a foreign Origin: %d, want 403", resp.StatusCode)
	}
	r.login(c)
	form := url.Values{"pattern": {cisRoot}, "account": {testAccount}, "region": {testRegion}, "group": {group},
		"filter_name": {"Evil"}, "namespace": {"Evil"}, "metric_name": {"Evil"}, "metric_value": {"1"}}
	resp = r.do(c, "POST", "/console/workbench/create", form, "cross-site")
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site create: %d, want 403", resp.StatusCode)
	}
	fs, err := r.logs.DescribeMetricFilters(context.Background(), logs.Scope(home), logs.DescribeMetricFiltersInput{LogGroupName: group, FilterNamePrefix: "Evil"})
	must(t, err)
	if len(fs.MetricFilters) != 0 {
		t.Errorf("a cross-site POST created %v", fs.MetricFilters)
	}
	resp = r.do(c, "POST", "/console/logout", url.Values{}, "cross-site")
	readBody(t, resp)
	if code, _ := r.get(c, "/console/board"); resp.StatusCode != http.StatusForbidden || code != http.StatusOK {
		t.Errorf("cross-site logout: %d, then the board %d; want 403 and the session kept", resp.StatusCode, code)
	}
	// The same request from the console itself works.
	resp = r.do(c, "POST", "/console/workbench/create", form, "same-origin")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Metric filter Evil on "+group) {
		t.Errorf("same-origin create: %d", resp.StatusCode)
	}
}

// TestLoginAndSession checks the login form, the cookie's attributes (plain HTTP, then TLS with
// the __Host- prefix), logout by POST only, idle and absolute expiry, and the post-login redirect
// staying on the console.
func TestLoginAndSession(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	resp := r.do(c, "POST", "/console/login", url.Values{"access_key_id": {testKeyID}, "secret_access_key": {"wrong"}}, "same-origin")
	if body := readBody(t, resp); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(body, "is wrong") {
		t.Errorf("wrong secret: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp = r.do(c, "POST", "/console/login", url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}, "next": {"//evil.example/x"}}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/board" {
		t.Errorf("login with an off-site next: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || ck[0].Name != cookiePlain || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" || ck[0].Domain != "" || ck[0].Secure || len(ck[0].Value) < 40 {
		t.Errorf("session cookie over HTTP = %+v", ck)
	}
	if code, _ := r.get(c, "/console/board"); code != http.StatusOK {
		t.Fatalf("board after login: %d", code)
	}
	// Logout is a POST; a GET does nothing.
	if code, _ := r.get(c, "/console/logout"); code == http.StatusSeeOther || code == http.StatusOK {
		t.Errorf("GET /console/logout: %d, want it refused", code)
	}
	if code, _ := r.get(c, "/console/board"); code != http.StatusOK {
		t.Errorf("a GET of the logout URL ended the session")
	}
	old := c.Jar.Cookies(mustURL(t, r.srv.URL))
	resp = r.do(c, "POST", "/console/logout", url.Values{}, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d %v", resp.StatusCode, resp.Cookies())
	}
	// The old token is dead on the server, not only deleted in the browser.
	c2 := r.client()
	c2.Jar.SetCookies(mustURL(t, r.srv.URL), old)
	if code, _ := r.get(c2, "/console/board"); code != http.StatusSeeOther {
		t.Errorf("board with the logged-out token: %d, want 303", code)
	}

	// Idle expiry, and the absolute limit however busy the session is.
	r.login(c)
	r.clock.advance(DefaultIdleTimeout - time.Minute)
	if code, _ := r.get(c, "/console/board"); code != http.StatusOK {
		t.Errorf("board before the idle timeout: %d", code)
	}
	r.clock.advance(DefaultIdleTimeout)
	if code, _ := r.get(c, "/console/board"); code != http.StatusSeeOther {
		t.Errorf("board after the idle timeout: %d, want 303", code)
	}
	r.login(c)
	for range int(DefaultMaxAge / (20 * time.Minute)) {
		r.clock.advance(20 * time.Minute)
		r.get(c, "/console/board")
	}
	if code, _ := r.get(c, "/console/board"); code != http.StatusSeeOther {
		t.Errorf("board past the session's max age: %d, want 303", code)
	}

	// Over TLS the cookie is Secure and __Host- prefixed.
	rs := newRig(t, func(o *Options) { o.Secure = true })
	resp = rs.do(rs.client(), "POST", "/console/login", url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}}, "same-origin")
	readBody(t, resp)
	ck = resp.Cookies()
	if len(ck) != 1 || ck[0].Name != "__Host-trailwatch-session" || !ck[0].Secure || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" {
		t.Errorf("session cookie over TLS = %+v", ck)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

// TestLoginRateLimit checks that logins are limited per client address: LoginBurst attempts, then
// 429 (even with the right secret) until a token refills.
func TestLoginRateLimit(t *testing.T) {
	r := newRig(t, nil)
	c := r.client()
	bad := url.Values{"access_key_id": {testKeyID}, "secret_access_key": {"guess"}}
	for i := range LoginBurst {
		resp := r.do(c, "POST", "/console/login", bad, "same-origin")
		readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	good := url.Values{"access_key_id": {testKeyID}, "secret_access_key": {testSecret}}
	resp := r.do(c, "POST", "/console/login", good, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusTooManyRequests || len(resp.Cookies()) != 0 {
		t.Errorf("attempt after the burst: %d, want 429 and no session", resp.StatusCode)
	}
	r.clock.advance(LoginRefill)
	resp = r.do(c, "POST", "/console/login", good, "same-origin")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("attempt after a refill: %d, want 303", resp.StatusCode)
	}
}

// hostile is a CloudTrail record whose fields hold markup and script.
func hostile(at time.Time) string {
	return strings.NewReplacer(`"arn:aws:iam::111122223333:root"`, `"arn:aws:iam::111122223333:user/<script>alert(1)</script>"`).
		Replace(rootLogin(at, "203.0.113.7", `<img src=x onerror=alert(2)>`))
}

// TestEventFieldsRenderAsText checks that a record holding HTML and script shows as text on every
// page that shows events: the board, the alarm detail, the evidence, the feed and the workbench.
func TestEventFieldsRenderAsText(t *testing.T) {
	r := newRig(t, nil)
	r.seed()
	c := r.client()
	r.login(c)
	r.put(hostile(r.clock.now()))
	must(t, r.alarms.SetAlarmState(context.Background(), alarm.Scope(home), "RootAccountUsage", alarm.SetStateRequest{StateValue: "ALARM", StateReason: "test <b>reason</b>"}))
	ev := &evidence{Scope: home, LogGroupName: group, LogStreamName: stream, Timestamp: r.clock.now().UnixMilli()}
	pages := []string{"/console/board", "/console/alarms/111122223333/us-east-1/RootAccountUsage", ev.URL(), "/console/feed"}
	for _, p := range pages {
		code, body := r.get(c, p)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>reason") {
			t.Errorf("GET %s renders event markup as HTML", p)
		}
		if p != "/console/alarms/111122223333/us-east-1/RootAccountUsage" && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the event's script as text", p)
		}
	}
	resp := r.do(c, "POST", "/console/workbench", url.Values{"pattern": {cisRoot}, "lines": {hostile(r.clock.now())}}, "same-origin")
	body := readBody(t, resp)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "1 of 1 events") {
		t.Errorf("workbench: the pasted script is not text, or the match is not reported")
	}
}

// waitFeed waits until the feed holds n events (it matches on its own goroutine).
func waitFeed(t *testing.T, r *rig, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, _, _ := r.console.feed.snapshot()
		if len(evs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed has %d events, want %d", len(evs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
