-- Graceful close: puts jobs a worker holds but did not finish straight back at
-- the front of waiting (not after the lease runs out), and ends its lease.
-- The attempt is not counted: the handler never finished it.
-- KEYS: 1 active, 2 wait, 3 waitp, 4 pri, 5 workers, 6 seq, 7 signal, 8 the worker's last replies
-- ARGV: 1 worker id, then pairs of id, lease token
-- Returns the number of jobs put back.
--@include enqueue

local released = 0
for i = 2, #ARGV, 2 do
  local id, prefix = ARGV[i], ARGV[i + 1] .. '|'
  local lease = redis.call('HGET', KEYS[1], id)
  if lease and string.sub(lease, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], id)
    local seq = redis.call('INCR', KEYS[6])
    enqueue(KEYS[2], KEYS[3], id, tonumber(redis.call('HGET', KEYS[4], id) or '0'), seq, true)
    released = released + 1
  end
end
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('DEL', KEYS[8])
if released > 0 then signal(KEYS[7], released) end
return released
