-- Appends the calls ("items") of a producer with a spool (see src/spool), each once and
-- in order: an item carries its sequence number within the producer's run, and the run's
-- mark (highest number applied) lives in KEYS[2]. An item at or below the mark was
-- applied before and is skipped; an item past mark + 1 means an earlier one has not
-- arrived: nothing is written and { 'gap', mark } returned (unless ARGV[2] is '1').
-- KEYS: 1 stream, 2 the run's mark
-- ARGV: 1 mark ttl ms, 2 force ('1'/'0'), 3 item count, then per item: its sequence
--   number, its entry count, then its entries as append.lua takes them ('d', json or
--   n, json1..jsonN)
-- Returns { 'ok', then per item its entry ids joined by ',', or '' if it was skipped }.
--@include append-entry
local mark = tonumber(redis.call('GET', KEYS[2]) or '0')
local force = ARGV[2] == '1'
local items = tonumber(ARGV[3])

-- Where the item's entries end, from the argument after its entry count.
local function skipEntries(i, count)
  for _ = 1, count do
    if ARGV[i] == 'd' then i = i + 2 else i = i + tonumber(ARGV[i]) + 1 end
  end
  return i
end

local m, a = mark, 4
for _ = 1, items do
  local seq = tonumber(ARGV[a])
  if seq > m then
    if seq ~= m + 1 and not force then return { 'gap', mark } end
    m = seq
  end
  a = skipEntries(a + 2, tonumber(ARGV[a + 1]))
end

local out = { 'ok' }
m, a = mark, 4
for _ = 1, items do
  local seq, count = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local i = a + 2
  local ids = {}
  if seq > m then
    m = seq
    for _ = 1, count do
      ids[#ids + 1], i = appendEntry(i)
    end
  else
    i = skipEntries(i, count)
  end
  out[#out + 1] = table.concat(ids, ',')
  a = i
end
redis.call('SET', KEYS[2], m, 'PX', ARGV[1])
return out
