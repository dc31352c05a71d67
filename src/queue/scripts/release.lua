-- Graceful close: puts jobs a worker holds but did not finish straight back at
-- the front of waiting (not after the lease runs out), and ends its lease.
-- The attempt is not counted: the handler never finished it.
-- KEYS: the queue's keys (keys.lua), then the worker's last replies
-- ARGV: 1 worker id, then pairs of id, lease token
-- Returns the number of jobs put back.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups

local S = readSettings()
local released = {}
for i = 2, #ARGV, 2 do
  local id, prefix = ARGV[i], ARGV[i + 1] .. '|'
  local lease = redis.call('HGET', K.active, id)
  if lease and string.sub(lease, 1, #prefix) == prefix then
    redis.call('HDEL', K.active, id)
    released[#released + 1] = id
  end
end
groupLeave(S, released)
for _, id in ipairs(released) do place(S, id, redis.call('INCR', K.seq), true) end
redis.call('ZREM', K.workers, ARGV[1])
redis.call('DEL', KEYS[EXTRA])
if #released > 0 then signal(#released) end
return #released
