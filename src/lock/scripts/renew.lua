-- Extends the lock's expiry, only for its holder: a holder whose lock expired, or
-- passed to someone else, must learn so instead of silently taking it back.
-- KEYS: 1 lock (value `token:fence`)
-- ARGV: 1 token, 2 ttl ms
-- Returns 1 when renewed, 0 when the caller does not hold the lock
local held = redis.call('GET', KEYS[1])
if held and string.match(held, '^([^:]*):') == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
