-- Appends many entries in one call: the append batcher's round trip.
-- No MAXLEN here: trimming is trim.lua's job, which never drops unacknowledged entries.
-- KEYS: 1 stream
-- ARGV: entries in order, each a layout then its events:
--   'd', json          one event in its own entry (field d)
--   n, json1..jsonN    n events in one entry (n fields named e, in order)
-- Returns the entry ids, in ARGV order.
local ids = {}
local i = 1
while i <= #ARGV do
  if ARGV[i] == 'd' then
    ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'd', ARGV[i + 1])
    i = i + 2
  else
    local n = tonumber(ARGV[i])
    local args = { KEYS[1], '*' }
    for j = 1, n do
      args[2 * j + 1] = 'e'
      args[2 * j + 2] = ARGV[i + j]
    end
    ids[#ids + 1] = redis.call('XADD', unpack(args))
    i = i + n + 1
  end
end
return ids
