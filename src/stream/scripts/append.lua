-- Appends many entries in one call: the append batcher's round trip.
-- Idempotent per request id: ioredis resends a command whose reply a dropped connection
-- lost, and the resent call must not store the events again. The first run keeps its
-- reply (the entry ids) under KEYS[2] for a short while; a resend returns it unchanged.
-- No MAXLEN here: trimming is trim.lua's job, which never drops unacknowledged entries.
-- KEYS: 1 stream, 2 this call's reply key (`<tag>:a:<request id>`)
-- ARGV: 1 ms the reply is kept, then entries in order, each a layout then its events:
--   'd', json          one event in its own entry (field d)
--   n, json1..jsonN    n events in one entry (n fields named e, in order)
-- Returns the entry ids, in ARGV order.
--@include append-entry
local done = redis.call('GET', KEYS[2])
if done then
  local ids = {}
  for id in string.gmatch(done, '[^,]+') do ids[#ids + 1] = id end
  return ids
end
local ids = {}
local i = 2
while i <= #ARGV do
  ids[#ids + 1], i = appendEntry(i)
end
redis.call('SET', KEYS[2], table.concat(ids, ','), 'PX', ARGV[1])
return ids
