package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/trailwatch/trailwatch/internal/sns"
)

// TLS modes of the SMTP connection.
const (
	// TLSStartTLS requires STARTTLS.
	TLSStartTLS = "starttls"
	// TLSImplicit connects with TLS from the start (SMTPS, usually port 465).
	TLSImplicit = "tls"
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic = "opportunistic"
	// TLSNone never encrypts (a relay on the same host).
	TLSNone = "none"
)

// Mailer sends email and email-json deliveries through an SMTP server.
type Mailer struct {
	// Addr is the server's host:port.
	Addr string
	// From is the envelope and header sender address; the display name is the topic's
	// DisplayName or "AWS Notifications".
	From string
	// TLS is one of TLSStartTLS, TLSImplicit, TLSOpportunistic (the default) and TLSNone.
	TLS string
	// Username and Password, when set, authenticate (PLAIN, or LOGIN if the server offers only it).
	Username, Password string
	// TLSConfig overrides the TLS configuration (e.g. a private CA).
	TLSConfig *tls.Config
	// Timeout bounds one SMTP session; zero means 30 s.
	Timeout time.Duration
	// Now stamps the Date header; nil means time.Now.
	Now func() time.Time
}

// Validate checks the configuration.
func (m *Mailer) Validate() error {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("SMTP address %q is not host:port", m.Addr)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return fmt.Errorf("SMTP port %q is not a number", port)
	}
	if a, err := mail.ParseAddress(m.From); err != nil || a.Name != "" || a.Address != m.From {
		return fmt.Errorf("SMTP from address %q is not a bare email address", m.From)
	}
	switch m.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSOpportunistic, TLSNone:
	default:
		return fmt.Errorf("SMTP TLS mode %q is not starttls, tls, opportunistic or none", m.TLS)
	}
	return nil
}

// headerSafe removes what could end a mail header or start a new one: control characters
// (CR, LF, NUL, ...) become spaces. Subjects published through the API are already ASCII without
// line breaks; alarm names, topic display names and enrichment data pass through here too.
func headerSafe(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, s)
}

// displayName keeps a From display name to letters, digits, spaces and plain punctuation, so
// that whatever a topic's DisplayName holds, the header encodes and parses back cleanly.
func displayName(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -_.:()!?&/'+#", r) {
			return r
		}
		return ' '
	}, s)
	return strings.TrimSpace(s)
}

// MessageIDHeader is the Message-ID of a delivery's email: the same on every retry, so that a
// mailbox (or a human) can drop a repeat after a crash-and-resend.
func MessageIDHeader(d sns.Delivery, from string) string {
	h := sha256.Sum256([]byte(d.SubscriptionARN))
	domain := "trailwatch.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		domain = from[i+1:]
	}
	return d.MessageID + "." + hex.EncodeToString(h[:6]) + "@" + domain
}

// BuildMessage renders a delivery as a mail message. It is exported for tests that check that
// nothing in a delivery can add or alter headers.
func (m *Mailer) BuildMessage(d sns.Delivery) (*gomail.Msg, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	// net/mail quotes and encodes the display name itself, whatever characters it holds.
	msg.FromMailAddress(&mail.Address{Name: displayName(d.FromName), Address: m.From})
	if a, err := mail.ParseAddress(d.Endpoint); err != nil || a.Address != d.Endpoint || strings.ContainsAny(d.Endpoint, "\r\n") {
		return nil, fmt.Errorf("invalid recipient %q", d.Endpoint)
	}
	if err := msg.To(d.Endpoint); err != nil {
		return nil, fmt.Errorf("set recipient: %w", err)
	}
	msg.Subject(headerSafe(d.Subject))
	msg.SetMessageIDWithValue(MessageIDHeader(d, m.From))
	msg.SetDateWithValue(now())
	msg.SetGenHeader("X-Amz-Sns-Message-Id", d.MessageID)
	if d.UnsubscribeURL != "" && !strings.ContainsAny(d.UnsubscribeURL, "\r\n<>") {
		msg.SetGenHeaderPreformatted("List-Unsubscribe", "<"+d.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	ct := gomail.TypeTextPlain
	msg.SetBodyString(ct, d.Body)
	return msg, nil
}

// Send implements Sender.
func (m *Mailer) Send(ctx context.Context, d sns.Delivery) (string, error) {
	msg, err := m.BuildMessage(d)
	if err != nil {
		return "", err
	}
	host, portStr, _ := net.SplitHostPort(m.Addr)
	port, _ := strconv.Atoi(portStr)
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout), gomail.WithHELO("trailwatch")}
	switch m.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(m.TLSConfig))
	}
	if m.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.Username), gomail.WithPassword(m.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return "", fmt.Errorf("configure SMTP client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return "", fmt.Errorf("send mail: %w", err)
	}
	return "250 accepted by " + m.Addr, nil
}
