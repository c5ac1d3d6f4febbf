-- State the replicas share and use to coordinate.
--
-- shared_values: values generated once for the whole deployment (API credentials, the SNS signing
-- key and certificate). The first replica to insert a name wins; the others read its value.
CREATE TABLE shared_values (
    name    TEXT   PRIMARY KEY,
    value   BYTEA  NOT NULL,
    created BIGINT NOT NULL -- unix ms
);

-- leases: one row per job that must run on one replica at a time (alarm evaluation, a source, the
-- retention sweep). token is the fencing token: it grows by one every time the lease changes
-- holder, so a write checked against the token it was granted under fails once another replica
-- has taken over. expires is unix ms on the database's clock.
CREATE TABLE leases (
    name    TEXT   PRIMARY KEY,
    holder  TEXT   NOT NULL,
    token   BIGINT NOT NULL,
    expires BIGINT NOT NULL
);

-- rounds: the last round of a periodic job that some replica has done (retention sweep, metric
-- compaction), so that each round runs once across replicas.
CREATE TABLE rounds (
    name    TEXT   PRIMARY KEY,
    last_at BIGINT NOT NULL -- unix ms of the round's start slot
);
