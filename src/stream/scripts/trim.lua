-- Trims a stream towards maxLen entries, but never past the oldest entry that any
-- consumer group still needs: its oldest pending entry, or the first entry after its
-- last-delivered-id (not delivered yet). XTRIM MINID removes only ids below the cut.
-- KEYS: 1 stream
-- ARGV: 1 maxLen (>= 1), 2 most entries to remove in this call (bounds the XRANGE)
-- Returns the number of entries removed.
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am < bm end
  return tonumber(as) < tonumber(bs)
end

local len = redis.call('XLEN', KEYS[1])
local excess = len - tonumber(ARGV[1])
if excess <= 0 then return 0 end
if excess > tonumber(ARGV[2]) then excess = tonumber(ARGV[2]) end
-- maxLen >= 1, so the stream has at least excess + 1 entries: the last one read is kept.
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess + 1)
local cut = head[#head][1]

for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  local pending = redis.call('XPENDING', KEYS[1], name)
  if pending[1] > 0 and before(pending[2], cut) then cut = pending[2] end
  local nextUp = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)
  if nextUp[1] and before(nextUp[1][1], cut) then cut = nextUp[1][1] end
end
return redis.call('XTRIM', KEYS[1], 'MINID', cut)
