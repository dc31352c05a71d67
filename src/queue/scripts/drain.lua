-- Deletes waiting and delayed jobs (not active or finished ones), a bounded
-- number per call so Redis never blocks long; the caller repeats until 0.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 batch size
-- Returns the number of jobs deleted by this call.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include until-done
--@include events

local budget = tonumber(ARGV[1])
local ids = {}
for _, setKey in ipairs({ K.waitp, K.delayed }) do
  local popped = redis.call('ZPOPMIN', setKey, budget - #ids)
  for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
end
if #ids < budget then
  local rest = redis.call('RPOP', K.wait, budget - #ids)
  if rest then
    for _, id in ipairs(rest) do ids[#ids + 1] = id end
  end
end
if #ids < budget then
  local members = redis.call('ZRANGE', K.gwait, 0, budget - #ids - 1)
  if #members > 0 then
    redis.call('ZREM', K.gwait, unpack(members))
    for _, m in ipairs(members) do
      local g = memberGroup(m)
      ids[#ids + 1] = memberId(g, m)
      groupDropped(g, 1)
    end
  end
end
if #ids < budget then
  -- Groups' lines: the groups with one are the `h:` fields of gcount.
  for _, field in ipairs(redis.call('HKEYS', K.gcount)) do
    if #ids >= budget then break end
    if string.sub(field, 1, 2) == 'h:' then
      local g = string.sub(field, 3)
      local taken = linePop(g, budget - #ids)
      for _, id in ipairs(taken) do ids[#ids + 1] = id end
      groupDropped(g, #taken)
    end
  end
end
-- A delayed grouped job has a gjob entry but no place in a line or gwait: drained as delayed.
local S = readSettings()
releaseUntilDone(S, ids)
forget(ids)
emitEvent(eventCap(S.evlen), 'removed', ids)
return #ids
