-- Receivers (Slack, PagerDuty, Teams, webhook destinations), one JSON document each with its
-- secrets, and the per-alarm state a receiver keeps between messages (the Slack message to
-- update, when the alarm started firing, the last state change delivered). Shared by every
-- replica, so any replica's endpoint and any replica's delivery worker see the same receivers.
CREATE TABLE receivers (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL, -- JSON of receiver.Receiver
    PRIMARY KEY (account_id, name)
);

CREATE TABLE receiver_threads (
    account_id TEXT NOT NULL,
    receiver   TEXT NOT NULL,
    key        TEXT NOT NULL, -- the alarm ARN
    doc        TEXT NOT NULL, -- JSON of receiver.Thread
    PRIMARY KEY (account_id, receiver, key)
);
