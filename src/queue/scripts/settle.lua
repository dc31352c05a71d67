-- Records the outcomes of a batch of attempts from one worker in one call.
-- Completions come in groups sharing a lease token and retention, so a group
-- costs a fixed number of redis.call()s however many jobs it holds.
-- A job that ends frees a slot of its group and of the queue's concurrency
-- limit, and an until-done dedup key; workers waiting on those are woken.
-- Like every call of a worker it renews the worker's lease, records its reserved
-- count and reports its state (worker-lease.lua).
-- KEYS: the queue's keys (keys.lua), then this worker's last replies
-- ARGV: 1 request id (a call sent again after a lost reply returns the first
--   reply and applies nothing twice), 2 worker id, 3 lease ms, 4 jobs the worker
--   holds reserved, 5 the last fetch token it saw, 6 number of completion groups, then per group 5 fields:
--   lease token, keep age ms (0: no limit), keep count (-1: no limit, 0: delete now),
--   the ids and the result JSONs (none when deleting), each joined by byte 30;
-- then the number of failures, and per failure 6 fields:
--   id, lease token, error JSON, retry delay ms (-1: no retry left), keep age, keep count;
--   the error JSON '' (job.snooze: run again after the delay) or '!' (job.rateLimit:
--   back in front, and the queue starts nothing for the delay) uses no attempt
-- A flow child that finished for good leaves its outcome in the flow outbox (flow-outbox.lua).
-- Returns the worker's state (worker-lease.lua), then the ids whose lease was lost:
-- their outcome was not applied.
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

local replies = KEYS[EXTRA]
local wid = ARGV[2]
local S = readSettings()
local now = S.now
local state = leaseState(S, wid, now, tonumber(ARGV[3]), replies)
local last = redis.call('HMGET', replies, 'settle', 'rejected', 'token', 'rsv', 'held')
recordReserved(wid, tonumber(ARGV[4]), ARGV[5], last[3], last[4])
if last[1] == ARGV[1] then
  local again = split(last[2])
  table.insert(again, 1, state)
  return again
end

local rejected = {}
local wake = 0
local ended = 0
-- The jobs of this call's events (events.lua).
local completedIds, failedIds, retriedIds = {}, {}, {}

-- Splits `ids` into those `token` still holds (their lease is ended here) and the rest.
-- The jobs of one fetch share one lease value, so a value is checked and parsed
-- once (Lua strings are interned: comparing two is one pointer comparison).
local function takeLeases(ids, token)
  local leases = redis.call('HMGET', K.active, unpack(ids))
  local prefix = token .. '|'
  local held, started = {}, {}
  local known, knownStart = nil, nil
  for i, id in ipairs(ids) do
    local lease = leases[i]
    if lease and lease == known then
      held[#held + 1] = i
      started[i] = knownStart
    elseif lease and string.sub(lease, 1, #prefix) == prefix then
      known, knownStart = lease, string.match(lease, '|(%d+)$')
      held[#held + 1] = i
      started[i] = knownStart
    else
      rejected[#rejected + 1] = id
    end
  end
  return held, started
end

local a = 7
for _ = 1, tonumber(ARGV[6]) do
  local token, keepAge, keepCount = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local ids = split(ARGV[a + 3])
  local held, started = takeLeases(ids, token)
  if #held > 0 then
    local done = {}
    for k, j in ipairs(held) do done[k] = ids[j] end
    ended = ended + #done
    if S.flows then flowOutbox(S, ids, held, token, 'c', ARGV[a + 4]) end
    for _, id in ipairs(done) do completedIds[#completedIds + 1] = id end
    redis.call('HDEL', K.active, unpack(done))
    wake = wake + groupLeave(S, done)
    releaseUntilDone(S, done)
    if keepCount == 0 then
      forget(done)
    else
      local results = split(ARGV[a + 4])
      local fields = {}
      local head, headStart = nil, nil -- `{"p":started,"f":now,"r":`, made once per start time
      for _, j in ipairs(held) do
        if started[j] ~= headStart then
          headStart = started[j]
          head = '{"p":' .. headStart .. ',"f":' .. S.nowText .. ',"r":'
        end
        fields[#fields + 1] = ids[j]
        fields[#fields + 1] = head .. results[j] .. '}'
      end
      redis.call('HSET', K.results, unpack(fields))
      retain(K.completed, done, now, keepAge, keepCount)
    end
  end
  a = a + 5
end

local nFailed = tonumber(ARGV[a])
for i = 0, nFailed - 1 do
  local f = a + 1 + i * 6
  local id = ARGV[f]
  local held, started = takeLeases({ id }, ARGV[f + 1])
  if #held == 1 then
    redis.call('HDEL', K.active, id)
    ended = ended + 1
    wake = wake + groupLeave(S, { id })
    local payload = ARGV[f + 2]
    local retryDelay, keepCount = tonumber(ARGV[f + 3]), tonumber(ARGV[f + 5])
    if payload == '!' then
      -- Rate limited by its handler: first in line once the queue's pause ends.
      local limitEnd = now + retryDelay
      if limitEnd > S.limitedUntil then
        redis.call('HSET', K.meta, 'rlu', limitEnd)
        S.limitedUntil = limitEnd
      end
      place(S, id, redis.call('INCR', K.seq), true)
    elseif payload == '' then
      -- Snoozed by its handler: due again after the delay.
      if retryDelay > 0 then
        redis.call('ZADD', K.delayed, now + retryDelay, id)
      else
        place(S, id, redis.call('INCR', K.seq), false)
      end
      wake = wake + 1
    else
      local attempt = redis.call('HINCRBY', K.atts, id, 1)
      -- The attempt's error goes first in the job's history of failed attempts (fail-record.lua).
      recordFailure(id, started[1], S.nowText, attempt, payload)
      if retryDelay >= 0 then retriedIds[#retriedIds + 1] = id else failedIds[#failedIds + 1] = id end
      if retryDelay > 0 then
        redis.call('ZADD', K.delayed, now + retryDelay, id)
        wake = wake + 1
      elseif retryDelay == 0 then
        place(S, id, redis.call('INCR', K.seq), false)
        wake = wake + 1
      else
        releaseUntilDone(S, { id })
        if S.flows then flowOutbox(S, { id }, { 1 }, ARGV[f + 1], 'f', payload) end
        if keepCount == 0 then
          forget({ id })
        else
          retain(K.failed, { id }, now, tonumber(ARGV[f + 4]), keepCount)
        end
      end
    end
  end
end

-- A fetch held jobs back for the concurrency limit: slots may have freed.
if S.held then
  redis.call('HDEL', K.meta, 'held')
  wake = wake + 1
end
if wake > 0 then signal(wake) end
local cap = eventCap(S.evlen)
emitEvent(cap, 'completed', completedIds)
emitEvent(cap, 'retried', retriedIds)
emitEvent(cap, 'failed', failedIds)
-- `held` counts the worker's entries in `active` (a hint the heartbeat checks).
redis.call('HSET', replies, 'settle', ARGV[1], 'rejected', table.concat(rejected, SEP),
  'held', tonumber(last[5] or '0') - ended)
redis.call('PEXPIRE', replies, 600000)
table.insert(rejected, 1, state)
return rejected
