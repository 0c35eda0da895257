-- a hook's pending deliveries, for the claim that counts each hook's leased ones and ranks
-- its due ones: without it a claim reads every delivery kept in the log (7 days of them).
create index hook_deliveries_pending on hook_deliveries (hook_id, next_at) where status = 'pending';
