-- Adds a batch of jobs in one call (concurrent add() calls coalesce into it).
-- KEYS: 1 wait, 2 waitp, 3 pri, 4 delayed, 5 jobs, 6 seq, 7 signal, 8.. dedup keys
-- ARGV: 1 count, then per job 6 fields:
--   id ('' = next sequence number), record JSON, priority, delay ms,
--   index into KEYS of its dedup key (0 = none), dedup ttl ms
-- Returns the id of each job: for a duplicate (same jobId, or dedup key alive)
-- the id of the job that already exists, and nothing is written for it.
--@include now
--@include enqueue

local n = tonumber(ARGV[1])
local seq = redis.call('INCRBY', KEYS[6], n) - n
local now = nowMs()
local ids = {}
local added = false

for i = 0, n - 1 do
  local a = 2 + i * 6
  local id, record = ARGV[a], ARGV[a + 1]
  local priority, delay = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local dedupIndex = tonumber(ARGV[a + 4])
  seq = seq + 1
  if id == '' then id = tostring(seq) end

  local existing = false
  if redis.call('HEXISTS', KEYS[5], id) == 1 then
    existing = id
  elseif dedupIndex > 0 then
    local key = KEYS[dedupIndex]
    existing = redis.call('GET', key)
    if not existing then redis.call('SET', key, id, 'PX', ARGV[a + 5]) end
  end

  if existing then
    ids[i + 1] = existing
  else
    redis.call('HSET', KEYS[5], id, record)
    if priority > 0 then redis.call('HSET', KEYS[3], id, priority) end
    if delay > 0 then
      redis.call('ZADD', KEYS[4], now + delay, id)
    else
      enqueue(KEYS[1], KEYS[2], id, priority, seq, false)
    end
    ids[i + 1] = id
    added = true
  end
end

if added then signal(KEYS[7]) end
return ids
