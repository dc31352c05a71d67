-- Writes a new job and puts it in line, or in `delayed`: the one place a job is
-- created (add.lua, schedule-fire.lua). `seq` orders it among its peers.
-- Needs: keys, now, settings, rate, enqueue, groups.
local S = nil
local function settings()
  S = S or readSettings()
  return S
end

local function writeJob(id, record, priority, delay, group, seq)
  redis.call('HSET', K.jobs, id, record)
  if priority > 0 then redis.call('HSET', K.pri, id, priority) end
  if group ~= '' and not settings().groups then
    redis.call('HSET', K.meta, 'groups', '1')
    S.groups = true
  end
  if delay > 0 then
    redis.call('ZADD', K.delayed, settings().now + delay, id)
    -- Remembers the group until the job is due (place() reads it).
    if group ~= '' then redis.call('HSET', K.gjob, id, group) end
  elseif group ~= '' then
    groupJoin(S, group, id, priority, seq)
  else
    enqueue(id, priority, seq, false)
  end
end
