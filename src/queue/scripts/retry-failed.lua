-- Redrives jobs from the failed (dead-letter) set back to waiting with a fresh
-- attempt count; their last error stays readable until they finish again.
-- A job added with dedup mode until-done takes its key again; if another live job
-- holds the key meanwhile, the job is not retried and stays failed (reported).
-- Mode 'completed' moves completed jobs back the same way (queue.retry(id, { state })).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 mode ('ids', 'completed' or 'all'), 2.. ids, or for 'all' 2 the batch size and
--   3 how many failed jobs to pass over (those refused by earlier calls)
-- Returns { jobs moved, { id, key, holder } of each job refused, flattened }.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include until-done
--@include events

local S = readSettings()
local ids = {}
if ARGV[1] == 'all' then
  local skip = tonumber(ARGV[3])
  ids = redis.call('ZRANGE', K.failed, skip, skip + tonumber(ARGV[2]) - 1)
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end

local from = ARGV[1] == 'completed' and K.completed or K.failed
local moved, refused = 0, {}
local movedIds = {}
for _, id in ipairs(ids) do
  if redis.call('ZSCORE', from, id) then
    local key, holder = retakeUntilDone(S, id)
    if key then
      refused[#refused + 1] = id
      refused[#refused + 1] = key
      refused[#refused + 1] = holder
    else
      redis.call('ZREM', from, id)
      if from == K.completed then redis.call('HDEL', K.results, id) end
      redis.call('HDEL', K.atts, id)
      redis.call('HDEL', K.stalls, id)
      place(S, id, redis.call('INCR', K.seq), false)
      moved = moved + 1
      movedIds[moved] = id
    end
  end
end
if moved > 0 then
  signal(moved)
  emitEvent(eventCap(S.evlen), 'retried', movedIds)
end
return { moved, refused }
