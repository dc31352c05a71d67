-- Adds the jobs of a producer with a spool (see src/spool): its calls ("items") carry
-- a sequence number within the producer's run, and the run's mark (the highest number
-- applied) lives in KEYS[EXTRA]. An item at or below the mark was applied before (a
-- batch sent directly and again from the spool, a replay repeated after a crash) and
-- is skipped; an item past mark + 1 means an earlier one has not arrived yet, and the
-- call writes nothing and returns { 'gap', mark } (unless ARGV[2] is '1': the earlier
-- items are gone for good). So each item is applied once, in order.
-- Job ids are made by the client: jobIds the caller gave are checked for duplicates
-- as in add.lua; generated ones (flag '1') are new by construction.
-- KEYS: the queue's keys, then the run's mark, then the throttle and debounce keys
-- ARGV: 1 mark ttl ms, 2 force ('1' or '0'), 3 item count, then per item: its sequence
--   number, its job count, then per job 9 fields: id, generated ('1'/'0'), record,
--   priority, delay ms, group ('' = none), dedup mode ('' none, 't', 'd', 'u'), dedup
--   key (for 't' and 'd' its index in KEYS, for 'u' the key itself), dedup ttl ms
-- Returns { 'ok', then per item its ids joined by byte 30, or '' if it was skipped }.
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
local items = tonumber(ARGV[3])

-- First pass: check the order before writing anything, and count the jobs to apply.
local m, total = mark, 0
local a = 4
for _ = 1, items do
  local seq, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  if seq > m then
    if seq ~= m + 1 and not force then return { 'gap', mark } end
    m = seq
    total = total + n
  end
  a = a + 2 + n * 9
end

local order = 0
if total > 0 then order = redis.call('INCRBY', K.seq, total) - total end
local added = 0
-- Plain jobs (generated id, priority 0, no delay, group or dedup) are written together;
-- the buffer is flushed before any other job so the producer's order holds.
local fields, ids = {}, {}
local function flushPlain()
  if #ids == 0 then return end
  redis.call('HSET', K.jobs, unpack(fields))
  redis.call('LPUSH', K.wait, unpack(ids))
  fields, ids = {}, {}
end

local out = { 'ok' }
m = mark
a = 4
for _ = 1, items do
  local seq, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local got = {}
  if seq > m then
    m = seq
    for j = 0, n - 1 do
      local f = a + 2 + j * 9
      local id, generated, record = ARGV[f], ARGV[f + 1], ARGV[f + 2]
      local priority, delay, group, mode = tonumber(ARGV[f + 3]), tonumber(ARGV[f + 4]), ARGV[f + 5], ARGV[f + 6]
      order = order + 1
      if generated == '1' and priority == 0 and delay == 0 and group == '' and mode == '' then
        fields[#fields + 1] = id
        fields[#fields + 1] = record
        ids[#ids + 1] = id
        if #ids >= 500 then flushPlain() end
        added = added + 1
        got[#got + 1] = id
      else
        flushPlain()
        local existing = false
        if generated ~= '1' and redis.call('HEXISTS', K.jobs, id) == 1 then
          existing = id
        elseif mode ~= '' then
          existing = dedup(mode, ARGV[f + 7], id, record, tonumber(ARGV[f + 8]))
        end
        if existing then
          got[#got + 1] = existing
        else
          writeJob(id, record, priority, delay, group, order)
          added = added + 1
          got[#got + 1] = id
        end
      end
    end
  end
  out[#out + 1] = table.concat(got, SEP)
  a = a + 2 + n * 9
end
flushPlain()

if added > 0 then signal(added) end
redis.call('SET', markKey, m, 'PX', ARGV[1])
return out
