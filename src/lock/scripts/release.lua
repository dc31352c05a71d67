-- Deletes the lock, only for its holder: a late release from a holder whose lock
-- expired must not free a lock that now belongs to someone else.
-- KEYS: 1 lock (value `token:fence`)
-- ARGV: 1 token
-- Returns 1 when released, 0 when the caller did not hold the lock
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^([^:]*):') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
