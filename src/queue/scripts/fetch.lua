-- Hands up to `count` jobs to one worker and renews that worker's lease.
-- Due delayed jobs are promoted first; higher priority pops before priority 0.
-- A call is idempotent per request id: if its reply was lost and the client sends
-- it again (ioredis resends unanswered commands after a reconnect), the stored
-- reply is returned instead of popping more jobs that nobody would know about.
-- KEYS: 1 wait, 2 waitp, 3 pri, 4 delayed, 5 active, 6 workers, 7 jobs, 8 atts,
--       9 seq, 10 signal, 11 meta, 12 this worker's last replies
-- ARGV: 1 worker id, 2 count, 3 lease ms, 4 request id
-- Returns { token, ms until the next delayed job is due (-1: none), jobs }, jobs
-- being id, attempts made and record of each job joined by byte 30 (see split.lua).
--@include now
--@include enqueue
--@include split

local wid, count, lease, request = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local now = nowMs()
redis.call('ZADD', KEYS[6], now + lease, wid)

local function nextDue()
  local head = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  if head[2] then return math.max(0, tonumber(head[2]) - now) end
  return -1
end

local last = redis.call('HMGET', KEYS[12], 'fetch', 'token', 'jobs')
if last[1] == request then return { last[2], nextDue(), last[3] } end

-- Promote due delayed jobs (bounded per call; the next call takes the rest).
local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then
  local seq = redis.call('INCRBY', KEYS[9], #due) - #due
  for i, id in ipairs(due) do
    enqueue(KEYS[1], KEYS[2], id, tonumber(redis.call('HGET', KEYS[3], id) or '0'), seq + i, false)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, #due - 1)
end

if redis.call('HEXISTS', KEYS[11], 'paused') == 1 then
  return { '', nextDue(), '' }
end

local ids = {}
local popped = redis.call('ZPOPMIN', KEYS[2], count)
for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
if #ids < count then
  local rest = redis.call('RPOP', KEYS[1], count - #ids)
  if rest then
    for _, id in ipairs(rest) do ids[#ids + 1] = id end
  end
end

local token = string.format('%d', redis.call('INCR', KEYS[9]))
if #ids == 0 then return { token, nextDue(), '' } end

local records = redis.call('HMGET', KEYS[7], unpack(ids))
local atts = redis.call('HMGET', KEYS[8], unpack(ids))
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
if #held > 0 then redis.call('HSET', KEYS[5], unpack(held)) end

-- More work left: pass the wake-up on to other blocked workers.
local remaining = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
if remaining > 0 then signal(KEYS[10], remaining) end

local jobs = table.concat(out, SEP)
redis.call('HSET', KEYS[12], 'fetch', request, 'token', token, 'jobs', jobs)
redis.call('PEXPIRE', KEYS[12], 600000) -- kept 10 minutes: long enough for any reconnect
return { token, nextDue(), jobs }
