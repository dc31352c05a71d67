-- Adds the nodes of one or more flows that live in this queue (docs/flows.md).
-- The caller sends a queue's nodes only after the queues of their parents stored
-- those, and within a call parents come before their children, so a child never
-- exists before its parent. A parent waits in `fdeps` (state waiting-children)
-- with one entry per child in its children hash; leaves go in line like any job.
-- Idempotent per job id: a node whose id exists is left as it is, so adding the
-- same flow twice makes one. An existing id linked to another parent (or to none)
-- is a conflict: nothing of this call is written.
-- KEYS: the queue's keys (keys.lua), then the children hash of each parent node
-- ARGV: 1 node count, then per node 8 fields: id, record, priority, delay ms,
--   group ('' none), link to its parent ('' for a root, else policy SEP parent
--   queue SEP parent id), index in KEYS of its children hash (0: a leaf), its
--   children's queue and id pairs joined by byte 30
-- Returns { 1 added or 0 already there, per node }, or { -1, id } on a conflict.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include write-job
--@include split

local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local a = 2 + i * 8
  local id = ARGV[a]
  if redis.call('HEXISTS', K.jobs, id) == 1 and (redis.call('HGET', K.fparent, id) or '') ~= ARGV[a + 5] then
    return { -1, id }
  end
end
local base = redis.call('INCRBY', K.seq, n) - n
local out, added, linked = {}, 0, false
for i = 0, n - 1 do
  local a = 2 + i * 8
  local id, record, priority, delay, group = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), ARGV[a + 4]
  local link, kidsAt = ARGV[a + 5], tonumber(ARGV[a + 6])
  if redis.call('HEXISTS', K.jobs, id) == 1 then
    out[#out + 1] = 0
  else
    if link ~= '' then
      redis.call('HSET', K.fparent, id, link)
      linked = true
    end
    if kidsAt > 0 then
      local refs = split(ARGV[a + 7])
      local fields = {}
      for r = 1, #refs, 2 do
        fields[#fields + 1] = refs[r] .. SEP .. refs[r + 1]
        fields[#fields + 1] = '0' .. SEP .. 'p'
      end
      redis.call('HSET', KEYS[kidsAt], unpack(fields))
      redis.call('HSET', K.fdeps, id, string.format('%d', #refs / 2) .. ',0')
      redis.call('HSET', K.jobs, id, record)
      if priority > 0 then redis.call('HSET', K.pri, id, priority) end
      if group ~= '' then
        if not settings().groups then
          redis.call('HSET', K.meta, 'groups', '1')
          S.groups = true
        end
        redis.call('HSET', K.gjob, id, group) -- place() reads it when the parent is released
      end
    else
      writeJob(id, record, priority, delay, group, base + i + 1)
      added = added + 1
    end
    out[#out + 1] = 1
  end
end
if linked and not settings().flows then redis.call('HSET', K.meta, 'flows', '1') end
if added > 0 then signal(added) end
return out
