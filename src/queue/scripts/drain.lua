-- Deletes waiting and delayed jobs (not active or finished ones), a bounded
-- number per call so Redis never blocks long; the caller repeats until 0.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 batch size
-- Returns { the number of jobs deleted by this call, then per drained flow child its
--   id and removal outcome (the outbox entry, as flow-claim.lua returns them) }.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include until-done
--@include events
--@include split
--@include flow-outbox

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
-- Flow children drained count as removed for their parents (docs/flows.md): their
-- removal outcomes go to this queue's outbox (read before forget() drops the links),
-- and are returned so Queue.drain delivers them at once (the recovery sweep otherwise).
local out = { #ids }
if S.flows and #ids > 0 then
  local all = {}
  for i = 1, #ids do all[i] = i end
  local token = string.format('%d', redis.call('INCR', K.seq))
  flowOutbox(S, ids, all, token, 'r', '')
  local entries = redis.call('HMGET', K.foutv, unpack(ids))
  for i, id in ipairs(ids) do
    if entries[i] then
      out[#out + 1] = id
      out[#out + 1] = entries[i]
    end
  end
end
releaseUntilDone(S, ids)
forget(ids)
emitEvent(eventCap(S.evlen), 'removed', ids)
return out
