-- The add time of the oldest ungrouped job at priority 0 (the far end of the FIFO
-- list) and of the next prioritized job: two lookups, whatever the queue's size.
-- Only the record's head is parsed (its second line is the add time).
-- KEYS: 1 the queue's wait list, 2 its priority set, 3 its jobs hash
-- Returns the smaller add time (ms), or false when nothing ungrouped waits.
local best = false
local ids = { redis.call('LINDEX', KEYS[1], -1) }
local top = redis.call('ZRANGE', KEYS[2], 0, 0)
if top[1] then ids[#ids + 1] = top[1] end
for _, id in ipairs(ids) do
  if id then
    local rec = redis.call('HGET', KEYS[3], id)
    local t = rec and tonumber(string.match(rec, '^[^\n]*\n(%d+)\n'))
    if t and (not best or t < best) then best = t end
  end
end
return best
