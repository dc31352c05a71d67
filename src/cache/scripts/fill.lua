-- fill: the loader's result is written, the loader lock released (only by its holder's
-- token) and the waiters woken, in one step, so no waiter sees the lock gone before the value.
-- KEYS[1] value key, KEYS[2] lock key
-- ARGV[1] entry, ARGV[2] life in ms, ARGV[3] lock token, ARGV[4] bus channel, ARGV[5] bus message
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
