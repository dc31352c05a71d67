-- Redrives jobs from the failed (dead-letter) set back to waiting with a fresh
-- attempt count; their last error stays readable until they finish again.
-- KEYS: 1 failed, 2 atts, 3 stalls, 4 wait, 5 waitp, 6 pri, 7 seq, 8 signal
-- ARGV: 1 mode ('ids' or 'all'), 2.. ids, or for 'all' 2 the batch size
-- Returns the number of jobs moved.
--@include enqueue

local ids = {}
if ARGV[1] == 'all' then
  ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end

local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    local seq = redis.call('INCR', KEYS[7])
    enqueue(KEYS[4], KEYS[5], id, tonumber(redis.call('HGET', KEYS[6], id) or '0'), seq, false)
    moved = moved + 1
  end
end
if moved > 0 then signal(KEYS[8], moved) end
return moved
