-- Moves delayed jobs into line now, as if their delay had run out: one job by id,
-- or for 'all' up to a batch of the soonest due (the caller repeats until 0).
-- Promoted jobs go in line behind those already waiting, in due order.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 mode ('id' or 'all'), 2 the id, or for 'all' the batch size
-- Returns the number of jobs promoted; for 'id', -1 when the job exists but is not
-- delayed (0 when there is no such job).
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups

local S = readSettings()
local ids
if ARGV[1] == 'all' then
  ids = redis.call('ZRANGE', K.delayed, 0, tonumber(ARGV[2]) - 1)
else
  local id = ARGV[2]
  if not redis.call('ZSCORE', K.delayed, id) then
    if redis.call('HEXISTS', K.jobs, id) == 1 then return -1 end
    return 0
  end
  ids = { id }
end
if #ids == 0 then return 0 end
redis.call('ZREM', K.delayed, unpack(ids))
local seq = redis.call('INCRBY', K.seq, #ids) - #ids
for i, id in ipairs(ids) do place(S, id, seq + i, false) end
signal(#ids)
return #ids
