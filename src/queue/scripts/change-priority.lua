-- Changes the priority of a waiting or delayed job (queue.changePriority). A waiting
-- job leaves its place and goes behind the jobs already waiting at its new
-- priority (in its group's line, for a grouped job); a delayed one takes it when due.
-- The record's options say the new priority too.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id, 2 priority (0..1000)
-- Returns 1, 0 when there is no such job, -1 when it is active or finished.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include record-lines

local id, priority = ARGV[1], tonumber(ARGV[2])
local record = redis.call('HGET', K.jobs, id)
if not record then return 0 end
if redis.call('HEXISTS', K.active, id) == 1 or redis.call('ZSCORE', K.completed, id)
  or redis.call('ZSCORE', K.failed, id) then
  return -1
end
local S = readSettings()
local waiting = false
if not redis.call('ZSCORE', K.delayed, id) then
  local g = S.groups and redis.call('HGET', K.gjob, id)
  if g then
    groupDrop(g, id)
    waiting = true
  elseif redis.call('ZREM', K.waitp, id) == 1 then
    waiting = true
  else
    -- LREM walks the list: O(waiting), an admin action like remove().
    waiting = redis.call('LREM', K.wait, 1, id) == 1
  end
end
if priority > 0 then redis.call('HSET', K.pri, id, priority) else redis.call('HDEL', K.pri, id) end
local _, b, c = recordBreaks(record)
local opts = cjson.decode(string.sub(record, b + 1, c - 1))
opts.priority = priority > 0 and priority or nil
-- cjson writes an empty table as {}: the options stay an object.
redis.call('HSET', K.jobs, id, string.sub(record, 1, b) .. cjson.encode(opts) .. string.sub(record, c))
if waiting then
  place(S, id, redis.call('INCR', K.seq), false)
  signal(1)
end
return 1
