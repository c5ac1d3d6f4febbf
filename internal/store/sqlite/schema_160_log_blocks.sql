-- Issue 15: log events are stored in compressed blocks (internal/store/logblock) instead of one row
-- per event. A block holds events of one hour bucket of event time: one append's batch of one
-- stream, or, once compacted, a stretch of time of the group's events of all streams (stream_id 0).
-- Its row is the block's index. Reads find blocks by (group, bucket, min_ts), in the order the merge
-- in logblock.Scan wants, and prune them by [min_ts, max_ts].
CREATE TABLE log_blocks (
    id        INTEGER PRIMARY KEY,
    group_id  INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,   -- 0: events of several streams
    bucket    INTEGER NOT NULL,   -- floor(ts / logblock.BucketMillis) of every event
    min_ts    INTEGER NOT NULL,
    max_ts    INTEGER NOT NULL,
    min_seq   INTEGER NOT NULL,
    max_seq   INTEGER NOT NULL,
    count     INTEGER NOT NULL,   -- events
    raw_bytes INTEGER NOT NULL,   -- message bytes (storedBytes)
    seq_base  INTEGER NOT NULL,   -- added to the sequence numbers the data holds (logblock.Meta.SeqBase)
    streams   BLOB    NOT NULL,   -- per-stream counts and bytes (logblock.EncodeStats)
    data      BLOB    NOT NULL    -- logblock's encoding
);
CREATE INDEX log_blocks_group ON log_blocks (group_id, bucket, min_ts);
CREATE INDEX log_blocks_stream ON log_blocks (stream_id, bucket, min_ts);
-- The blocks compaction may merge (fewer events than logblock.TargetEvents = 1024): the
-- compactor finds them without reading the index of every block.
CREATE INDEX log_blocks_small ON log_blocks (group_id, bucket) WHERE count < 1024;

-- Duplicate suppression for the groups that use it (CloudTrail records by eventID): the key's
-- 16-byte SHA-256 prefix at the event's timestamp, as log_events_dedup held it, with the stream and
-- sequence of the event it stands for (deleting a stream frees its keys; seq tells a batch which
-- of its keys it inserted). Led by (group_id, ts), so a batch's keys land on the few pages of
-- recent time.
CREATE TABLE log_dedup (
    group_id  INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    key       BLOB    NOT NULL,
    stream_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (group_id, ts, key)
) WITHOUT ROWID;

-- The last event sequence number handed out. Sequence numbers order events of one timestamp by
-- ingestion and appear in pagination tokens and eventIds; they continue log_events' ids, which the
-- conversion (schema 161) keeps as the sequence numbers of the events it moves, so tokens issued
-- before the upgrade keep their meaning.
CREATE TABLE log_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO log_seq (id, last) SELECT 1, coalesce(max(id), 0) FROM log_events;
