-- SNS: topics and subscriptions (JSON documents), publish dedup keys, the delivery outbox and its
-- attempts. claimed_by/claimed_until make the outbox safe for several replicas: a replica claims due
-- deliveries (FOR UPDATE SKIP LOCKED) until a deadline, and a claim whose replica died is taken over
-- once its deadline has passed.
CREATE TABLE sns_topics (
    arn          TEXT    PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    subs_deleted INTEGER NOT NULL DEFAULT 0,
    doc          TEXT    NOT NULL
);
CREATE INDEX sns_topics_scope ON sns_topics (account_id, region, arn);

CREATE TABLE sns_subscriptions (
    arn        TEXT PRIMARY KEY,
    topic_arn  TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    token      TEXT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
CREATE INDEX sns_subscriptions_scope ON sns_subscriptions (account_id, region, arn);
CREATE INDEX sns_subscriptions_token ON sns_subscriptions (token);

CREATE TABLE sns_published (
    dedup_key  TEXT   PRIMARY KEY,
    message_id TEXT   NOT NULL,
    created    BIGINT NOT NULL
);

CREATE TABLE sns_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    message_id       TEXT    NOT NULL,
    subscription_arn TEXT    NOT NULL,
    protocol         TEXT    NOT NULL,
    status           TEXT    NOT NULL, -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt     BIGINT  NOT NULL, -- unix ms
    created          BIGINT  NOT NULL, -- unix ms
    last_error       TEXT    NOT NULL DEFAULT '',
    doc              TEXT    NOT NULL,
    claimed_by       TEXT    NOT NULL DEFAULT '',
    claimed_until    BIGINT  NOT NULL DEFAULT 0 -- unix ms; 0: not claimed
);
CREATE INDEX sns_deliveries_due ON sns_deliveries (next_attempt, id) WHERE status = 'pending';
CREATE INDEX sns_deliveries_message ON sns_deliveries (message_id);

CREATE TABLE sns_attempts (
    delivery_id BIGINT NOT NULL,
    n           INTEGER NOT NULL,
    at          BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    outcome     TEXT   NOT NULL,
    detail      TEXT   NOT NULL,
    PRIMARY KEY (delivery_id, n)
);
