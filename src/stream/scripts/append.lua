-- Appends many events in one call: the append batcher's round trip.
-- No MAXLEN here: trimming is trim.lua's job, which never drops unacknowledged entries.
-- KEYS: 1 stream
-- ARGV: one event JSON per entry, in order
-- Returns the entry ids, in ARGV order.
local ids = {}
for i = 1, #ARGV do
  ids[i] = redis.call('XADD', KEYS[1], '*', 'd', ARGV[i])
end
return ids
