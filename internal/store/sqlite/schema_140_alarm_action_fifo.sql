-- The action outbox is first in, first out per alarm and action ARN: PendingActions does not
-- return an action while an older action of the same alarm to the same ARN is pending, so a
-- retried ALARM notification is not overtaken by the alarm's newer OK one. This partial index
-- (pending rows only, like alarm_actions_pending) answers "is there an older pending action of
-- this alarm to this ARN" with one seek.
CREATE INDEX IF NOT EXISTS alarm_actions_pending_fifo
    ON alarm_actions (account_id, region, alarm_name, action_arn, id) WHERE status = 'pending';
