-- Creates or changes one schedule (queue.schedule). The caller computed the first
-- tick from what it read; if the schedule changed since (another put, a fire), it
-- is told to read again. A put of the very spec already stored changes nothing,
-- so every process may call schedule() at start without moving the grid.
-- A changed spec gets a new version (from a counter, never reused), which makes
-- any scheduler still holding the old one fail its compare-and-set: no stray job.
-- KEYS: 1 specs, 2 runs, 3 next, 4 version counter, 5 claims
-- ARGV: 1 id, 2 spec JSON, 3 the runs value the caller read ('' = none), 4 first tick
-- Returns 0: changed since read (read again), 1: the same spec was there, 2: stored.

local id = ARGV[1]
local run = redis.call('HGET', KEYS[2], id) or ''
if run ~= ARGV[3] then return 0 end
if redis.call('HGET', KEYS[1], id) == ARGV[2] then return 1 end
local version = redis.call('INCR', KEYS[4])
-- The last tick stays: the caller started the new grid after it, so a job id
-- (derived from schedule id and tick) is never reused. The count of jobs made restarts.
local last = string.match(run, ':(%d+)$') or '0'
redis.call('HSET', KEYS[1], id, ARGV[2])
redis.call('HSET', KEYS[2], id, string.format('%d:0:%s', version, last))
redis.call('ZADD', KEYS[3], ARGV[4], id)
-- A claim on the old tick must not hold back the new one.
redis.call('HDEL', KEYS[5], id)
return 2
