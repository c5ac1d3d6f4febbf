-- CloudWatch alarms: the alarm records (configuration and state as one JSON document, written
-- whole on every change), the DescribeAlarmHistory items, and the action outbox the SNS component
-- consumes. A state transition writes its record, its StateUpdate item and its actions in one
-- transaction.
CREATE TABLE IF NOT EXISTS alarms (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL, -- JSON of alarm.Record
    PRIMARY KEY (account_id, region, name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alarm_history (
    id         INTEGER PRIMARY KEY,
    account_id TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    alarm_name TEXT    NOT NULL,
    alarm_type TEXT    NOT NULL,
    ts         INTEGER NOT NULL, -- unix ms
    item_type  TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_scope_ts ON alarm_history (account_id, region, ts, id);

CREATE TABLE IF NOT EXISTS alarm_actions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    alarm_name    TEXT    NOT NULL,
    alarm_type    TEXT    NOT NULL,
    alarm_arn     TEXT    NOT NULL,
    action_arn    TEXT    NOT NULL,
    old_state     TEXT    NOT NULL,
    new_state     TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    message       TEXT    NOT NULL, -- the MessageStructure=json document published to the topic
    state_updated INTEGER NOT NULL, -- unix ms of the transition
    created       INTEGER NOT NULL, -- unix ms
    status        TEXT    NOT NULL, -- pending | succeeded | failed
    error         TEXT    NOT NULL DEFAULT '',
    done_at       INTEGER
);
CREATE INDEX IF NOT EXISTS alarm_actions_pending ON alarm_actions (id) WHERE status = 'pending';
