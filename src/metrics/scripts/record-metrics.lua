-- Adds one flush of a process's metrics: counter and histogram deltas to the
-- minute, day and total hashes, and the newest failed jobs to the capped list.
-- KEYS: 1 minute hash, 2 day hash, 3 total hash, 4 failed list
-- ARGV: 1 minute ttl ms, 2 day ttl ms, 3 failed jobs kept, 4 failed list ttl ms,
--       5 n, then n pairs (field, integer delta), then failed jobs (JSON), oldest first
-- Returns the number of fields updated
local n = tonumber(ARGV[5])
local last = 5 + 2 * n
for i = 6, last, 2 do
  local field, delta = ARGV[i], ARGV[i + 1]
  redis.call('HINCRBY', KEYS[1], field, delta)
  redis.call('HINCRBY', KEYS[2], field, delta)
  redis.call('HINCRBY', KEYS[3], field, delta)
end
if n > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if #ARGV > last then
  redis.call('LPUSH', KEYS[4], unpack(ARGV, last + 1, #ARGV))
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[3]) - 1)
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
return n
