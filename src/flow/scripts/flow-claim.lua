-- The recovery sweep's step: hands out flow outbox entries nobody delivered in
-- time (their worker died between its settle and the delivery, or the delivery
-- failed) and pushes their due time back by the grace, so concurrent sweepers
-- rarely deliver the same entry twice (a second delivery is harmless anyway).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 most entries, 2 grace ms
-- Returns child id and entry pairs, flattened.
--@include keys
--@include now

local now = nowMs()
local ids = redis.call('ZRANGEBYSCORE', K.fout, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids == 0 then return {} end
local values = redis.call('HMGET', K.foutv, unpack(ids))
local out, due, gone = {}, {}, {}
for i, id in ipairs(ids) do
  if values[i] then
    out[#out + 1] = id
    out[#out + 1] = values[i]
    due[#due + 1] = now + tonumber(ARGV[2])
    due[#due + 1] = id
  else
    gone[#gone + 1] = id
  end
end
if #due > 0 then redis.call('ZADD', K.fout, unpack(due)) end
if #gone > 0 then redis.call('ZREM', K.fout, unpack(gone)) end
return out
