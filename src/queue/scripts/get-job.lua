-- Reads everything known about one job, and its state, in one consistent snapshot.
-- KEYS: 1 jobs, 2 active, 3 atts, 4 stalls, 5 results, 6 errors, 7 completed, 8 failed, 9 delayed
-- ARGV: 1 id
-- Returns nil when the job does not exist, else
--   { record, state, attempts made, stalls, result record, error record, lease, due time }
local id = ARGV[1]
local record = redis.call('HGET', KEYS[1], id)
if not record then return nil end

local state, due = 'waiting', false
local lease = redis.call('HGET', KEYS[2], id)
if lease then
  state = 'active'
elseif redis.call('ZSCORE', KEYS[7], id) then
  state = 'completed'
elseif redis.call('ZSCORE', KEYS[8], id) then
  state = 'failed'
else
  due = redis.call('ZSCORE', KEYS[9], id)
  if due then state = 'delayed' end
end

return {
  record, state,
  redis.call('HGET', KEYS[3], id) or '0',
  redis.call('HGET', KEYS[4], id) or '0',
  redis.call('HGET', KEYS[5], id) or '',
  redis.call('HGET', KEYS[6], id) or '',
  lease or '',
  due or '',
}
