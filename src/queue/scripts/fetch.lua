-- Hands up to `count` jobs to one worker and renews that worker's lease.
-- Due delayed jobs are put in line first; higher priority pops before priority 0.
-- The queue's limits hold here, across every worker: a global concurrency limit
-- (jobs active at once), a rate limit (jobs started per window, an exact sliding
-- log), and for grouped jobs round-robin service with per-group limits (groups.lua).
-- When both grouped and ungrouped jobs wait, each call gives each kind half.
-- A call is idempotent per request id: if its reply was lost and the client sends
-- it again (ioredis resends unanswered commands after a reconnect), the stored
-- reply is returned instead of popping more jobs that nobody would know about.
-- The jobs are reserved for the worker: it starts them only while the state this
-- and its later calls report allows it (worker-lease.lua). Its count of reserved
-- jobs is recorded for getCounts.
-- KEYS: the queue's keys (keys.lua), then this worker's last replies
-- ARGV: 1 worker id, 2 count, 3 lease ms, 4 request id, 5 jobs the worker holds
--       reserved, 6 the last fetch token it saw, 7 its free slots (that many of
--       the jobs fetched start at once)
-- Returns { token, ms until the next delayed job, parked group or rate window is
-- due (-1: none), jobs, 1 if the queue has limits (the worker then prefetches
-- nothing), state (1 paused, 2 the lease had lapsed, plus 4 x the time of the worker's
-- latest recall: a lapse or a group pause, see worker-lease.lua) },
-- jobs being id, attempts made and record of each job joined by byte 30 (see split.lua).
--@include keys
--@include now
--@include settings
--@include worker-lease
--@include rate
--@include enqueue
--@include groups
--@include promote
--@include split
--@include events

local wid, count, lease, request = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local reservedBefore, seen, free = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local replies = KEYS[EXTRA]
local S = readSettings()
local now = S.now
local state = leaseState(S, wid, now, lease, replies)
-- A job fetched ahead of a free slot would count against these limits while it idles.
-- (Group concurrency alone is no reason: an idle prefetched job holds only its own group.)
local limited = (S.conc > 0 or S.rmax > 0 or S.grmax > 0 or S.overrides) and 1 or 0
local wait = -1

local function soonest(key)
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if head[2] then
    local ms = math.max(0, tonumber(head[2]) - now)
    if wait < 0 or ms < wait then wait = ms end
  end
end

local function reply(token, jobs)
  soonest(K.delayed)
  if S.groups then soonest(K.gparked) end
  return { token, wait, jobs, limited, state }
end

local last = redis.call('HMGET', replies, 'fetch', 'token', 'jobs', 'rsv', 'held', 'at')
if last[1] == request then
  recordReserved(wid, reservedBefore, seen, last[2], last[4])
  -- A recall since the first run of this call: its jobs may have been taken back, or be
  -- a paused group's.
  if math.floor(state / 4) >= tonumber(last[6] or '0') and state % 4 < LAPSED then state = state + LAPSED end
  return reply(last[2], last[3])
end

promoteDue(S, now) -- due delayed jobs, in add order (promote.lua)

if S.paused then
  recordReserved(wid, reservedBefore, seen, false)
  return reply('', '')
end
-- A handler signalled a rate limit (job.rateLimit): nothing starts until it ends.
if S.limitedUntil > now then
  recordReserved(wid, reservedBefore, seen, false)
  return { '', S.limitedUntil - now, '', limited, state }
end

local want = count
if S.conc > 0 then
  local room = S.conc - redis.call('HLEN', K.active)
  if room < want then
    want = math.max(0, room)
    redis.call('HSET', K.meta, 'held', '1') -- settle wakes workers when a slot frees
  end
end
local window, started
if S.rmax > 0 then
  window, started = rateWindow(redis.call('HGET', K.meta, 'rlog'), now, S.rdur)
  if started >= S.rmax then wait = rateFreeAt(window, started, S.rmax, S.rdur) - now end
  want = math.max(0, math.min(want, S.rmax - started))
