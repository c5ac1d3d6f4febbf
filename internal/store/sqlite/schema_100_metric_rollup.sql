-- CloudWatch's metric retention (metrics.Rollup): each metric's minutes are rolled up into
-- five-minute slots after 15 days and into hours after 63 days. These watermarks (unix seconds)
-- say up to where a metric has been rolled up, so that a compaction reads only what aged since the
-- last one; a sample stored before a watermark (a backfill reaching back) lowers it again.
ALTER TABLE metric_series ADD COLUMN rolled_5m INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_series ADD COLUMN rolled_1h INTEGER NOT NULL DEFAULT 0;
