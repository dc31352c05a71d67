-- Records flow children's outcomes under their parents, in the parents' queue,
-- and releases a parent when its last child is done (docs/flows.md). Children in
-- other queues (other Cluster slots) reach here through their queue's outbox: the
-- worker that finished them, or the recovery sweep, calls this script, so no
-- script touches two queues. Idempotent: an outcome is applied only if its token
-- (the child queue's lease token, or a fresh sequence number for a removal) is
-- newer than the one recorded for that child, so a repeated or late delivery
-- changes nothing.
-- A child's record in its parent's children hash is `token SEP state SEP payload`,
-- state p (pending), c (completed), x (failed, fails the parent), f (failed, the
-- parent runs and sees it), i (failed, ignored), r (removed). All but p and x
-- count as done; a parent with an x child is failed (in `failed` and `fblocked`)
-- until that child's retry completes, when it waits again or is released.
-- KEYS: the queue's keys (keys.lua), then the parent's children hash per delivery
-- ARGV: 1 delivery count, 2 keep age and 3 keep count for a parent that fails,
--   then per delivery 6 fields: parent id, child ref (queue SEP id), token,
--   kind ('c' completed, 'f' failed, 'r' removed), policy ('fail', 'ignore',
--   'continue'), payload (result or error JSON)
-- Returns the number of parents released.
--@include keys
--@include now
--@include settings
--@include rate
--@include enqueue
--@include groups
--@include forget
--@include retain
--@include split
--@include flow-outbox
--@include fail-record
--@include events

-- A released parent's children hash outlives it by this much (its handler reads it).
local KIDS_TTL_MS = 7 * 24 * 3600 * 1000
local S = readSettings()
local n, keepAge, keepCount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local released, wake = 0, 0
local function counted(st) return st ~= 'p' and st ~= 'x' end

local function failParent(pid, ref, payload)
  local at = string.find(ref, SEP, 1, true)
  local q, cid = string.sub(ref, 1, at - 1), string.sub(ref, at + 1)
  local ok, e = pcall(cjson.decode, payload)
  local why = (ok and type(e) == 'table' and type(e.message) == 'string') and e.message or 'failed'
  local err = '{"name":"ChildFailedError","message":' ..
    cjson.encode('child ' .. q .. '/' .. cid .. ' failed: ' .. why) ..
    ',"child":{"queue":' .. cjson.encode(q) .. ',"id":' .. cjson.encode(cid) .. ',"error":' .. payload .. '}}'
  recordFailure(pid, S.nowText, S.nowText, 0, err) -- kept behind the parent's own failed attempts
  retain(K.failed, { pid }, S.now, keepAge, keepCount)
  -- Failed for good, as after its own last attempt: QueueEvents and waitUntilFinished hear it.
  emitEvent(eventCap(S.evlen), 'failed', { pid })
  -- The parent's own parent hears of it like of any failure.
  if S.flows then flowOutbox(S, { pid }, { 1 }, string.format('%d', redis.call('INCR', K.seq)), 'f', err) end
end

for i = 0, n - 1 do
  local a = 4 + i * 6
  local kids = KEYS[EXTRA + i]
  local pid, ref, token, kind, policy, payload = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local prev = redis.call('HGET', kids, ref)
  local pt, ps = nil, nil
  if prev then pt, ps = string.match(prev, '^(%d+)\30(%a)') end
  if redis.call('HEXISTS', K.jobs, pid) == 0 then
    -- The parent is gone (removed, or its record trimmed): nothing waits for this.
    redis.call('HDEL', K.fdeps, pid)
    redis.call('HDEL', K.fblocked, pid)
  elseif pt and tonumber(token) > tonumber(pt) then
    local st = kind
    if kind == 'f' then st = (policy == 'ignore' and 'i') or (policy == 'continue' and 'f') or 'x' end
    redis.call('HSET', kids, ref, token .. SEP .. st .. SEP .. payload)
    local where = K.fdeps
    local deps = redis.call('HGET', K.fdeps, pid)
    if not deps then
      where = K.fblocked
      deps = redis.call('HGET', K.fblocked, pid)
    end
    -- No entry: the parent was released already; the record above is all there is to do.
    if deps then
      local remaining, blocked = string.match(deps, '^(-?%d+),(%d+)$')
      remaining, blocked = tonumber(remaining), tonumber(blocked)
      if counted(ps) then remaining = remaining + 1 end
      if counted(st) then remaining = remaining - 1 end
      if ps == 'x' then blocked = blocked - 1 end
      if st == 'x' then blocked = blocked + 1 end
      local state = string.format('%d,%d', remaining, blocked)
      if blocked > 0 then
        if where == K.fdeps then
          redis.call('HDEL', K.fdeps, pid)
          failParent(pid, ref, payload)
          -- A failed parent may be cleaned away with its record: its children hash must not
          -- outlive it for good (a retried child's completion refreshes it on release).
          redis.call('PEXPIRE', kids, KIDS_TTL_MS)
        end
        redis.call('HSET', K.fblocked, pid, state)
      else
        local waiting = true
        if where == K.fblocked then
          redis.call('HDEL', K.fblocked, pid)
          -- Not in `failed` any more: it was retried by hand and ran or runs; leave it be.
          waiting = redis.call('ZREM', K.failed, pid) == 1
        end
        if waiting and remaining <= 0 then
          redis.call('HDEL', K.fdeps, pid)
          place(S, pid, redis.call('INCR', K.seq), false)
          redis.call('PEXPIRE', kids, KIDS_TTL_MS)
          released = released + 1
          wake = wake + 1
        elseif waiting then
          redis.call('HSET', K.fdeps, pid, state)
        end
      end
    end
  end
end
if wake > 0 then signal(wake) end
return released