end

local token = string.format('%d', redis.call('INCR', K.seq))
local ids = {}
local function takeUngrouped(n)
  if n <= 0 then return end
  local popped = redis.call('ZPOPMIN', K.waitp, n)
  for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
  if #popped / 2 < n then
    local rest = redis.call('RPOP', K.wait, n - #popped / 2)
    if rest then
      for _, id in ipairs(rest) do ids[#ids + 1] = id end
    end
  end
end

if S.groups then
  -- Alternate which kind gets the odd slot, so count = 1 serves both in turn, and
  -- interleave the two kinds in the reply, since workers start jobs in reply order.
  local share = math.floor(want / 2)
  if want % 2 == 1 and tonumber(token) % 2 == 0 then share = share + 1 end
  takeUngrouped(share)
  local ungrouped = ids
  local grouped = groupTake(S, want - #ungrouped, now)
  ids = {}
  for i = 1, math.max(#ungrouped, #grouped) do
    if ungrouped[i] then ids[#ids + 1] = ungrouped[i] end
    if grouped[i] then ids[#ids + 1] = grouped[i] end
  end
  takeUngrouped(want - #ids)
else
  takeUngrouped(want)
end

if #ids == 0 then
  recordReserved(wid, reservedBefore, seen, false)
  return reply(token, '')
end
if S.rmax > 0 then redis.call('HSET', K.meta, 'rlog', rateRecord(window, now, #ids)) end

local records = redis.call('HMGET', K.jobs, unpack(ids))
-- No job of the queue has failed an attempt: skip converting every id for an absent hash.
local atts = redis.call('EXISTS', K.atts) == 1 and redis.call('HMGET', K.atts, unpack(ids)) or {}
local held, out = {}, {}
local leaseValue = token .. '|' .. wid .. '|' .. now
for i, id in ipairs(ids) do
  -- A record can be missing only if the job was removed while waiting: skip it.
  if records[i] then
    held[#held + 1] = id
    held[#held + 1] = leaseValue
    out[#out + 1] = id
    out[#out + 1] = atts[i] or '0'
    out[#out + 1] = records[i]
  end
end
if #held > 0 then redis.call('HSET', K.active, unpack(held)) end
local cap = eventCap(S.evlen)
if cap ~= '0' and #held > 0 then
  local started = {}
  for i = 1, #held, 2 do started[#started + 1] = held[i] end
  emitEvent(cap, 'active', started)
  -- 'drained': this call took the last waiting jobs (delayed ones do not count).
  if #ids < count then
    local left = redis.call('LLEN', K.wait) + redis.call('ZCARD', K.waitp)
    if S.groups then left = left + redis.call('HLEN', K.gnext) + redis.call('ZCARD', K.gwait) end
    if left == 0 then emitEvent(cap, 'drained', '') end
  end
end

-- More work left that another worker may take: pass the wake-up on.
if #ids == count then
  local remaining = redis.call('LLEN', K.wait) + redis.call('ZCARD', K.waitp)
  if S.groups then remaining = remaining + redis.call('ZCARD', K.gready) end
  if remaining > 0 then signal(remaining) end
end

local jobs = table.concat(out, SEP)
local n = #held / 2
-- Jobs beyond the worker's free slots wait in it, reserved. `held` counts this worker's
-- entries in `active` (a hint the heartbeat compares with what the worker holds).
local reserved = math.max(0, n - free)
recordReserved(wid, reservedBefore + reserved, seen, false)
redis.call('HSET', replies, 'fetch', request, 'token', token, 'jobs', jobs, 'rsv', reserved, 'n', n,
  'held', tonumber(last[5] or '0') + n, 'at', now)
redis.call('PEXPIRE', replies, 600000) -- kept 10 minutes: long enough for any reconnect
return reply(token, jobs)
