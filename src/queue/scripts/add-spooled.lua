-- Adds the jobs of a producer with a spool (see src/spool): its calls ("items") carry
-- a sequence number within the producer's run, and the run's mark (the highest number
-- applied) lives in KEYS[EXTRA]. An item at or below the mark was applied before (a
-- batch sent directly and again from the spool, a replay repeated after a crash) and
-- is skipped; an item past mark + 1 means an earlier one has not arrived yet, and the
-- call writes nothing and returns { 'gap', mark } (unless ARGV[2] is '1': the earlier
-- items are gone for good). So each item is applied once, in order.
-- Job ids are made by the client: jobIds the caller gave are checked for duplicates
-- as in add.lua; generated ones are new by construction.
-- Plain jobs (generated id, priority 0, no delay, group or dedup) travel joined in one
-- argument, as in add.lua: each separate argument costs the client about a microsecond.
-- KEYS: the queue's keys, then the run's mark, then the throttle and debounce keys
-- ARGV: 1 mark ttl ms, 2 force ('1' or '0'), 3 the items as "seq,jobs;seq,jobs;...",
--   4 one letter per job in order: 'p' plain, 'g' other with a generated id, 'o' other
--   with the caller's jobId, 5 the plain jobs' ids and records alternating, joined by
--   byte 30, then per other job 8 fields: id, record, priority, delay ms,
--   group ('' = none), dedup mode ('' none, 't', 'd', 'u'), dedup key (for 't' and 'd'
--   its index in KEYS, for 'u' the key itself), dedup ttl ms
-- Returns { 'ok', one letter per item: '-' skipped, '=' its jobs got the ids sent, 'x'
--   otherwise, then for each 'x' item its ids joined by byte 30 (a jobId or dedup key
--   already taken reports that job's id) }: one short reply, whatever the batch size.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include write-job
--@include split
--@include dedup

local markKey = KEYS[EXTRA]
local mark = tonumber(redis.call('GET', markKey) or '0')
local force = ARGV[2] == '1'
local kinds = ARGV[4]

-- First pass: check the order before writing anything, and count the jobs to apply.
local items = {}
local m, total = mark, 0
for seq, n in string.gmatch(ARGV[3], '(%d+),(%d+)') do
  seq, n = tonumber(seq), tonumber(n)
  items[#items + 1] = { seq, n }
  if seq > m then
    if seq ~= m + 1 and not force then return { 'gap', mark } end
    m = seq
    total = total + n
  end
end

local order = 0
if total > 0 then order = redis.call('INCRBY', K.seq, total) - total end
local plainArgs = split(ARGV[5])
local added = 0
-- Plain jobs are written together; the buffer is flushed before any other job so the
-- producer's order holds.
local fields, ids = {}, {}
local function flushPlain()
  if #ids == 0 then return end
  redis.call('HSET', K.jobs, unpack(fields))
  redis.call('LPUSH', K.wait, unpack(ids))
  fields, ids = {}, {}
end

local flags, out = {}, { 'ok', '' }
local job, p, o = 0, 1, 6 -- next job's letter, next plain field, next other field
m = mark
for _, item in ipairs(items) do
  local seq, n = item[1], item[2]
  local apply = seq > m
  local got, same = {}, true
  if apply then m = seq end
  for _ = 1, n do
    job = job + 1
    local kind = string.sub(kinds, job, job)
    if kind == 'p' then
      if apply then
        fields[#fields + 1] = plainArgs[p]
        fields[#fields + 1] = plainArgs[p + 1]
        ids[#ids + 1] = plainArgs[p]
        if #ids >= 500 then flushPlain() end
        order = order + 1
        added = added + 1
        got[#got + 1] = plainArgs[p]
      end
      p = p + 2
    else
      if apply then
        flushPlain()
        order = order + 1
        local id, record = ARGV[o], ARGV[o + 1]
        local priority, delay, group, mode = tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), ARGV[o + 4], ARGV[o + 5]
        local existing = false
        if kind == 'o' and redis.call('HEXISTS', K.jobs, id) == 1 then
          existing = id
        elseif mode ~= '' then
          existing = dedup(mode, ARGV[o + 6], id, record, tonumber(ARGV[o + 7]))
        end
        if existing then
          if existing ~= id then same = false end
          got[#got + 1] = existing
        else
          writeJob(id, record, priority, delay, group, order)
          added = added + 1
          got[#got + 1] = id
        end
      end
      o = o + 8
    end
  end
  if not apply then
    flags[#flags + 1] = '-'
  elseif same then
    flags[#flags + 1] = '='
  else
    flags[#flags + 1] = 'x'
    out[#out + 1] = table.concat(got, SEP)
  end
end
flushPlain()

if added > 0 then signal(added) end
redis.call('SET', markKey, m, 'PX', ARGV[1])
out[2] = table.concat(flags)
return out
