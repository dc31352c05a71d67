-- Records the outcomes of a batch of attempts from one worker in one call.
-- KEYS: 1 active, 2 jobs, 3 atts, 4 pri, 5 stalls, 6 results, 7 errors,
--       8 completed, 9 failed, 10 wait, 11 waitp, 12 delayed, 13 seq, 14 signal
-- ARGV: 1 completions, 2 failures, then per completion 5 fields:
--   id, lease token, result JSON, keep age ms (0: no limit), keep count (-1: no limit, 0: delete now)
-- then per failure 6 fields:
--   id, lease token, error JSON, retry delay ms (-1: no retry left), keep age, keep count
-- Returns the ids whose lease was lost: their outcome was not applied.
--@include now
--@include enqueue
--@include forget
--@include lease
--@include retain

local nDone, nFailed = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = nowMs()
local rejected = {}
local wake = false

for i = 0, nDone - 1 do
  local a = 3 + i * 5
  local id = ARGV[a]
  local started = takeLease(KEYS[1], id, ARGV[a + 1])
  if not started then
    rejected[#rejected + 1] = id
  else
    local keepCount = tonumber(ARGV[a + 4])
    if keepCount == 0 then
      forget(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], id)
    else
      redis.call('HSET', KEYS[6], id, '{"p":' .. started .. ',"f":' .. now .. ',"r":' .. ARGV[a + 2] .. '}')
      retain(KEYS[8], id, now, tonumber(ARGV[a + 3]), keepCount, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
    end
  end
end

local base = 3 + nDone * 5
for i = 0, nFailed - 1 do
  local a = base + i * 6
  local id = ARGV[a]
  local started = takeLease(KEYS[1], id, ARGV[a + 1])
  if not started then
    rejected[#rejected + 1] = id
  else
    local attempt = redis.call('HINCRBY', KEYS[3], id, 1)
    local retryDelay, keepCount = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 5])
    redis.call('HSET', KEYS[7], id,
      '{"p":' .. started .. ',"f":' .. now .. ',"a":' .. attempt .. ',"e":' .. ARGV[a + 2] .. '}')
    if retryDelay > 0 then
      redis.call('ZADD', KEYS[12], now + retryDelay, id)
      wake = true
    elseif retryDelay == 0 then
      local seq = redis.call('INCR', KEYS[13])
      enqueue(KEYS[10], KEYS[11], id, tonumber(redis.call('HGET', KEYS[4], id) or '0'), seq, false)
      wake = true
    elseif keepCount == 0 then
      forget(KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], id)
    else
      retain(KEYS[9], id, now, tonumber(ARGV[a + 4]), keepCount, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
    end
  end
end

if wake then signal(KEYS[14]) end
return rejected
