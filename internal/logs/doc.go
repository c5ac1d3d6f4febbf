// Package logs is the CloudWatch Logs domain: log groups, log streams and their events, the
// PutLogEvents batch rules, GetLogEvents and FilterLogEvents, retention, and metric filters, which
// turn matching log events into metrics.Samples.
//
// The package owns AWS's semantics and validation (error codes and message texts included) and
// nothing else: it never touches storage or the wire. Persistence goes through the Store interface
// declared here; every backend proves itself against the conformance suite in logstest.
//
// Timestamps are int64 milliseconds since the Unix epoch throughout, because that is what the
// CloudWatch Logs API speaks (its timestamp members are typed long, not timestamp).
package logs
