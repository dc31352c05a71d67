-- Records the outcomes of a batch of attempts from one worker in one call.
-- Completions come in groups sharing a lease token and retention, so a group
-- costs a fixed number of redis.call()s however many jobs it holds.
-- KEYS: 1 active, 2 jobs, 3 atts, 4 pri, 5 stalls, 6 results, 7 errors,
--       8 completed, 9 failed, 10 wait, 11 waitp, 12 delayed, 13 seq, 14 signal,
--       15 this worker's last replies
-- ARGV: 1 request id (a call sent again after a lost reply returns the first
--   reply and applies nothing twice), 2 number of completion groups, then per group 5 fields:
--   lease token, keep age ms (0: no limit), keep count (-1: no limit, 0: delete now),
--   the ids and the result JSONs (none when deleting), each joined by byte 30;
-- then the number of failures, and per failure 6 fields:
--   id, lease token, error JSON, retry delay ms (-1: no retry left), keep age, keep count
-- Returns the ids whose lease was lost: their outcome was not applied.
--@include now
--@include enqueue
--@include forget
--@include retain
--@include split

local last = redis.call('HMGET', KEYS[15], 'settle', 'rejected')
if last[1] == ARGV[1] then return split(last[2]) end

local rec = { KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7] }
local now = nowMs()
local rejected = {}
local wake = 0

-- Splits `ids` into those `token` still holds (their lease is ended here) and the rest.
local function takeLeases(ids, token)
  local leases = redis.call('HMGET', KEYS[1], unpack(ids))
  local prefix = token .. '|'
  local held, started = {}, {}
  for i, id in ipairs(ids) do
    local lease = leases[i]
    if lease and string.sub(lease, 1, #prefix) == prefix then
      held[#held + 1] = i
      started[i] = string.match(lease, '|(%d+)$')
    else
      rejected[#rejected + 1] = id
    end
  end
  return held, started
end

local a = 3
for _ = 1, tonumber(ARGV[2]) do
  local token, keepAge, keepCount = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local ids = split(ARGV[a + 3])
  local held, started = takeLeases(ids, token)
  if #held > 0 then
    local done = {}
    for k, j in ipairs(held) do done[k] = ids[j] end
    redis.call('HDEL', KEYS[1], unpack(done))
    if keepCount == 0 then
      forget(rec, done)
    else
      local results = split(ARGV[a + 4])
      local fields = {}
      for _, j in ipairs(held) do
        fields[#fields + 1] = ids[j]
        fields[#fields + 1] = '{"p":' .. started[j] .. ',"f":' .. now .. ',"r":' .. results[j] .. '}'
      end
      redis.call('HSET', KEYS[6], unpack(fields))
      retain(KEYS[8], rec, done, now, keepAge, keepCount)
    end
  end
  a = a + 5
end

local nFailed = tonumber(ARGV[a])
for i = 0, nFailed - 1 do
  local f = a + 1 + i * 6
  local id = ARGV[f]
  local held, started = takeLeases({ id }, ARGV[f + 1])
  if #held == 1 then
    redis.call('HDEL', KEYS[1], id)
    local attempt = redis.call('HINCRBY', KEYS[3], id, 1)
    local retryDelay, keepCount = tonumber(ARGV[f + 3]), tonumber(ARGV[f + 5])
    redis.call('HSET', KEYS[7], id,
      '{"p":' .. started[1] .. ',"f":' .. now .. ',"a":' .. attempt .. ',"e":' .. ARGV[f + 2] .. '}')
    if retryDelay > 0 then
      redis.call('ZADD', KEYS[12], now + retryDelay, id)
      wake = wake + 1
    elseif retryDelay == 0 then
      local seq = redis.call('INCR', KEYS[13])
      enqueue(KEYS[10], KEYS[11], id, tonumber(redis.call('HGET', KEYS[4], id) or '0'), seq, false)
      wake = wake + 1
    elseif keepCount == 0 then
      forget(rec, { id })
    else
      retain(KEYS[9], rec, { id }, now, tonumber(ARGV[f + 4]), keepCount)
    end
  end
end

if wake > 0 then signal(KEYS[14], wake) end
redis.call('HSET', KEYS[15], 'settle', ARGV[1], 'rejected', table.concat(rejected, SEP))
redis.call('PEXPIRE', KEYS[15], 600000)
return rejected
