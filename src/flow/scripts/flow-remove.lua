-- Removes one job from this queue, flow-aware (Queue.remove, FlowProducer.remove,
-- docs/flows.md); any job, flow or not: in
-- any state but active, with its children hash, its wait for children and any
-- outcome of it not yet delivered. An active job is not removed (its worker holds
-- it): removed by hand it is refused; as part of its parent's removal it is
-- unlinked from the parent, so its outcome goes nowhere.
-- With `tell` set, the job's parent stops waiting for it: a removal outcome goes
-- to this queue's outbox (token: a fresh sequence number, newer than any attempt's).
-- KEYS: the queue's keys (keys.lua), then the job's children hash
-- ARGV: 1 id, 2 tell ('1' or '0')
-- Returns { 1 removed, 0 no such job, -1 active; the removal outcome's token and
--   link ('' when none was left); then its children's queue and id pairs }.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include until-done
--@include split
--@include events

local id, tell = ARGV[1], ARGV[2] == '1'
local kids = KEYS[EXTRA]
if redis.call('HEXISTS', K.jobs, id) == 0 then return { 0 } end
local S = readSettings()
local link = redis.call('HGET', K.fparent, id)
local out = { 1, '', '' }
if redis.call('HEXISTS', K.active, id) == 1 then
  if tell then return { -1, '', '' } end -- removed by hand: refused, like Queue.remove
  out[1] = -1
else
  redis.call('LREM', K.wait, 1, id)
  for _, setKey in ipairs({ K.waitp, K.delayed, K.completed, K.failed }) do redis.call('ZREM', setKey, id) end
  local group = redis.call('HGET', K.gjob, id)
  if group then groupDrop(group, id) end
  releaseUntilDone(S, { id })
  forget({ id })
  redis.call('HDEL', K.fdeps, id)
  redis.call('HDEL', K.fblocked, id)
  for _, f in ipairs(redis.call('HKEYS', kids)) do
    local at = string.find(f, SEP, 1, true)
    out[#out + 1] = string.sub(f, 1, at - 1)
    out[#out + 1] = string.sub(f, at + 1)
  end
  redis.call('DEL', kids)
  emitEvent(eventCap(S.evlen), 'removed', { id })
end
redis.call('HDEL', K.fparent, id)
redis.call('HDEL', K.foutv, id)
redis.call('ZREM', K.fout, id)
if link and tell then
  local token = string.format('%d', redis.call('INCR', K.seq))
  redis.call('HSET', K.foutv, id, token .. SEP .. 'r' .. SEP .. link .. SEP .. 'null')
  redis.call('ZADD', K.fout, S.now + 5000, id)
  out[2], out[3] = token, link
end
return out
