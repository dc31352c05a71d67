-- Deletes delivered entries from this queue's flow outbox, each only if it still
-- holds the outcome that was delivered (its token): a child retried and finished
-- again meanwhile left a newer entry, which must still be delivered.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: child id and token pairs
-- Returns the number of entries deleted.
--@include keys
--@include split

local ids = {}
for i = 1, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local values = redis.call('HMGET', K.foutv, unpack(ids))
local done = {}
for k, id in ipairs(ids) do
  local token = ARGV[k * 2]
  local v = values[k]
  if v and string.sub(v, 1, #token + 1) == token .. SEP then done[#done + 1] = id end
end
if #done == 0 then return 0 end
redis.call('HDEL', K.foutv, unpack(done))
redis.call('ZREM', K.fout, unpack(done))
return #done
