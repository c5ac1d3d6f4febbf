-- Issue 15: the events stored one row each until schema 160 were moved into log_blocks and their
-- dedup keys into log_dedup by this migration's Go step (convertEventsToBlocks); the table goes.
DROP TABLE log_events;
