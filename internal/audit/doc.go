// Package audit decides whether an AWS account has a working root-login alert chain (CloudTrail ->
// CloudWatch Logs -> metric filter -> alarm -> SNS -> subscriber) and a safe root user, from a
// snapshot of the account's facts. It holds the rules only: pure functions over Facts, with no AWS
// SDK and no I/O, so that every Security Hub rule can be tested as a table and the same facts can
// feed both `trailwatch audit` and the planner of `trailwatch apply`.
//
// The rules follow ../shared/reference/audit-and-apply.md: Security Hub's CloudWatch.1-14 semantics
// (SH23/SH25: a multi-Region trail logging read and write management events to CloudWatch Logs, the
// exact CIS filter text, an alarm with actions, a topic with at least one subscriber; NO_DATA when the
// trail is homed in another Region or account; WARNING for a topic owned elsewhere or that cannot be
// listed), the root-hygiene controls IAM.4, IAM.6 and IAM.9, and trailwatch's own checks, named
// trailwatch.<name>, for what makes an alert never fire even when Security Hub passes it.
package audit
