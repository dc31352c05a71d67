-- One queue's line of the overview in one call: counts per state, paused, live
-- workers, the oldest ungrouped waiting job's add time, and completed/failed of
-- some metric minutes. Every command is O(1) or bounded (HVALS of the reserved hash
-- has one field per worker), so the cost does not depend on the number of jobs.
-- One call per queue, all keys of one hash tag: legal on Redis Cluster, where the
-- console runs the calls of all queues at once (each goes to its queue's node).
-- KEYS: 1 wait, 2 waitp, 3 delayed, 4 active, 5 completed, 6 failed, 7 gwait,
--   8 gnext, 9 reserved, 10 meta, 11 workers, 12 jobs, 13 fdeps, then the metric
--   minute hashes wanted
-- ARGV: 1 now (ms): leases ending later are live
-- Returns { LLEN wait, ZCARD waitp, ZCARD delayed, HLEN active, ZCARD completed,
--   ZCARD failed, ZCARD gwait, HLEN gnext, jobs reserved (sum), paused (0/1),
--   live workers, oldest add time (ms) or false, HLEN fdeps, then per minute key
--   completed and failed (false when absent) }
local reserved = 0
for _, v in ipairs(redis.call('HVALS', KEYS[9])) do reserved = reserved + (tonumber(v) or 0) end

-- The far end of the FIFO list and the head of the priority set: only the record's
-- head is parsed (its second line is the add time).
local oldest = false
local ids = { redis.call('LINDEX', KEYS[1], -1) }
local top = redis.call('ZRANGE', KEYS[2], 0, 0)
if top[1] then ids[#ids + 1] = top[1] end
for _, id in ipairs(ids) do
  if id then
    local rec = redis.call('HGET', KEYS[12], id)
    local t = rec and tonumber(string.match(rec, '^[^\n]*\n(%d+)\n'))
    if t and (not oldest or t < oldest) then oldest = t end
  end
end

local out = {
  redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
  redis.call('HLEN', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]),
  redis.call('ZCARD', KEYS[7]), redis.call('HLEN', KEYS[8]), reserved,
  redis.call('HEXISTS', KEYS[10], 'paused'), redis.call('ZCOUNT', KEYS[11], ARGV[1], '+inf'),
  oldest, redis.call('HLEN', KEYS[13]),
}
for i = 14, #KEYS do
  local cf = redis.call('HMGET', KEYS[i], 'completed', 'failed')
  out[#out + 1] = cf[1]
  out[#out + 1] = cf[2]
end
return out
