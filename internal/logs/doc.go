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
//
// # Decisions
//
// Where AWS's behaviour is undocumented or unrecorded, this package decides as follows; each is
// pinned by a test.
//
//   - Event size is the message's UTF-8 bytes plus 26, for the 256 KiB per-event limit
//     ("Log event too large: <n> bytes exceeds limit of 262144") as for the 1 MiB batch limit
//     ("Upload too large: ..."). Some clients report AWS has since raised the per-event quota to
//     1 MB; the brief and the reference keep 256 KiB.
//   - A batch's rejected events are a prefix (more than 14 days old: tooOldLogEventEndIndex;
//     older than the group's retention: expiredLogEventEndIndex) and a suffix (more than 2 hours
//     ahead: tooNewLogEventStartIndex), each index computed on its own; the boundaries themselves
//     are accepted. Order, size and 24-hour-span violations reject the whole batch.
//   - Sequence tokens are accepted and ignored. nextSequenceToken and uploadSequenceToken are the
//     stream's count of accepted PutLogEvents calls as 56 digits, like AWS's tokens.
//   - A metric-filter sample carries the log event's timestamp (ARCHITECTURE.md). A filter with a
//     defaultValue publishes it, marked Default, for each minute of a batch in which the filter
//     matched none of the batch's events.
//   - storedBytes counts UTF-8 message bytes.
//   - Every append publishes AWS/Logs IncomingLogEvents and IncomingBytes (per LogGroupName and
//     account-wide) in its own transaction: one sample per metric and batch, at the ingestion
//     time, counting the accepted events (redelivered records included) and their size as above
//     (servicemetrics.go).
//   - GetLogEvents tokens are "f/" or "b/" plus 40 digits (timestamp and sequence of the event a
//     page ended at). An exhausted direction returns the token passed in; the opposite token then
//     points just past that position, so paging back from the end includes the last event.
//   - FilterLogEvents examines at most 200,000 events per call and then returns what it found with
//     a nextToken, possibly with no events, as AWS's documentation allows.
//   - startTime and endTime of 0 mean "unbounded": no event can be older than the epoch, and an
//     explicit endTime of 0 would select nothing.
//   - Reads never return events older than the group's retention, even before ExpireEvents has
//     deleted them.
//   - PutMetricFilter on an existing name replaces the filter, creation time included; the time
//     since which its definition has been live (MetricFilter.LiveSince, trailwatch's) is kept by a
//     put of the same definition and reset by a changed one (MetricFilter.Replacing).
//   - A metric filter whose dimensions generate more than 1,000 distinct name/value pairs within an
//     hour (server clock, sliding) is disabled: the sample bringing the 1,001st pair is dropped, the
//     filter publishes nothing more until PutMetricFilter puts it again, the state is stored and
//     logged once (cardinality.go). A stored filter whose pattern no longer compiles is skipped and
//     logged once per load of its group. AWS's MetricFilter has no member for either state, so
//     DescribeMetricFilters keeps AWS's shape and adds trailwatchFilterState and
//     trailwatchFilterStateReason to such a filter only; SDKs skip members they do not model.
//   - A backfill (trailwatch's extension: Backfill, Backfiller) ends, unless told otherwise, at the
//     time since which the filter has been live (or the end of the period it was disabled, before
//     a put enabled it again: DefaultEnd), and skips the events the filter counted live
//     (MetricFilter.CountedLive), so re-running a setup script or a Terraform apply never makes it
//     count twice. DescribeMetricFilters adds trailwatchLiveSince (and trailwatchPausedFrom and
//     trailwatchPausedUntil) beside AWS's creationTime for the trailwatch backfill command; the
//     server and the command aggregate with the same Backfiller.
//   - Messages AWS's text for which is not recorded are ours and say so where they are defined:
//     a missing metric filter, logStreamNames with logStreamNamePrefix, metricName without
//     metricNamespace.
package logs
