-- The console's receivers section shows each receiver's newest message in the outbox: receiver
-- messages (protocol 'receiver') are found by their endpoint, <public-url>/receivers/<name>, which
-- lives in the delivery's JSON document. A partial index keeps that one lookup per receiver
-- instead of a scan of the outbox.
CREATE INDEX IF NOT EXISTS sns_deliveries_receiver ON sns_deliveries (json_extract(doc, '$.Endpoint'), id) WHERE protocol = 'receiver';
