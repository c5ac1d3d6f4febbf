-- Issue 6, ingest speed, second step: one index for time scans of a group and for deduplication.
-- Records arrive out of time order (the files of many accounts and regions cover the same minutes),
-- so every index led by (group_id, ts) takes each event on a page of its own; with two such
-- indexes a commit rewrote about one 16 KiB page per event to the WAL. (group_id, ts, dedup_key)
-- serves both: it is unique on the key where there is one (NULLs never conflict), and it orders a
-- group's events by time. Within one timestamp the order is the key's, not ingestion's, so readers
-- sort each timestamp's events by id (SQLite does this as a sort of the ORDER BY's right part).
-- Keys are stored as the first 16 bytes of their SHA-256 (see dedupHash), a third of a CloudTrail
-- key's size; the step before this file rewrote the keys already stored.
DROP INDEX log_events_dedup;
DROP INDEX log_events_group;
CREATE UNIQUE INDEX log_events_group ON log_events (group_id, ts, dedup_key);
