-- Keeps the entries a live consumer holds from looking idle (XCLAIM to itself with
-- JUSTID resets the idle time without counting a delivery), so that XAUTOCLAIM only
-- takes entries of consumers that stopped: a slow sink or a retry backoff is not death.
-- Only entries still pending for this consumer are touched.
-- KEYS: 1 stream
-- ARGV: 1 group, 2 consumer, then the ids the consumer holds
-- Returns the ids it no longer owns (claimed by another consumer, acknowledged or deleted).
local owned, lost = {}, {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2]) > 0 then
    owned[#owned + 1] = id
  else
    lost[#lost + 1] = id
  end
end
-- Chunks keep unpack() under Lua's stack limit; JUSTID goes after the ids.
for i = 1, #owned, 1000 do
  local args = { KEYS[1], ARGV[1], ARGV[2], 0 }
  for j = i, math.min(i + 999, #owned) do args[#args + 1] = owned[j] end
  args[#args + 1] = 'JUSTID'
  redis.call('XCLAIM', unpack(args))
end
return lost
