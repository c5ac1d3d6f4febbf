-- CloudTrail trails, the S3 objects each source has ingested and the listing cursors of polled
-- buckets. Shared by every replica: an object recorded by one is never read again by another.
CREATE TABLE trails (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);

CREATE TABLE ingest_objects (
    source       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    processed_at BIGINT  NOT NULL,
    records      INTEGER NOT NULL,
    PRIMARY KEY (source, key)
);

CREATE TABLE ingest_cursors (
    source    TEXT NOT NULL,
    partition TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (source, partition)
);
