-- CloudTrail trails (issue 6) and the durable record of S3 objects ingested. A trail's
-- configuration is one JSON document: it is read whole and never queried by field.
CREATE TABLE trails (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
) WITHOUT ROWID;

-- One row per S3 object a source (a trail ARN) has fully ingested: its records are stored before
-- the row commits, so an object with a row is never read again, even across restarts.
CREATE TABLE ingest_objects (
    source       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    processed_at INTEGER NOT NULL, -- epoch ms
    records      INTEGER NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;
