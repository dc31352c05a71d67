-- Deletes one job in any state but active (a worker holds it; removing it under
-- the worker would make its acknowledgement fail).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id
-- Returns 1 when removed, 0 when there was no such job, -1 when it is active.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include until-done
--@include events

local id = ARGV[1]
if redis.call('HEXISTS', K.active, id) == 1 then return -1 end
if redis.call('HEXISTS', K.jobs, id) == 0 then return 0 end
local S = readSettings()
-- LREM walks the list: O(waiting). Removal of waiting jobs is an admin action.
redis.call('LREM', K.wait, 1, id)
for _, setKey in ipairs({ K.waitp, K.delayed, K.completed, K.failed }) do redis.call('ZREM', setKey, id) end
local group = redis.call('HGET', K.gjob, id)
if group then groupDrop(group, id) end
releaseUntilDone(S, { id })
forget({ id })
emitEvent(eventCap(S.evlen), 'removed', { id })
return 1
