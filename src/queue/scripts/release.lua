-- Puts jobs a worker holds but will not run (or did not finish) straight back at
-- the front of waiting, in the order they had (not after the lease runs out): on
-- graceful close, and when the worker learns the queue is paused or its lease had
-- lapsed while it held jobs reserved. The attempt is not counted: no handler finished it.
-- KEYS: the queue's keys (keys.lua), then the worker's last replies
-- ARGV: 1 worker id, 2 'close' (also ends its lease and forgets its replies) or
--       'back', 3 jobs the worker still holds reserved, 4 the last fetch token it
--       saw, then pairs of id, lease token, in the order the jobs were to run
-- Returns the number of jobs put back.
--@include keys
--@include now
--@include settings
--@include worker-lease
--@include rate
--@include enqueue
--@include groups

local wid, closing = ARGV[1], ARGV[2] == 'close'
local replies = KEYS[EXTRA]
local S = readSettings()
local released = {}
for i = 5, #ARGV, 2 do
  local id, prefix = ARGV[i], ARGV[i + 1] .. '|'
  local lease = redis.call('HGET', K.active, id)
  if lease and string.sub(lease, 1, #prefix) == prefix then
    redis.call('HDEL', K.active, id)
    released[#released + 1] = id
  end
end
groupLeave(S, released)
-- Each goes in front of the one placed before it: last first keeps their order.
for i = #released, 1, -1 do place(S, released[i], redis.call('INCR', K.seq), true) end
if closing then
  redis.call('ZREM', K.workers, wid)
  redis.call('HDEL', K.reserved, wid)
  redis.call('DEL', replies)
else
  local last = redis.call('HMGET', replies, 'token', 'rsv')
  recordReserved(wid, tonumber(ARGV[3]), ARGV[4], last[1], last[2])
  if #released > 0 then
    redis.call('HINCRBY', replies, 'held', -#released)
    redis.call('PEXPIRE', replies, 600000)
  end
end
if #released > 0 then signal(#released) end
return #released
