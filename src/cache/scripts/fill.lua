-- fill: the loader's result is written, the loader lock released and the waiters woken,
-- in one step, so no waiter sees the lock gone before the value. It writes only while the
-- caller still holds the loader lock (or, for a caller loading without it, while nobody
-- holds it): set and delete take the lock away, so a slow loader can never overwrite them
-- with an older value.
-- KEYS[1] value key, KEYS[2] lock key
-- ARGV[1] entry, ARGV[2] life in ms, ARGV[3] lock token ('' when loading without the lock),
-- ARGV[4] bus channel, ARGV[5] bus message
-- Returns 1 when written, 0 when refused.
local held = redis.call('GET', KEYS[2])
if ARGV[3] == '' then
  if held then return 0 end
elseif held ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if held then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
