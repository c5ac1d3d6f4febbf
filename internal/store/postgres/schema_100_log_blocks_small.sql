-- The blocks compaction may merge are those that are not full (logblock.Meta.Full): fewer than
-- logblock.TargetEvents = 1024 events and fewer than logblock.FullRawBytes = 491520 bytes of
-- messages. Since an append's block of 480 KiB or more is kept as written (issue 15), most blocks
-- hold fewer than 1024 events, and an index of count < 1024 alone had become one of nearly every
-- block. smallBlock (logs_blocks.go) is this predicate, written as literals so that a generic plan
-- can use the index too.
DROP INDEX log_blocks_small;
CREATE INDEX log_blocks_small ON log_blocks (group_id, bucket) WHERE count < 1024 AND raw_bytes < 491520;
