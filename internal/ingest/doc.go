// Package ingest holds trailwatch's CloudTrail sources and the sink they share. Every source
// decodes records with package cloudtrail and hands them to a Sink, which writes them to a log
// group the way CloudTrail writes to CloudWatch Logs (one event per record in the
// <account>_CloudTrail_<region> stream, PutLogEvents' batch limits, deduplicated by eventID).
//
// Sources: CloudTrail's S3 bucket, read through SQS notifications of new objects or by polling
// the bucket (S3Source); EventBridge API destination deliveries (EventBridgeHandler); CloudWatch
// Logs subscriptions delivered by Amazon Data Firehose to an HTTP endpoint (FirehoseHandler).
// Files on disk are read by the trailwatch ingest command, which sends them through the
// CloudWatch Logs API instead.
package ingest
