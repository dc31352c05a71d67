-- Deletes a consumer from its group only if it has no pending entries: DELCONSUMER
-- would leave them unclaimable. A live consumer deleted this way is recreated by its
-- next read, so the check is all the safety needed.
-- KEYS: 1 stream
-- ARGV: 1 group, 2 consumer
-- Returns 1 if deleted, 0 if it still holds entries.
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
