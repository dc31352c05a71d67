-- Reads the schedules whose next tick is due, for a scheduler to fire them.
-- Reading is safe without any lock: schedule-fire.lua applies a tick only if the
-- schedule's tick and runs value are still the ones read here (compare-and-set).
-- KEYS: 1 next (ZSET id -> next tick), 2 runs (HASH id -> version:made:lastTick)
-- ARGV: 1 at most this many schedules
-- Returns { now, ms until the first tick not yet due (-1: none), then per due
-- schedule its id, tick and runs value }.
--@include now

local now = nowMs()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'WITHSCORES', 'LIMIT', 0,
  ARGV[1])
local out = { now, -1 }
if #due > 0 then
  local ids = {}
  for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
  local runs = redis.call('HMGET', KEYS[2], unpack(ids))
  for i, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = due[i * 2]
    out[#out + 1] = runs[i] or ''
  end
end
local first = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #first > 0 then out[2] = tonumber(first[2]) - now end
return out
