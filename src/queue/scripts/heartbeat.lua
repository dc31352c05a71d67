-- A worker's periodic call: renews its lease (one call covers all its jobs), takes
-- back the jobs of workers whose lease lapsed, and drops finished jobs whose
-- retention age has passed (so trimming never waits for another job to finish).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 worker id, 2 lease ms, 3 max stalls, 4 keep age and 5 keep count for
--       jobs failed by stalling, 6 sweep ('1': also take back active jobs whose
--       owner is not a live worker at all: a safety net for leases nobody renews)
-- Returns { jobs taken back, jobs failed for stalling, records trimmed }
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include retain
--@include until-done

local wid, lease, maxStalls = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = nowMs()
redis.call('ZADD', K.workers, now + lease, wid)

local reclaimed, stalledOut, trimmed = 0, 0, 0
local sweep = ARGV[6] == '1'
local dead = redis.call('ZRANGEBYSCORE', K.workers, '-inf', now, 'LIMIT', 0, 100)
if #dead > 0 or sweep then
  local S = readSettings()
  local isDead = {}
  for _, w in ipairs(dead) do isDead[w] = true end
  if #dead > 0 then redis.call('ZREM', K.workers, unpack(dead)) end
  -- Scanning `active` is fine: it holds at most the sum of all workers' slots,
  -- and this runs only when a worker has died, or on an occasional sweep.
  local held = redis.call('HGETALL', K.active)
  local woken = 0
  for i = 1, #held, 2 do
    local id, value = held[i], held[i + 1]
    local owner = string.match(value, '^[^|]*|(.*)|%d+$')
    if sweep and isDead[owner] == nil then
      isDead[owner] = not redis.call('ZSCORE', K.workers, owner)
    end
    if isDead[owner] then
      redis.call('HDEL', K.active, id)
      woken = woken + groupLeave(S, { id })
      local stalls = redis.call('HINCRBY', K.stalls, id, 1)
      if stalls > maxStalls then
        local attempt = redis.call('HINCRBY', K.atts, id, 1)
        local started = string.match(value, '|(%d+)$')
        redis.call('HSET', K.errors, id, '{"p":' .. started .. ',"f":' .. now .. ',"a":' .. attempt ..
          ',"e":{"name":"StalledError","message":"job stalled ' .. stalls .. ' times (more than maxStalls=' ..
          maxStalls .. '): the worker running it stopped renewing its lease (it died, lost its connection, or blocked its event loop)"}}')
        releaseUntilDone(S, { id })
        retain(K.failed, { id }, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
        stalledOut = stalledOut + 1
      else
        place(S, id, redis.call('INCR', K.seq), true)
        reclaimed = reclaimed + 1
      end
    end
  end
  if S.held and (reclaimed + stalledOut) > 0 then redis.call('HDEL', K.meta, 'held') end
  if reclaimed + woken + stalledOut > 0 then signal(reclaimed + woken + stalledOut) end
end

for _, setKey in ipairs({ K.completed, K.failed }) do
  local expired = redis.call('ZRANGEBYSCORE', setKey, '-inf', now, 'LIMIT', 0, 1000)
  forget(expired)
  if #expired > 0 then redis.call('ZREMRANGEBYRANK', setKey, 0, #expired - 1) end
  trimmed = trimmed + #expired
end

return { reclaimed, stalledOut, trimmed }
