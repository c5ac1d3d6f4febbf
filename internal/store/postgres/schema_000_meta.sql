-- Key/value facts about this database itself (format version). Readiness reads the format row, so
-- a replica is ready only once the migrations it needs have run.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('format', '1') ON CONFLICT DO NOTHING;
