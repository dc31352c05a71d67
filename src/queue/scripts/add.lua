-- Adds a batch of jobs in one call (concurrent add() calls coalesce into it).
-- Plain jobs (generated id, priority 0, no delay, no dedup) take the fast path:
-- one HSET and one LPUSH for the whole batch, since each redis.call costs about
-- a microsecond of its own.
-- KEYS: 1 wait, 2 waitp, 3 pri, 4 delayed, 5 jobs, 6 seq, 7 signal, 8.. dedup keys
-- ARGV: 1 job count, 2 the plain jobs' records joined by byte 30 (see split.lua),
--   then per other job 6 fields: id ('' = generated), record, priority, delay ms,
--   index into KEYS of its dedup key (0 = none), dedup ttl ms
-- Returns { first sequence number, id of each other job }: plain job i gets id
-- first + i. A duplicate (same jobId, or dedup key alive) reports the id of the
-- job already there, and nothing is written for it.
--@include now
--@include enqueue
--@include split

local n = tonumber(ARGV[1])
local records = split(ARGV[2])
local plain = #records
local base = redis.call('INCRBY', KEYS[6], n) - n
local out = { base }
local added = 0

if plain > 0 then
  local fields, ids = {}, {}
  for i = 1, plain do
    local id = string.format('%d', base + i)
    ids[i] = id
    fields[i * 2 - 1] = id
    fields[i * 2] = records[i]
  end
  redis.call('HSET', KEYS[5], unpack(fields))
  redis.call('LPUSH', KEYS[1], unpack(ids))
  added = plain
end

local now = nil
for i = 0, n - plain - 1 do
  local a = 3 + i * 6
  local seq = base + plain + i + 1
  local id, record = ARGV[a], ARGV[a + 1]
  local priority, delay = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local dedupIndex = tonumber(ARGV[a + 4])
  if id == '' then id = string.format('%d', seq) end

  local existing = false
  if redis.call('HEXISTS', KEYS[5], id) == 1 then
    existing = id
  elseif dedupIndex > 0 then
    local key = KEYS[dedupIndex]
    existing = redis.call('GET', key)
    if not existing then redis.call('SET', key, id, 'PX', ARGV[a + 5]) end
  end

  if existing then
    out[#out + 1] = existing
  else
    redis.call('HSET', KEYS[5], id, record)
    if priority > 0 then redis.call('HSET', KEYS[3], id, priority) end
    if delay > 0 then
      now = now or nowMs()
      redis.call('ZADD', KEYS[4], now + delay, id)
    else
      enqueue(KEYS[1], KEYS[2], id, priority, seq, false)
    end
    out[#out + 1] = id
    added = added + 1
  end
end

if added > 0 then signal(KEYS[7], added) end
return out
