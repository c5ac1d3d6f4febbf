-- Issue 6, ingest speed: the dedup index leads with the event timestamp. Keyed by (group_id,
-- dedup_key) alone, every CloudTrail eventID (a random UUID) landed on a random leaf page, so each
-- batch dirtied, journaled and rewrote to the WAL about one 16 KiB page per event once the index
-- outgrew a few pages; halving ingest throughput at 50,000 events and getting worse with size.
-- Led by ts, a batch's keys land on the few pages of recent time. A key is now a duplicate only
-- together with the same timestamp, which is how records repeat: a CloudTrail record's eventTime
-- (its timestamp) is part of the record, so every delivery of one eventID carries the same one.
DROP INDEX log_events_dedup;
CREATE UNIQUE INDEX log_events_dedup ON log_events (group_id, ts, dedup_key) WHERE dedup_key IS NOT NULL;
