-- CloudWatch metrics, as in the SQLite store: one row per metric identity and one aggregate row per
-- (metric, minute, unit). A writer locks the metric's series row (the upsert of insertSamplesTx) before
-- it reads and rewrites the metric's minutes, so two replicas adding to one minute never lose a sample.
CREATE TABLE metric_series (
    id          BIGSERIAL PRIMARY KEY,
    account_id  TEXT   NOT NULL,
    region      TEXT   NOT NULL,
    namespace   TEXT   NOT NULL,
    metric_name TEXT   NOT NULL,
    -- canonical JSON array of [name, value] pairs sorted by name: the identity's dimension set
    dimensions  TEXT   NOT NULL,
    -- newest datapoint timestamp ever stored (unix ms): drives ListMetrics' two-week and PT3H windows
    last_ts     BIGINT NOT NULL,
    -- rollup watermarks (unix seconds), see metrics.Rollup and the SQLite store's schema_100
    rolled_5m   BIGINT NOT NULL DEFAULT 0,
    rolled_1h   BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, region, namespace, metric_name, dimensions)
);

CREATE TABLE metric_minutes (
    series_id     BIGINT           NOT NULL REFERENCES metric_series (id),
    minute        BIGINT           NOT NULL, -- unix seconds of the minute start
    unit          TEXT             NOT NULL,
    sample_count  DOUBLE PRECISION NOT NULL,
    sum           DOUBLE PRECISION NOT NULL,
    minimum       DOUBLE PRECISION NOT NULL,
    maximum       DOUBLE PRECISION NOT NULL,
    dist          BYTEA,                     -- sorted (value, count) float64 pairs, little endian
    inexact       BOOLEAN          NOT NULL DEFAULT false,
    default_value DOUBLE PRECISION,
    PRIMARY KEY (series_id, minute, unit)
);
