-- Deletes one job in any state but active (a worker holds it; removing it under
-- the worker would make its acknowledgement fail).
-- KEYS: 1 wait, 2 waitp, 3 delayed, 4 active, 5 completed, 6 failed,
--       7 jobs, 8 atts, 9 pri, 10 stalls, 11 results, 12 errors
-- ARGV: 1 id
-- Returns 1 when removed, 0 when there was no such job, -1 when it is active.
--@include forget

local id = ARGV[1]
if redis.call('HEXISTS', KEYS[4], id) == 1 then return -1 end
if redis.call('HEXISTS', KEYS[7], id) == 0 then return 0 end
-- LREM walks the list: O(waiting). Removal of waiting jobs is an admin action.
redis.call('LREM', KEYS[1], 1, id)
for k = 2, 6 do
  if k ~= 4 then redis.call('ZREM', KEYS[k], id) end
end
forget({ KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12] }, { id })
return 1
