-- Fires a batch of due schedule ticks: per schedule, makes its job and stores its
-- next tick, but only if the schedule's stored tick and runs value (version, jobs
-- made, last tick) are still what the caller read. Any number of schedulers may
-- race on the same tick: one wins, the others change nothing. The job id is derived
-- from schedule id and tick, so even a resent call cannot make a second job.
-- The job is written as add.lua writes a job with a jobId.
-- The caller's claims on the batch end here, fired or not.
-- KEYS: 1 next, 2 runs, 3 specs, 4 jobs, 5 wait, 6 waitp, 7 pri, 8 delayed, 9 seq, 10 signal, 11 claims
-- ARGV: per schedule 9 fields: id, tick read, runs value read, next tick (-1: the
--   schedule ends), new runs value, job id ('' = no job: a skipped catch-up),
--   job record, priority, delay ms
-- Returns { schedules advanced, jobs made }.
--@include now
--@include enqueue

local now = nil
-- The one place a scheduled job is written (keep in step with add.lua).
local function createJob(id, record, priority, delay)
  redis.call('HSET', KEYS[4], id, record)
  local seq = 0 -- orders jobs in the priority set only
  if priority > 0 then
    seq = redis.call('INCR', KEYS[9])
    redis.call('HSET', KEYS[7], id, priority)
  end
  if delay > 0 then
    now = now or nowMs()
    redis.call('ZADD', KEYS[8], now + delay, id)
  else
    enqueue(KEYS[5], KEYS[6], id, priority, seq, false)
  end
end

local advanced, made = 0, 0
local ids = {}
for a = 1, #ARGV, 9 do
  local id = ARGV[a]
  ids[#ids + 1] = id
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) == tonumber(ARGV[a + 1]) and redis.call('HGET', KEYS[2], id) == ARGV[a + 2] then
    local jobId = ARGV[a + 5]
    if jobId ~= '' and redis.call('HEXISTS', KEYS[4], jobId) == 0 then
      createJob(jobId, ARGV[a + 6], tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]))
      made = made + 1
    end
    if ARGV[a + 3] == '-1' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
    else
      redis.call('ZADD', KEYS[1], ARGV[a + 3], id)
      redis.call('HSET', KEYS[2], id, ARGV[a + 4])
    end
    advanced = advanced + 1
  end
end
if #ids > 0 then redis.call('HDEL', KEYS[11], unpack(ids)) end
if made > 0 then signal(KEYS[10], made) end
return { advanced, made }
