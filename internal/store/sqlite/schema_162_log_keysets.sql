-- Issue 15: duplicate suppression without a B-tree row per event. An append of a group that
-- suppresses duplicates (CloudTrail records by eventID) stores the keys of the events it kept as one
-- keyset per hour bucket it touches: sorted (timestamp, 16-byte key hash) pairs in one BLOB
-- (logs_keys.go). The committer checks new keys against an in-memory set of each recent minute's
-- keys, loaded from the keysets (and log_dedup's rows, kept for keys stored before this schema)
-- the first time a batch touches that minute. Keysets belong to a stream (deleting it frees its
-- keys) and expire with retention like the blocks.
CREATE TABLE log_keysets (
    id        INTEGER PRIMARY KEY,
    group_id  INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,   -- logblock.Bucket of every key's timestamp
    min_ts    INTEGER NOT NULL,
    max_ts    INTEGER NOT NULL,
    keys      BLOB    NOT NULL
);
CREATE INDEX log_keysets_group ON log_keysets (group_id, bucket, min_ts);
CREATE INDEX log_keysets_stream ON log_keysets (stream_id);
