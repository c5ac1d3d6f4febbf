-- The time since which a metric filter's current definition has been live (logs.MetricFilter
-- LiveSince), which a PutMetricFilter of the same definition keeps while creation_time moves to the
-- put, and the latest period in which it was disabled before such a put enabled it again
-- (paused_from, paused_until; 0 when there is none). A backfill skips the events the filter counted
-- live: those stored after live_since and outside the paused period. Filters stored before this
-- migration are taken as live since their creation time, which is what backfill assumed until now.
ALTER TABLE log_metric_filters ADD COLUMN live_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_metric_filters ADD COLUMN paused_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_metric_filters ADD COLUMN paused_until INTEGER NOT NULL DEFAULT 0;
UPDATE log_metric_filters SET live_since = creation_time;
