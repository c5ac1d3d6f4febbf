-- CloudWatch Logs on PostgreSQL (issue 16): log groups, streams, metric filters and the events in
-- compressed blocks, the layout of issue 15 (package logblock) that SQLite's schemas 020-161 end
-- with. Every resource hangs off a log group, which is scoped by (account_id, region).
CREATE TABLE log_groups (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    name           TEXT    COLLATE "C" NOT NULL,  -- byte order, as SQLite's BINARY and AWS sort names
    creation_time  BIGINT  NOT NULL,              -- epoch ms
    retention_days INTEGER NOT NULL DEFAULT 0,    -- 0: events never expire
    kms_key_id     TEXT    NOT NULL DEFAULT '',
    class          TEXT    NOT NULL DEFAULT 'STANDARD',
    stored_bytes   BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (account_id, region, name)
);
CREATE INDEX log_groups_retention ON log_groups (retention_days) WHERE retention_days > 0;

CREATE TABLE log_group_tags (
    group_id BIGINT NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    key      TEXT   NOT NULL,
    value    TEXT   NOT NULL,
    PRIMARY KEY (group_id, key)
);

CREATE TABLE log_streams (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id       BIGINT NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name           TEXT   COLLATE "C" NOT NULL,
    creation_time  BIGINT NOT NULL,
    first_event    BIGINT NOT NULL DEFAULT 0,    -- epoch ms; 0 until the first event
    last_event     BIGINT NOT NULL DEFAULT 0,
    last_ingestion BIGINT NOT NULL DEFAULT 0,
    stored_bytes   BIGINT NOT NULL DEFAULT 0,
    upload_seq     BIGINT NOT NULL DEFAULT 0,    -- PutLogEvents calls accepted
    UNIQUE (group_id, name)
);
CREATE INDEX log_streams_last_event ON log_streams (group_id, last_event, name);

CREATE TABLE log_metric_filters (
    group_id         BIGINT NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name             TEXT   COLLATE "C" NOT NULL,
    pattern          TEXT   NOT NULL,
    creation_time    BIGINT NOT NULL,
    metric_name      TEXT   NOT NULL,
    metric_namespace TEXT   NOT NULL,
    metric_value     TEXT   NOT NULL,
    default_value    DOUBLE PRECISION,            -- NULL: no defaultValue
    unit             TEXT   NOT NULL DEFAULT '',
    dimensions       TEXT   NOT NULL DEFAULT '',  -- JSON object, '' when there are none
    disabled_time    BIGINT NOT NULL DEFAULT 0,   -- logs.FilterStateDisabled since (epoch ms), 0: active
    disabled_reason  TEXT   NOT NULL DEFAULT '',
    live_since       BIGINT NOT NULL DEFAULT 0,   -- logs.MetricFilter.LiveSince
    paused_from      BIGINT NOT NULL DEFAULT 0,
    paused_until     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, name)
);
CREATE INDEX log_metric_filters_metric ON log_metric_filters (metric_namespace, metric_name);

-- One row per compressed block (logblock): its index columns, per-stream stats and bytes. No
-- foreign keys: deletes of groups and streams remove their blocks explicitly.
CREATE TABLE log_blocks (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id  BIGINT  NOT NULL,
    stream_id BIGINT  NOT NULL,   -- 0: events of several streams
    bucket    BIGINT  NOT NULL,   -- logblock.Bucket of every event
    min_ts    BIGINT  NOT NULL,
    max_ts    BIGINT  NOT NULL,
    min_seq   BIGINT  NOT NULL,
    max_seq   BIGINT  NOT NULL,
    count     INTEGER NOT NULL,
    raw_bytes BIGINT  NOT NULL,
    seq_base  BIGINT  NOT NULL,   -- logblock.Meta.SeqBase
    streams   BYTEA   NOT NULL,   -- logblock.EncodeStats
    data      BYTEA   NOT NULL    -- logblock's encoding, already compressed
);
-- The data is zstd already: PostgreSQL's TOAST compression would spend CPU for nothing.
ALTER TABLE log_blocks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX log_blocks_group ON log_blocks (group_id, bucket, min_ts);
CREATE INDEX log_blocks_stream ON log_blocks (stream_id, bucket, min_ts);
CREATE INDEX log_blocks_small ON log_blocks (group_id, bucket) WHERE count < 1024;

-- Duplicate suppression by eventID (SQLite's log_dedup): the key's 16-byte SHA-256 prefix at the
-- event's timestamp, with the stream and sequence number of the event it stands for.
CREATE TABLE log_dedup (
    group_id  BIGINT NOT NULL,
    ts        BIGINT NOT NULL,
    key       BYTEA  NOT NULL,
    stream_id BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (group_id, ts, key)
);

-- Event sequence numbers, shared by every replica. Each nextval reserves a range of 2^20 numbers
-- (seqStride in logs.go), of which an append uses the first len(events): a range is claimed in one
-- atomic call, with no lock held to the end of the transaction, and the appends of one group take
-- theirs while they hold the group's row lock, so that within a group the numbers follow the order
-- in which appends commit and a reader paging by (timestamp, sequence) never finds an event
-- committed behind its position. 2^63 / 2^20 leaves 8.8e12 appends.
CREATE SEQUENCE log_seq INCREMENT BY 1048576 MINVALUE 1 START WITH 1;
