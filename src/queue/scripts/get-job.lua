-- Reads everything known about one job, and its state, in one consistent snapshot.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id
-- Returns nil when the job does not exist, else { record, state, attempts made,
--   stalls, result record, error record, lease, due time, progress, logs, group }
--@include keys
local id = ARGV[1]
local record = redis.call('HGET', K.jobs, id)
if not record then return nil end

local state, due = 'waiting', false
local lease = redis.call('HGET', K.active, id)
if lease then
  state = 'active'
elseif redis.call('ZSCORE', K.completed, id) then
  state = 'completed'
elseif redis.call('ZSCORE', K.failed, id) then
  state = 'failed'
elseif redis.call('HEXISTS', K.fdeps, id) == 1 then
  state = 'waiting-children' -- a flow parent (src/flow)
else
  due = redis.call('ZSCORE', K.delayed, id)
  if due then state = 'delayed' end
end

return {
  record, state,
  redis.call('HGET', K.atts, id) or '0',
  redis.call('HGET', K.stalls, id) or '0',
  redis.call('HGET', K.results, id) or '',
  redis.call('HGET', K.errors, id) or '',
  lease or '',
  due or '',
  redis.call('HGET', K.progress, id) or '',
  redis.call('HGET', K.logs, id) or '',
  redis.call('HGET', K.gjob, id) or '',
}
