-- Fires a batch of due schedule ticks: per schedule, makes its job and stores its
-- next tick, but only if the schedule's stored tick and runs value (version, jobs
-- made, last tick) are still what the caller read. Any number of schedulers may
-- race on the same tick: one wins, the others change nothing. The job id is derived
-- from schedule id and tick, so even a resent call cannot make a second job.
-- The job is written as add.lua writes a job with a jobId (createJob below).
-- The caller's claims on the batch end here, fired or not.
-- KEYS: the queue's keys (keys.lua), then from EXTRA: next, runs, specs, claims
-- ARGV: per schedule 10 fields: id, tick read, runs value read, next tick (-1: the
--   schedule ends), new runs value, job id ('' = no job: a skipped catch-up),
--   job record, priority, delay ms, group ('' = none)
-- Returns { schedules advanced, jobs made }.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups

local NEXT, RUNS, SPECS, CLAIMS = KEYS[EXTRA], KEYS[EXTRA + 1], KEYS[EXTRA + 2], KEYS[EXTRA + 3]
local now, S = nil, nil
local function settings()
  S = S or readSettings()
  return S
end

-- The one place a scheduled job is written: keep in step with add.lua.
local function createJob(id, record, priority, delay, group)
  local seq = 0 -- orders jobs only in the priority set and in groups
  if priority > 0 or group ~= '' then seq = redis.call('INCR', K.seq) end
  redis.call('HSET', K.jobs, id, record)
  if priority > 0 then redis.call('HSET', K.pri, id, priority) end
  if group ~= '' and not settings().groups then
    redis.call('HSET', K.meta, 'groups', '1')
    S.groups = true
  end
  if delay > 0 then
    now = now or nowMs()
    redis.call('ZADD', K.delayed, now + delay, id)
    if group ~= '' then redis.call('HSET', K.gjob, id, groupMember(group, id, priority, seq)) end
  elseif group ~= '' then
    groupJoin(S, group, id, priority, seq)
  else
    enqueue(id, priority, seq, false)
  end
end

local advanced, made = 0, 0
local ids = {}
for a = 1, #ARGV, 10 do
  local id = ARGV[a]
  ids[#ids + 1] = id
  local score = redis.call('ZSCORE', NEXT, id)
  if score and tonumber(score) == tonumber(ARGV[a + 1]) and redis.call('HGET', RUNS, id) == ARGV[a + 2] then
    local jobId = ARGV[a + 5]
    if jobId ~= '' and redis.call('HEXISTS', K.jobs, jobId) == 0 then
      createJob(jobId, ARGV[a + 6], tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), ARGV[a + 9])
      made = made + 1
    end
    if ARGV[a + 3] == '-1' then
      redis.call('ZREM', NEXT, id)
      redis.call('HDEL', RUNS, id)
      redis.call('HDEL', SPECS, id)
    else
      redis.call('ZADD', NEXT, ARGV[a + 3], id)
      redis.call('HSET', RUNS, id, ARGV[a + 4])
    end
    advanced = advanced + 1
  end
end
if #ids > 0 then redis.call('HDEL', CLAIMS, unpack(ids)) end
if made > 0 then signal(made) end
return { advanced, made }
