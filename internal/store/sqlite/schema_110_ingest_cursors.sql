-- Listing cursors of polled S3 sources (issue 11): for each date partition of a source's bucket
-- (the key prefix before YYYY/MM/DD/, e.g. AWSLogs/<account>/CloudTrail/<region>/), the key up to
-- which every object of the partition has been processed. A polling round lists a partition
-- from a little before its cursor instead of listing the whole bucket.
CREATE TABLE ingest_cursors (
    source    TEXT NOT NULL,
    partition TEXT NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (source, partition)
) WITHOUT ROWID;
