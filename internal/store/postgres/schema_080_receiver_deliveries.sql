-- The console's receivers section shows each receiver's newest message in the outbox (as SQLite's
-- schema 230): receiver messages (protocol 'receiver') are found by their endpoint,
-- <public-url>/receivers/<name>, which lives in the delivery's JSON document. A partial expression
-- index keeps that one lookup per receiver instead of a scan of the outbox.
CREATE INDEX sns_deliveries_receiver ON sns_deliveries (((doc::jsonb) ->> 'Endpoint'), id) WHERE protocol = 'receiver';
