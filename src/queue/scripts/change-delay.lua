-- Moves a delayed job's due time to `delay` ms from now (queue.changeDelay).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id, 2 delay ms
-- Returns 1, 0 when there is no such job, -1 when it is not delayed.
--@include keys
--@include now
--@include enqueue

local id = ARGV[1]
if redis.call('HEXISTS', K.jobs, id) == 0 then return 0 end
if not redis.call('ZSCORE', K.delayed, id) then return -1 end
redis.call('ZADD', K.delayed, nowMs() + tonumber(ARGV[2]), id)
signal(1) -- idle workers shorten their wait to the new due time
return 1
