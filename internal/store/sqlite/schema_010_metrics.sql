-- CloudWatch metrics: one row per metric identity and one aggregate row per (metric, minute, unit).
-- Samples are pre-aggregated per minute on insert (metrics.Aggregate), so storage and query cost grow
-- with distinct metric-minutes, not with the number of samples.
CREATE TABLE IF NOT EXISTS metric_series (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    namespace   TEXT    NOT NULL,
    metric_name TEXT    NOT NULL,
    -- canonical JSON array of [name, value] pairs sorted by name: the identity's dimension set
    dimensions  TEXT    NOT NULL,
    -- newest datapoint timestamp ever stored (unix ms): drives ListMetrics' two-week and PT3H windows
    last_ts     INTEGER NOT NULL,
    UNIQUE (account_id, region, namespace, metric_name, dimensions)
);

CREATE TABLE IF NOT EXISTS metric_minutes (
    series_id     INTEGER NOT NULL REFERENCES metric_series (id),
    minute        INTEGER NOT NULL, -- unix seconds of the minute start
    unit          TEXT    NOT NULL, -- StandardUnit; "None" when published without one
    sample_count  REAL    NOT NULL, -- real samples only; 0 when the minute has only a default
    sum           REAL    NOT NULL,
    minimum       REAL    NOT NULL,
    maximum       REAL    NOT NULL,
    -- sorted (value, count) float64 pairs, little endian; NULL when there is no real sample or the
    -- distribution is inexact
    dist          BLOB,
    inexact       INTEGER NOT NULL DEFAULT 0,
    -- the metric filter's defaultValue published for this minute, NULL when none was
    default_value REAL,
    PRIMARY KEY (series_id, minute, unit)
) WITHOUT ROWID;
