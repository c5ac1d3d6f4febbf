-- CloudWatch Logs: log groups, streams, events and metric filters. Every resource hangs off a log
-- group, which is scoped by (account_id, region).
CREATE TABLE log_groups (
    id             INTEGER PRIMARY KEY,
    account_id     TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    creation_time  INTEGER NOT NULL,              -- epoch ms
    retention_days INTEGER NOT NULL DEFAULT 0,    -- 0: events never expire
    kms_key_id     TEXT    NOT NULL DEFAULT '',
    class          TEXT    NOT NULL DEFAULT 'STANDARD',
    stored_bytes   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, region, name)
);
CREATE INDEX log_groups_retention ON log_groups (retention_days) WHERE retention_days > 0;

CREATE TABLE log_group_tags (
    group_id INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (group_id, key)
) WITHOUT ROWID;

CREATE TABLE log_streams (
    id             INTEGER PRIMARY KEY,
    group_id       INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    creation_time  INTEGER NOT NULL,
    first_event    INTEGER NOT NULL DEFAULT 0,    -- epoch ms; 0 until the first event
    last_event     INTEGER NOT NULL DEFAULT 0,
    last_ingestion INTEGER NOT NULL DEFAULT 0,
    stored_bytes   INTEGER NOT NULL DEFAULT 0,
    upload_seq     INTEGER NOT NULL DEFAULT 0,    -- PutLogEvents calls accepted
    UNIQUE (group_id, name)
);
CREATE INDEX log_streams_last_event ON log_streams (group_id, last_event, name);

-- Events. id is the global ingestion order ("Seq"); reads go by (ts, id) per stream or per group.
-- No foreign keys here: a per-row FK check costs ingestion throughput, and deletes of groups and
-- streams remove their events explicitly in the same transaction.
--
-- dedup_key is room for issue 6 (CloudTrail ingestion): a CloudTrail record's eventID can be stored
-- here so a re-delivered record is dropped (INSERT OR IGNORE) instead of being counted twice by the
-- metric filters. The partial unique index costs nothing for ordinary events, whose key is NULL.
-- It is per log group, and a log group belongs to one account, so it is also per account.
CREATE TABLE log_events (
    id             INTEGER PRIMARY KEY,
    group_id       INTEGER NOT NULL,
    stream_id      INTEGER NOT NULL,
    ts             INTEGER NOT NULL,              -- event timestamp, epoch ms
    ingestion_time INTEGER NOT NULL,
    message        TEXT    NOT NULL,
    dedup_key      TEXT
);
CREATE INDEX log_events_stream ON log_events (stream_id, ts, id);
CREATE INDEX log_events_group ON log_events (group_id, ts, id);
CREATE UNIQUE INDEX log_events_dedup ON log_events (group_id, dedup_key) WHERE dedup_key IS NOT NULL;

CREATE TABLE log_metric_filters (
    group_id         INTEGER NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL,
    pattern          TEXT    NOT NULL,
    creation_time    INTEGER NOT NULL,
    metric_name      TEXT    NOT NULL,
    metric_namespace TEXT    NOT NULL,
    metric_value     TEXT    NOT NULL,
    default_value    REAL,                        -- NULL: no defaultValue
    unit             TEXT    NOT NULL DEFAULT '',
    dimensions       TEXT    NOT NULL DEFAULT '', -- JSON object, '' when there are none
    PRIMARY KEY (group_id, name)
) WITHOUT ROWID;
CREATE INDEX log_metric_filters_metric ON log_metric_filters (metric_namespace, metric_name);
