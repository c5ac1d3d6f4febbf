// Package sns is trailwatch's SNS domain: topics, subscriptions and their confirmation tokens,
// Publish with filter policies, and the messages SNS sends (HTTP/S JSON bodies signed with
// SignatureVersion 1 or 2, email and email-json texts). It never sends anything itself: every
// message is rendered once, completely, into a Delivery and stored in the durable outbox in the
// same transaction as the call that caused it (Publish, Subscribe, an unsigned Unsubscribe), so
// a retry resends exactly the same bytes and an acknowledged Publish is never lost. The notify
// package drains the outbox.
//
// Decisions on questions the AWS documentation and the reference leave open:
//
//   - Links: SubscribeURL and UnsubscribeURL have AWS's exact form (no Version, the ARN
//     unescaped) under the public base URL, and are served unsigned there, with exactly those
//     parameters; email links point at /confirmation.html and
//     /unsubscribe.html there; SigningCertURL serves a self-signed certificate. Verifiers that
//     insist on an amazonaws.com host must be pointed at the trailwatch host instead.
//   - §6.3: per-protocol messages use the key of the subscription's protocol ("email",
//     "email-json", "http", "https") and fall back to "default".
//   - §6.12: an email-json confirmation carries the signed SubscriptionConfirmation JSON an HTTP
//     endpoint would get; a notification email without Subject is titled "AWS Notification
//     Message"; the email footer keeps AWS's unsubscribe text but drops the AWS support line.
//   - Only http, https, email and email-json are delivered; Subscribe refuses sqs, lambda,
//     firehose, application and sms with an InvalidParameter that says so.
//   - Unsubscribe of a subscription that does not exist succeeds (like DeleteTopic); an unsigned
//     Unsubscribe (a visited link) of a confirmed HTTP/S subscription sends a final
//     UnsubscribeConfirmation, and is refused for subscriptions confirmed with
//     AuthenticateOnUnsubscribe. The SubscribeURL of that final message cannot restore the
//     deleted subscription (AWS's can); subscribe again instead.
//   - A pending subscription whose token expired (three days) is treated as deleted, as SNS
//     deletes it: it cannot be confirmed, is not listed or counted, and subscribing the same
//     endpoint again starts a new subscription. Its row is removed then, not by a sweep.
//   - Retry schedules follow SNS's policies without jitter (see RetryPolicy).
//   - Publish with a DedupKey is idempotent; alarm actions use it so an action republished after
//     a crash is delivered once.
//   - Filter policies are compiled as SNS compiles them (Event Ruler's JsonRuleCompiler), with
//     AWS's messages and Jackson's locations in today's form ("[Source: REDACTED …; line: L,
//     column: C]"); see FilterPolicy for the forms accepted beyond SNS's documentation. The
//     documented numeric range (±1e9, five decimals) is not enforced, as AWS does not enforce it;
//     nesting is refused for MessageAttributes and, for MessageBody, bounded by the complexity
//     limit, whose count weighs each array by its depth.
//   - ConfirmSubscription: a token that is not 64–512 hex digits is "Invalid token", an unknown
//     one "Invalid parameter: Token"; on the one endpoint, the region of an unsigned call is the
//     region of the subscription its token names ("Invalid parameter: Topic" otherwise).
//   - PublishBatch fails as a whole for the errors AWS recorded as whole-batch ones (batch shape,
//     topic, message attributes, message structure) and per entry for the other ones Publish
//     answers (an empty message, an invalid Subject).
//   - RedrivePolicy is validated and stored; without SQS, a delivery whose retries run out stays
//     in the outbox as failed.
package sns
