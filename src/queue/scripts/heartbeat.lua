-- A worker's periodic call: renews its lease (one call covers all its jobs), takes
-- back the jobs of workers whose lease lapsed, and drops finished jobs whose
-- retention age has passed (so trimming never waits for another job to finish).
-- It also takes back the jobs recorded active under this worker that the worker
-- does not hold (acknowledgements a failover lost, an AOF replayed from before
-- them): the worker sends what it holds, and `held` in its replies hash counts its
-- entries in `active`; when the two disagree (or on a sweep) its entries are checked.
-- Like every call of a worker it records its reserved count and reports its state
-- (worker-lease.lua); the worker also calls it when it needs that state at once.
-- KEYS: the queue's keys (keys.lua), then this worker's last replies
-- ARGV: 1 worker id, 2 lease ms, 3 max stalls, 4 keep age and 5 keep count for
--       jobs failed by stalling, 6 sweep ('1': also take back active jobs whose
--       owner is not a live worker at all: a safety net for leases nobody renews),
--       7 jobs the worker holds reserved, 8 the last fetch token it saw, 9 how many
--       of its jobs should be in `active` (those of fetches it saw, not yet settled),
--       10 the jobs it holds: id and lease token pairs joined by byte 30, 11 and 12
--       the request ids of its last fetch that brought jobs and of its last settle
--       Redis answered (-1: none)
-- Returns { jobs taken back, jobs failed for stalling, records trimmed, state }
--@include keys
--@include now
--@include settings
--@include worker-lease
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include retain
--@include until-done
--@include split
--@include flow-outbox
--@include events
--@include fail-record

local wid, lease, maxStalls = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local replies = KEYS[EXTRA]
local S = readSettings()
local now = S.now
local state = leaseState(S, wid, now, lease, replies)

local reclaimed, stalledOut, trimmed = 0, 0, 0
local stalledIds, failedIds = {}, {} -- for the events (events.lua)
local woken = 0

-- Puts a job its worker no longer runs back at the front of waiting, or fails it
-- once it stalled more than maxStalls times.
local function takeBack(id, value)
  redis.call('HDEL', K.active, id)
  woken = woken + groupLeave(S, { id })
  local stalls = redis.call('HINCRBY', K.stalls, id, 1)
  stalledIds[#stalledIds + 1] = id
  if stalls > maxStalls then
    local attempt = redis.call('HINCRBY', K.atts, id, 1)
    local started = string.match(value, '|(%d+)$')
    local err = '{"name":"StalledError","message":"job stalled ' .. stalls .. ' times (more than maxStalls=' ..
      maxStalls .. '): the worker running it stopped renewing its lease (it died, lost its connection, or blocked its event loop)"}'
    recordFailure(id, started, now, attempt, err)
    releaseUntilDone(S, { id })
    if S.flows then flowOutbox(S, { id }, { 1 }, string.match(value, '^([^|]*)|'), 'f', err) end
    retain(K.failed, { id }, now, tonumber(ARGV[4]), tonumber(ARGV[5]))
    stalledOut = stalledOut + 1
    failedIds[#failedIds + 1] = id
  else
    place(S, id, redis.call('INCR', K.seq), true)
    reclaimed = reclaimed + 1
  end
end

local last = redis.call('HMGET', replies, 'token', 'rsv', 'held', 'n', 'fetch', 'settle')
recordReserved(wid, tonumber(ARGV[7]), ARGV[8], last[1], last[2])
local seen = tonumber(ARGV[8]) or 0
-- A fetch whose reply the worker had not seen when it sent this call: its jobs are held too.
local expected = tonumber(ARGV[9])
if last[1] and last[1] ~= ARGV[8] then expected = expected + tonumber(last[4] or '0') end
local checkOwn = tonumber(last[3] or '0') ~= expected
-- Redis has not the marks of calls the worker saw answered: their writes were lost (a
-- failover without durability, an AOF replayed from before them). The count alone can
-- miss it (a lost fetch and a lost settle of as many jobs cancel out), the marks cannot:
-- fetch.lua and settle.lua record their request ids in the same script as their writes.
local fetched, settled = tonumber(ARGV[11] or '') or -1, tonumber(ARGV[12] or '') or -1
local fetchMark, settleMark = tonumber(last[5] or '') or -1, tonumber(last[6] or '') or -1
if fetchMark < fetched or settleMark < settled then
  checkOwn = true
  -- Once checked, the marks are caught up, so the next beats do not check again. A resent
  -- call always carries a later id than these, so no replay can match them.
  if fetchMark < fetched then redis.call('HSET', replies, 'fetch', fetched) end
  if settleMark < settled then redis.call('HSET', replies, 'settle', settled) end
end

local sweep = ARGV[6] == '1'
local dead = redis.call('ZRANGEBYSCORE', K.workers, '-inf', now, 'LIMIT', 0, 100)
if #dead > 0 or sweep or checkOwn then
  local isDead = {}
  for _, w in ipairs(dead) do isDead[w] = true end
  if #dead > 0 then
    redis.call('ZREM', K.workers, unpack(dead))
    redis.call('HDEL', K.reserved, unpack(dead))
  end
  local mine = {}
  if checkOwn or sweep then
    local list = split(ARGV[10])
    for i = 1, #list, 2 do mine[list[i]] = list[i + 1] end
  end
  local own = 0
  -- Scanning `active` is fine: it holds at most the sum of all workers' slots,
  -- and this runs only when a worker has died, this worker's count is off, or on
  -- an occasional sweep.
  local held = redis.call('HGETALL', K.active)
  for i = 1, #held, 2 do
    local id, value = held[i], held[i + 1]
    local token, owner = string.match(value, '^([^|]*)|(.*)|%d+$')
    if owner == wid then
      -- Newer than the last fetch the worker saw: that fetch's reply is on its way to it.
      if (checkOwn or sweep) and mine[id] ~= token and (tonumber(token) or 0) <= seen then
        takeBack(id, value)
      else
        own = own + 1
      end
    else
      if sweep and isDead[owner] == nil then
        isDead[owner] = not redis.call('ZSCORE', K.workers, owner)
        if isDead[owner] then redis.call('HDEL', K.reserved, owner) end
      end
      if isDead[owner] then takeBack(id, value) end
    end
  end
  redis.call('HSET', replies, 'held', own)
  if S.held and (reclaimed + stalledOut) > 0 then redis.call('HDEL', K.meta, 'held') end
  if reclaimed + woken + stalledOut > 0 then signal(reclaimed + woken + stalledOut) end
  if #stalledIds > 0 then
    local cap = eventCap(S.evlen)
    emitEvent(cap, 'stalled', stalledIds)
    emitEvent(cap, 'failed', failedIds)
  end
end

for _, setKey in ipairs({ K.completed, K.failed }) do
  local expired = redis.call('ZRANGEBYSCORE', setKey, '-inf', now, 'LIMIT', 0, 1000)
  forget(expired)
  if #expired > 0 then redis.call('ZREMRANGEBYRANK', setKey, 0, #expired - 1) end
  trimmed = trimmed + #expired
end

redis.call('PEXPIRE', replies, 600000) -- kept while the worker lives, busy or idle
return { reclaimed, stalledOut, trimmed, state }
