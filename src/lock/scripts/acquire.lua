-- Takes the lock if it is free and hands out the next fencing number, in one step:
-- a holder and its fence always belong together. The lock expires on Redis's clock (PX).
-- KEYS: 1 lock (value `token:fence`), 2 fence counter (never expires)
-- ARGV: 1 token, 2 ttl ms
-- Returns { 1, fence, ttl } when taken (or already ours: a call resent after a lost
-- reply must not wait for its own lock), else { 0, 0, ms until the lock expires }
local token, ttl = ARGV[1], tonumber(ARGV[2])
local held = redis.call('GET', KEYS[1])
if held then
  local owner, fence = string.match(held, '^([^:]*):(%d+)$')
  if owner == token then
    return { 1, tonumber(fence), redis.call('PTTL', KEYS[1]) }
  end
  return { 0, 0, redis.call('PTTL', KEYS[1]) }
end
local fence = redis.call('INCR', KEYS[2])
-- NX is redundant after the GET above (scripts are atomic) but states the intent.
redis.call('SET', KEYS[1], token .. ':' .. fence, 'NX', 'PX', ttl)
return { 1, fence, ttl }
