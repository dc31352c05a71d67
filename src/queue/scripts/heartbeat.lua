-- A worker's periodic call: renews its lease (one call covers all its jobs), takes
-- back the jobs of workers whose lease lapsed, and drops finished jobs whose
-- retention age has passed (so trimming never waits for another job to finish).
-- KEYS: 1 workers, 2 active, 3 wait, 4 waitp, 5 pri, 6 stalls, 7 failed, 8 errors,
--       9 jobs, 10 atts, 11 results, 12 completed, 13 seq, 14 signal
-- ARGV: 1 worker id, 2 lease ms, 3 max stalls, 4 keep age and 5 keep count for
--       jobs failed by stalling, 6 sweep ('1': also take back active jobs whose
--       owner is not a live worker at all: a safety net for leases nobody renews)
-- Returns { jobs taken back, jobs failed for stalling, records trimmed }
--@include now
--@include enqueue
--@include forget
--@include retain

local wid, lease, maxStalls = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rec = { KEYS[9], KEYS[10], KEYS[5], KEYS[6], KEYS[11], KEYS[8] }
local now = nowMs()
redis.call('ZADD', KEYS[1], now + lease, wid)

local reclaimed, stalledOut, trimmed = 0, 0, 0
local sweep = ARGV[6] == '1'
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
if #dead > 0 or sweep then
  local isDead = {}
  for _, w in ipairs(dead) do isDead[w] = true end
  if #dead > 0 then redis.call('ZREM', KEYS[1], unpack(dead)) end
  -- Scanning `active` is fine: it holds at most the sum of all workers' slots,
  -- and this runs only when a worker has died, or on an occasional sweep.
  local held = redis.call('HGETALL', KEYS[2])
  for i = 1, #held, 2 do
    local id, value = held[i], held[i + 1]
    local owner = string.match(value, '^[^|]*|(.*)|%d+$')
    if sweep and isDead[owner] == nil then
      isDead[owner] = not redis.call('ZSCORE', KEYS[1], owner)
    end
    if isDead[owner] then
      redis.call('HDEL', KEYS[2], id)
      local stalls = redis.call('HINCRBY', KEYS[6], id, 1)
      if stalls > maxStalls then
        local attempt = redis.call('HINCRBY', KEYS[10], id, 1)
        local started = string.match(value, '|(%d+)$')
        redis.call('HSET', KEYS[8], id, '{"p":' .. started .. ',"f":' .. now .. ',"a":' .. attempt ..
          ',"e":{"name":"StalledError","message":"job stalled ' .. stalls .. ' times (more than maxStalls=' ..
          maxStalls .. '): the worker running it stopped renewing its lease (it died, lost its connection, or blocked its event loop)"}}')
        retain(KEYS[7], rec, { id }, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
        stalledOut = stalledOut + 1
      else
        local seq = redis.call('INCR', KEYS[13])
        enqueue(KEYS[3], KEYS[4], id, tonumber(redis.call('HGET', KEYS[5], id) or '0'), seq, true)
        reclaimed = reclaimed + 1
      end
    end
  end
  if reclaimed > 0 then signal(KEYS[14], reclaimed) end
end

for _, setKey in ipairs({ KEYS[12], KEYS[7] }) do
  local expired = redis.call('ZRANGEBYSCORE', setKey, '-inf', now, 'LIMIT', 0, 1000)
  forget(rec, expired)
  if #expired > 0 then redis.call('ZREMRANGEBYRANK', setKey, 0, #expired - 1) end
  trimmed = trimmed + #expired
end

return { reclaimed, stalledOut, trimmed }
