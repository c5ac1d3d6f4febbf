// Package notify delivers what the sns package puts in the outbox: a Worker takes due
// deliveries, sends each with the Sender of its protocol (Mailer over SMTP with go-mail,
// HTTPSender for http/https), records every attempt, and schedules retries under the delivery's
// SNS retry policy until it is delivered or the policy runs out. Delivery is at least once; the
// SNS MessageId (and, for mail, a stable Message-ID header) lets receivers drop the repeat a
// crash between sending and recording can cause.
//
// Safety: HTTP deliveries go through an SSRF guard that refuses loopback, link-local (cloud
// metadata), private and other special addresses after DNS resolution, ignores proxy settings
// and follows redirects only on the same host; mail headers are built by go-mail from values
// with control characters removed, display names restricted to plain characters, and recipients
// that must be bare addresses.
//
// AlarmPublisher connects CloudWatch alarm actions to SNS and adds the log events behind an
// ALARM (who, what, where, MFA, when for CloudTrail records; at most ShownEvents listed, up to
// ScannedEvents counted) to the email text and, under EvidenceKey, to the JSON message.
package notify
