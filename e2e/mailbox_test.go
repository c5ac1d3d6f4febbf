package e2e

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// received is one mail accepted by the test SMTP server.
type received struct {
	At      time.Time
	From    string
	To      []string
	Header  mail.Header
	Subject string
	Body    string // decoded text
	Raw     []byte
}

// mailbox is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that keeps every message.
type mailbox struct {
	t      *testing.T
	Addr   string
	srv    *smtp.Server
	mu     sync.Mutex
	msgs   []received
	notify chan struct{}
	// hold is holdOnce's subject, held and release its channels.
	hold          string
	held, release chan struct{}
}

// holdOnce makes the next message with the given subject wait at the end of its DATA, neither
// accepted nor refused, until release is closed; held is closed when it arrives. It is then refused
// and not kept: as seen from the sender, the mail server never acknowledged it, which is what a
// sender killed in the middle of the send sees.
func (mb *mailbox) holdOnce(subject string) (held, release chan struct{}) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.hold, mb.held, mb.release = subject, make(chan struct{}), make(chan struct{})
	return mb.held, mb.release
}

// startMailbox starts the test SMTP server on addr ("" picks a free port).
func startMailbox(t *testing.T, addr string) *mailbox {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{t: t, Addr: ln.Addr().String(), notify: make(chan struct{}, 1)}
	mb.srv = smtp.NewServer(mb)
	mb.srv.Domain = "localhost"
	mb.srv.AllowInsecureAuth = true
	mb.srv.ReadTimeout = 10 * time.Second
	mb.srv.WriteTimeout = 10 * time.Second
	go mb.srv.Serve(ln)
	t.Cleanup(func() { mb.srv.Close() })
	return mb
}

func (mb *mailbox) close() { mb.srv.Close() }

// NewSession implements smtp.Backend.
func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }

type mailSession struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("unparsable message")
	}
	body, _ := io.ReadAll(m.Body)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body, _ = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subj = m.Header.Get("Subject")
	}
	s.mb.mu.Lock()
	if s.mb.hold != "" && subj == s.mb.hold {
		held, release := s.mb.held, s.mb.release
		s.mb.hold = ""
		s.mb.mu.Unlock()
		close(held)
		<-release
		return errors.New("held and refused by the test")
	}
	s.mb.msgs = append(s.mb.msgs, received{At: at, From: s.from, To: s.to, Header: m.Header, Subject: subj, Body: strings.ReplaceAll(string(body), "\r\n", "\n"), Raw: raw})
	s.mb.mu.Unlock()
	select {
	case s.mb.notify <- struct{}{}:
	default:
	}
	return nil
}

// all returns a copy of every message received so far.
func (mb *mailbox) all() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]received(nil), mb.msgs...)
}

// wait returns the first message (after the first skip ones) that match accepts, failing the
// test after timeout.
func (mb *mailbox) wait(timeout time.Duration, accept func(received) bool) received {
	mb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range mb.all() {
			if accept(m) {
				return m
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			var subjects []string
			for _, m := range mb.all() {
				subjects = append(subjects, m.Subject)
			}
			mb.t.Fatalf("no matching mail within %v; received subjects: %q", timeout, subjects)
		}
		select {
		case <-mb.notify:
		case <-time.After(min(left, 20*time.Millisecond)):
		}
	}
}
