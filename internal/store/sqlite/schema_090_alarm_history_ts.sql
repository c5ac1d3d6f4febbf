-- Alarm history is kept for alarm.HistoryRetention (14 days): the retention sweep deletes items by
-- timestamp across every scope, which the (account_id, region, ts, id) index cannot serve.
CREATE INDEX IF NOT EXISTS alarm_history_ts ON alarm_history (ts);
