-- Adds a batch of jobs in one call (concurrent add() calls coalesce into it).
-- Plain jobs (generated id, priority 0, no delay, group or dedup) take the fast
-- path: one HSET and one LPUSH for the whole batch, since each redis.call costs
-- about a microsecond of its own.
-- Dedup modes (see docs/architecture.md): throttle ('t': the first job wins while
-- its key lives, ttl ms), debounce ('d': the job waits ttl ms; a later add while
-- it still waits replaces its record and pushes its start back), until-done ('u':
-- the key holds until the job finishes).
-- A call is idempotent per request id: its reply is stored under the id (for the
-- client's addTimeout plus a minute), and a call sent again (ioredis resends a
-- command whose reply a dropped connection lost; the client resends after errors)
-- returns that reply and writes nothing. add-outcome.lua may fence an id instead
-- ('void'): the batch then writes nothing and returns { -1 }.
-- KEYS: the queue's keys (keys.lua), then the request's reply key, then the
--   throttle and debounce keys
-- ARGV: 1 request id, 2 reply ttl ms, 3 job count, 4 the plain jobs' records joined
--   by byte 30 (see split.lua), 5 and 6 the id step and offset (a generated id is
--   sequence number x step + offset: 1 and 0 for a plain queue; N and k for partition k
--   of N, so an id names its partition and stays short), then per other job 8 fields:
--   id ('' = generated), record, priority, delay ms,
--   group ('' = none), dedup mode ('' = none, 't', 'd', 'u'), dedup key (for 't'
--   and 'd' its index in KEYS, for 'u' the key itself), dedup ttl ms
-- Returns { first sequence number, id of each other job }: plain job i gets the id of
-- sequence number first + i. A duplicate (same jobId, or dedup key taken) reports the id of the
-- job already there, and nothing is written for it (debounce: but its record).
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include write-job
--@include split
--@include dedup
--@include events

local request = KEYS[EXTRA]
local last = redis.call('GET', request)
if last then
  if last == 'void' then return { -1 } end
  local reply = split(last)
  reply[1] = tonumber(reply[1])
  return reply
end

local n = tonumber(ARGV[3])
local records = split(ARGV[4])
local plain = #records
local base = redis.call('INCRBY', K.seq, n) - n
local step, offset = tonumber(ARGV[5]), tonumber(ARGV[6])
-- Past 2^53 an id would not survive a double (the client computes the same ids).
if (base + n) * step + offset > 9007199254740991 then
  redis.call('DECRBY', K.seq, n) -- nothing written
  return redis.error_reply('ERR generated ids of this queue would pass 2^53 (its seq counter is too far on)')
end
local function newId(seq) return string.format('%d', seq * step + offset) end
local out = { base }
local added = 0
local addedIds = {} -- the jobs of the 'added' event, plain ones first

if plain > 0 then
  local fields, ids = {}, {}
  for i = 1, plain do
    local id = newId(base + i)
    ids[i] = id
    fields[i * 2 - 1] = id
    fields[i * 2] = records[i]
  end
  redis.call('HSET', K.jobs, unpack(fields))
  redis.call('LPUSH', K.wait, unpack(ids))
  added = plain
  addedIds = ids
end


for i = 0, n - plain - 1 do
  local a = 7 + i * 8
  local seq = base + plain + i + 1
  local id, record = ARGV[a], ARGV[a + 1]
  local priority, delay, group, mode = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 4], ARGV[a + 5]
  local existing = false
  if id == '' then id = newId(seq) end -- generated: new by construction
  if ARGV[a] ~= '' and redis.call('HEXISTS', K.jobs, id) == 1 then
    existing = id
  elseif mode ~= '' then
    existing = dedup(mode, ARGV[a + 6], id, record, tonumber(ARGV[a + 7]))
  end

  if existing then
    out[#out + 1] = existing
  else
    writeJob(id, record, priority, delay, group, seq)
    added = added + 1 -- a delayed job wakes workers too: they shorten their wait to its due time
    addedIds[#addedIds + 1] = id
    out[#out + 1] = id
  end
end

if added > 0 then
  signal(added)
  emitEvent(eventCap(S and S.evlen), 'added', addedIds)
end
out[1] = string.format('%d', base)
redis.call('SET', request, table.concat(out, SEP), 'PX', ARGV[2])
out[1] = base
return out
