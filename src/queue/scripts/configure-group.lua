-- Pauses, resumes or sets the limits of one group, and puts the group in or out
-- of the ready set to match (groups.lua).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 group, 2 action ('pause', 'resume', 'limit'), 3 for 'limit':
--       "concurrency,max,duration" (empty fields: the queue's default; all empty: remove)
-- Returns 1 when the group became ready; for 'pause', the number of workers holding a lease
-- (they learn of the pause from their next reply: worker-lease.lua). Paused is kept in
-- gcount (`p:`), beside what wakeGroup reads.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups

local g, action = ARGV[1], ARGV[2]
if action == 'pause' then
  -- Already paused: nothing to recall.
  if redis.call('HSET', K.gcount, 'p:' .. g, '1') == 0 then return 0 end
  -- gpause: from now on settle reads the paused flags; gpt: workers give back the jobs
  -- they reserved before now, whichever group they are of. Strictly increasing, so a
  -- fetch between two pauses in one millisecond is recalled by the second.
  local last = tonumber(redis.call('HGET', K.meta, 'gpt') or '0')
  redis.call('HSET', K.meta, 'gpause', '1', 'gpt', math.max(nowMs(), last + 1))
  redis.call('ZREM', K.gready, g)
  return redis.call('ZCARD', K.workers)
end
if action == 'resume' then
  redis.call('HDEL', K.gcount, 'p:' .. g)
elseif ARGV[3] == ',,' then
  redis.call('HDEL', K.gconf, 'limit:' .. g)
else
  redis.call('HSET', K.gconf, 'limit:' .. g, ARGV[3])
  redis.call('HSET', K.meta, 'govr', '1')
  -- A lower limit takes effect at the next fetch: the group may be ready now.
  redis.call('ZREM', K.gready, g)
end
local S = readSettings()
local woken = wakeGroup(S, g)
if woken > 0 then signal(1) end
return woken
