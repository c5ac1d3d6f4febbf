-- A metric filter trailwatch disabled (logs.FilterStateDisabled: more than 1,000 distinct
-- dimension name/value pairs within an hour). disabled_time is epoch ms, 0 while the filter is
-- active; PutMetricFilter's INSERT OR REPLACE resets both columns, which re-enables the filter.
ALTER TABLE log_metric_filters ADD COLUMN disabled_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE log_metric_filters ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
