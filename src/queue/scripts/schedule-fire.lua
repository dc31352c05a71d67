-- Fires a batch of due schedule ticks: per schedule, makes its job and stores its
-- next tick, but only if the schedule's stored tick and runs value (version, jobs
-- made, last tick) are still what the caller read. Any number of schedulers may
-- race on the same tick: one wins, the others change nothing. The job id is derived
-- from schedule id and tick, so even a resent call cannot make a second job.
-- The job is written as add.lua writes one (write-job.lua).
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
--@include write-job
--@include events

local NEXT, RUNS, SPECS, CLAIMS = KEYS[EXTRA], KEYS[EXTRA + 1], KEYS[EXTRA + 2], KEYS[EXTRA + 3]

local advanced, made = 0, 0
local ids = {}
local madeIds = {}
for a = 1, #ARGV, 10 do
  local id = ARGV[a]
  ids[#ids + 1] = id
  local score = redis.call('ZSCORE', NEXT, id)
  if score and tonumber(score) == tonumber(ARGV[a + 1]) and redis.call('HGET', RUNS, id) == ARGV[a + 2] then
    local jobId = ARGV[a + 5]
    if jobId ~= '' and redis.call('HEXISTS', K.jobs, jobId) == 0 then
      local priority, group = tonumber(ARGV[a + 7]), ARGV[a + 9]
      -- seq orders the job only in the priority set and in groups
      local seq = (priority > 0 or group ~= '') and redis.call('INCR', K.seq) or 0
      writeJob(jobId, ARGV[a + 6], priority, tonumber(ARGV[a + 8]), group, seq)
      made = made + 1
      madeIds[made] = jobId
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
if made > 0 then
  signal(made)
  emitEvent(eventCap(S and S.evlen), 'added', madeIds)
end
return { advanced, made }
