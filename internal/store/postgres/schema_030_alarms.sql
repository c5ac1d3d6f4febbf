-- CloudWatch alarms: records (one JSON document each), DescribeAlarmHistory items and the durable
-- action outbox. A transition writes its record, history item and actions in one transaction.
CREATE TABLE alarms (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL, -- JSON of alarm.Record
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE alarm_history (
    id         BIGSERIAL PRIMARY KEY,
    account_id TEXT   NOT NULL,
    region     TEXT   NOT NULL,
    alarm_name TEXT   NOT NULL,
    alarm_type TEXT   NOT NULL,
    ts         BIGINT NOT NULL, -- unix ms
    item_type  TEXT   NOT NULL,
    summary    TEXT   NOT NULL,
    data       TEXT   NOT NULL
);
CREATE INDEX alarm_history_scope_ts ON alarm_history (account_id, region, ts, id);
CREATE INDEX alarm_history_ts ON alarm_history (ts);

CREATE TABLE alarm_actions (
    id            BIGSERIAL PRIMARY KEY,
    account_id    TEXT   NOT NULL,
    region        TEXT   NOT NULL,
    alarm_name    TEXT   NOT NULL,
    alarm_type    TEXT   NOT NULL,
    alarm_arn     TEXT   NOT NULL,
    action_arn    TEXT   NOT NULL,
    old_state     TEXT   NOT NULL,
    new_state     TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    subject       TEXT   NOT NULL,
    message       TEXT   NOT NULL,
    state_updated BIGINT NOT NULL, -- unix ms of the transition
    created       BIGINT NOT NULL, -- unix ms
    status        TEXT   NOT NULL, -- pending | succeeded | failed
    error         TEXT   NOT NULL DEFAULT '',
    done_at       BIGINT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  BIGINT  NOT NULL DEFAULT 0,
    -- a replica's claim on a pending action (ClaimingActionQueue): unix ms on the database's clock
    claimed_by    TEXT    NOT NULL DEFAULT '',
    claimed_until BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX alarm_actions_pending ON alarm_actions (id) WHERE status = 'pending';
CREATE INDEX alarm_actions_pending_fifo ON alarm_actions (account_id, region, alarm_name, action_arn, id) WHERE status = 'pending';
