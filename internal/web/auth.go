package web

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Session cookie names: with TLS the __Host- prefix makes the browser refuse the cookie unless it
// is Secure, has Path=/ and no Domain, so no sibling host or plain-HTTP page can plant or shadow it.
const (
	cookieSecure = "__Host-trailwatch-session"
	cookiePlain  = "trailwatch-session"
)

func (c *Console) cookieName() string {
	if c.opts.Secure {
		return cookieSecure
	}
	return cookiePlain
}

// session is one login. The token is the map key, never stored elsewhere.
type session struct {
	accessKeyID string
	created     time.Time
	lastSeen    time.Time
}

// sessions is the server-side session table. Sessions live in memory: a restart logs everyone
// out, which is the safe failure.
type sessions struct {
	mu      sync.Mutex
	now     func() time.Time
	idle    time.Duration
	maxAge  time.Duration
	byToken map[string]*session
}

func newSessions(now func() time.Time, idle, maxAge time.Duration) *sessions {
	return &sessions{now: now, idle: idle, maxAge: maxAge, byToken: map[string]*session{}}
}

// create starts a session and returns its token: 32 random bytes.
func (s *sessions) create(accessKeyID string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.byToken[tok] = &session{accessKeyID: accessKeyID, created: now, lastSeen: now}
	return tok
}

// touch returns the live session of tok and marks it used; ok is false for an unknown, idle or
// too old session, which is then forgotten.
func (s *sessions) touch(tok string) (*session, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.byToken[tok]
	if !ok {
		return nil, false
	}
	if s.expired(se, now) {
		delete(s.byToken, tok)
		return nil, false
	}
	se.lastSeen = now
	return se, true
}

func (s *sessions) expired(se *session, now time.Time) bool {
	return now.Sub(se.lastSeen) >= s.idle || now.Sub(se.created) >= s.maxAge
}

// sweep drops expired sessions; the caller holds mu.
func (s *sessions) sweep(now time.Time) {
	for k, se := range s.byToken {
		if s.expired(se, now) {
			delete(s.byToken, k)
		}
	}
}

func (s *sessions) end(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byToken, tok)
}

// limiter is a token bucket per client address for login attempts.
type limiter struct {
	mu     sync.Mutex
	now    func() time.Time
	burst  int
	refill time.Duration
	// buckets holds the tokens left and when they were counted.
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(now func() time.Time, burst int, refill time.Duration) *limiter {
	return &limiter{now: now, burst: burst, refill: refill, buckets: map[string]bucket{}}
}

// allow takes a token for addr; false means the client must wait.
func (l *limiter) allow(addr string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 10000 { // forget full buckets so that many addresses cannot grow the map
		for k, b := range l.buckets {
			if l.level(b, now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[addr]
	if !ok {
		b = bucket{tokens: float64(l.burst), at: now}
	}
	b.tokens, b.at = l.level(b, now), now
	if b.tokens < 1 {
		l.buckets[addr] = b
		return false
	}
	b.tokens--
	l.buckets[addr] = b
	return true
}

func (l *limiter) level(b bucket, now time.Time) float64 {
	return min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.refill))
}

// clientAddr is the address logins are limited by: the connection's peer. Forwarding headers are
// not trusted (a client could pick any address); behind a proxy every client shares its address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireSession sends a client without a live session to the login page (303, with the page it
// asked for), or answers 401 to a script's request (an event stream, the graph data).
func (c *Console) requireSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(c.cookieName()); err == nil {
			if _, ok := c.sessions.touch(ck.Value); ok {
				h.ServeHTTP(w, r)
				return
			}
		}
		if r.Method != http.MethodGet || strings.HasSuffix(r.URL.Path, "/stream") || strings.HasSuffix(r.URL.Path, ".json") {
			http.Error(w, "Not logged in.", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// safeNext keeps a post-login redirect on the console: a path under Prefix, never another host.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/board"
	}
	return next
}

type loginData struct {
	Next  string
	Error string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", "Log in", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	next := safeNext(r.PostFormValue("next"))
	addr := clientAddr(r)
	if !c.limiter.allow(addr) {
		c.log.Warn("console login refused: too many attempts", "addr", addr)
		w.Header().Set("Retry-After", "60")
		c.render(w, r, http.StatusTooManyRequests, "login", "Log in", loginData{Next: next, Error: "Too many login attempts from your address. Wait a minute and try again."})
		return
	}
	id, secret := strings.TrimSpace(r.PostFormValue("access_key_id")), r.PostFormValue("secret_access_key")
	if id == "" || secret == "" || !c.opts.Authenticate(id, secret) {
		c.log.Warn("console login failed", "addr", addr)
		c.render(w, r, http.StatusUnauthorized, "login", "Log in", loginData{Next: next, Error: "The access key id or the secret access key is wrong."})
		return
	}
	tok := c.sessions.create(id)
	http.SetCookie(w, &http.Cookie{
		Name: c.cookieName(), Value: tok, Path: "/", HttpOnly: true, Secure: c.opts.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.opts.MaxAge / time.Second),
	})
	c.log.Info("console login", "addr", addr, "access_key_id", id)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(c.cookieName()); err == nil {
		c.sessions.end(ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
