-- unlock: a loader failed; release its lock (only with the holder's token) and wake the
-- waiters at once so one of them can try, instead of waiting for the lock to expire.
-- KEYS[1] lock key
-- ARGV[1] lock token, ARGV[2] bus channel, ARGV[3] bus message
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return released
