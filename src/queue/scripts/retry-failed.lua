-- Redrives jobs from the failed (dead-letter) set back to waiting with a fresh
-- attempt count; their last error stays readable until they finish again.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 mode ('ids' or 'all'), 2.. ids, or for 'all' 2 the batch size
-- Returns the number of jobs moved.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups

local S = readSettings()
local ids = {}
if ARGV[1] == 'all' then
  ids = redis.call('ZRANGE', K.failed, 0, tonumber(ARGV[2]) - 1)
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end

local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', K.failed, id) == 1 then
    redis.call('HDEL', K.atts, id)
    redis.call('HDEL', K.stalls, id)
    place(S, id, redis.call('INCR', K.seq), false)
    moved = moved + 1
  end
end
if moved > 0 then signal(moved) end
return moved
