-- Alarm actions whose publish failed transiently stay pending and are retried with backoff
-- (alarm.Dispatcher): attempts counts the failed attempts and next_attempt (unix ms, 0 = at once)
-- is when the action is due again, so a restart resumes the backoff instead of dropping the
-- action or starting over. error holds the last transient error while the action is pending.
ALTER TABLE alarm_actions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alarm_actions ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;
