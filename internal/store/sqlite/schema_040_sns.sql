-- SNS: topics and subscriptions (each a JSON document), the dedup keys of idempotent publishes,
-- and the durable delivery outbox with every delivery attempt. A Publish commits all of its
-- deliveries before it is acknowledged.
CREATE TABLE IF NOT EXISTS sns_topics (
    arn          TEXT    PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    subs_deleted INTEGER NOT NULL DEFAULT 0,
    doc          TEXT    NOT NULL -- JSON of sns.Topic
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sns_topics_scope ON sns_topics (account_id, region, arn);

CREATE TABLE IF NOT EXISTS sns_subscriptions (
    arn        TEXT PRIMARY KEY,
    topic_arn  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    token      TEXT NOT NULL,
    doc        TEXT NOT NULL -- JSON of sns.Subscription
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
CREATE INDEX IF NOT EXISTS sns_subscriptions_scope ON sns_subscriptions (account_id, region, arn);
CREATE INDEX IF NOT EXISTS sns_subscriptions_token ON sns_subscriptions (token);

CREATE TABLE IF NOT EXISTS sns_published (
    dedup_key  TEXT    PRIMARY KEY,
    message_id TEXT    NOT NULL,
    created    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS sns_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id       TEXT    NOT NULL,
    subscription_arn TEXT    NOT NULL,
    protocol         TEXT    NOT NULL,
    status           TEXT    NOT NULL, -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt     INTEGER NOT NULL, -- unix ms
    created          INTEGER NOT NULL, -- unix ms
    last_error       TEXT    NOT NULL DEFAULT '',
    doc              TEXT    NOT NULL -- JSON of sns.Delivery as enqueued
);
CREATE INDEX IF NOT EXISTS sns_deliveries_due ON sns_deliveries (next_attempt, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS sns_deliveries_message ON sns_deliveries (message_id);

CREATE TABLE IF NOT EXISTS sns_attempts (
    delivery_id INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    at          INTEGER NOT NULL, -- unix ms
    duration_us INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
