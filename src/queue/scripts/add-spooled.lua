-- Adds the jobs of a producer with a spool (see src/spool): its calls ("items") carry
-- a sequence number within the producer's run, and the run's mark (the highest number
-- applied) lives in KEYS[EXTRA]. An item at or below the mark was applied before (a
-- batch sent directly and again from the spool, a replay repeated after a crash) and
-- is skipped; an item past mark + 1 means an earlier one has not arrived yet, and the
-- call writes nothing and returns { 'gap', mark } (unless ARGV[2] is '1': the earlier
-- items are gone for good). So each item is applied once, in order.
-- A call's items have consecutive sequence numbers (the client cuts a replay at a
-- hole), so the items already applied are a prefix of the call: one comparison with
-- the mark finds them, with no per-item bookkeeping.
-- Job ids are made by the client: jobIds the caller gave are checked for duplicates
-- as in add.lua; generated ones are new by construction.
-- Plain jobs (generated id, priority 0, no delay, group or dedup) travel joined in one
-- argument, as in add.lua: each separate argument costs the client about a microsecond.
-- A call of plain jobs only (the common case: add() while Redis answers) takes the
-- fast path: its split ids and records are HSET's arguments as they are. The general
-- path costs a few Lua operations per job more, which showed as twice add.lua's time.
-- KEYS: the queue's keys, then the run's mark, then the throttle and debounce keys
-- ARGV: 1 mark ttl ms, 2 force ('1' or '0'), 3 the first item's sequence number,
--   4 the item count, 5 the items' job counts joined by ',' ('' when each holds one
--   job), 6 one letter per job in order ('' when all are plain): 'p' plain, 'g' other
--   with a generated id, 'o' other with the caller's jobId, 7 the plain jobs' ids and
--   records alternating, joined by byte 30, then per other job 8 fields: id, record,
--   priority, delay ms, group ('' = none), dedup mode ('' none, 't', 'd', 'u'), dedup
--   key (for 't' and 'd' its index in KEYS, for 'u' the key itself), dedup ttl ms
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
--@include events

local markKey = KEYS[EXTRA]
local mark = tonumber(redis.call('GET', markKey) or '0')
local first, count = tonumber(ARGV[3]), tonumber(ARGV[4])
if first > mark + 1 and ARGV[2] ~= '1' then return { 'gap', mark } end
local kinds = ARGV[6]

-- Items at or below the mark are the call's first `skip` items; their jobs come first.
local skip = math.max(0, math.min(count, mark - first + 1))
local sizes = nil
local skipJobs, total = skip, nil
if ARGV[5] ~= '' then
  sizes, skipJobs, total = {}, 0, 0
  for n in string.gmatch(ARGV[5], '%d+') do
    n = tonumber(n)
    sizes[#sizes + 1] = n
    if #sizes <= skip then skipJobs = skipJobs + n end
    total = total + n
  end
else
  total = count
end
local applied = total - skipJobs
local last = first + count - 1
if last < mark then last = mark end

local added = 0
local addedIds = {}
local reply = nil -- the general path's; the fast path's is built at the end
local plainArgs = split(ARGV[7])
if applied > 0 then
  local order = redis.call('INCRBY', K.seq, applied) - applied
  if kinds == '' then
    -- Fast path: the split arguments alternate id and record, as HSET takes them.
    for from = skipJobs + 1, total, 500 do
      local to = math.min(total, from + 499)
      local ids = {}
      for j = from, to do ids[#ids + 1] = plainArgs[j * 2 - 1] end
      redis.call('HSET', K.jobs, unpack(plainArgs, from * 2 - 1, to * 2))
      redis.call('LPUSH', K.wait, unpack(ids))
      for _, id in ipairs(ids) do addedIds[#addedIds + 1] = id end
    end
    added = applied
  else
    -- General path: plain jobs are buffered and flushed before any other job, so the
    -- producer's order holds.
    local fields, ids = {}, {}
    local function flushPlain()
      if #ids == 0 then return end
      redis.call('HSET', K.jobs, unpack(fields))
      redis.call('LPUSH', K.wait, unpack(ids))
      fields, ids = {}, {}
    end
    local flags, out = {}, { 'ok', '' }
    local job, p, o = 0, 1, 8 -- next job's letter, next plain field, next other field
    for item = 1, count do
      local n = sizes and sizes[item] or 1
      local apply = item > skip
      local got, same = {}, true
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
            addedIds[#addedIds + 1] = plainArgs[p]
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
              addedIds[#addedIds + 1] = id
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
    out[2] = table.concat(flags)
    reply = out
  end
end

if added > 0 then
  signal(added)
  emitEvent(eventCap(S and S.evlen), 'added', addedIds)
end
redis.call('SET', markKey, last, 'PX', ARGV[1])
return reply or { 'ok', string.rep('-', skip) .. string.rep('=', count - skip) }
