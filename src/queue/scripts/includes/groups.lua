-- Groups (tenants, users, wallets). A grouped job waits in K.gwait: one sorted
-- set for every group, all scores 0, members `group \0 rank seq \0 id`, so each
-- group's jobs are one lexicographic range in run order (rank = 1000 - priority;
-- seq 0 puts a job given back by a worker first). K.gready holds the groups that
-- may start a job now, scored by turn: fetch serves the lowest turn and gives the
-- group the next highest, so groups take turns (round-robin) and one busy group
-- cannot starve the others. A group is out of K.gready while nothing of it waits,
-- it is paused, it is at its concurrency limit, or its rate limit parked it
-- (K.gparked: group -> when it may start again); wakeGroup() checks all four
-- wherever one of them may have changed. K.gcount keeps what wakeGroup needs in
-- one hash, read with one HMGET: `w:` waiting, `a:` active, `p:` paused, `r:`
-- parked. Turns are Redis-clock milliseconds: groups served in the same
-- millisecond tie, which costs fairness nothing and saves a counter per turn.
-- Needs: keys, rate, enqueue.
local MAX_RANK = 1000

local function groupMember(g, id, priority, seq)
  return g .. '\0' .. string.format('%04d%016d', MAX_RANK - priority, seq) .. '\0' .. id
end

local function memberGroup(m)
  return string.sub(m, 1, string.find(m, '\0', 1, true) - 1)
end

-- A group's concurrency, rate max and rate duration: its own where set, else the queue's.
local function groupLimits(S, g)
  local c, m, d = S.gconc, S.grmax, S.grdur
  if S.overrides then
    local own = redis.call('HGET', K.gconf, 'limit:' .. g)
    if own then
      local oc, om, od = string.match(own, '^(%d*),(%d*),(%d*)$')
      c, m, d = tonumber(oc) or c, tonumber(om) or m, tonumber(od) or d
    end
  end
  return c, m, d
end

-- Puts g in K.gready if it may start a job now. Returns 1 when it was added.
-- `leaving`: one of its jobs just stopped running (its active count drops here,
-- in the same read, which saves a call per job on the settle path).
local function wakeGroup(S, g, leaving)
  local c = redis.call('HMGET', K.gcount, 'w:' .. g, 'a:' .. g, 'p:' .. g, 'r:' .. g)
  local active = tonumber(c[2] or '0')
  if leaving then
    active = active - 1
    if active <= 0 then redis.call('HDEL', K.gcount, 'a:' .. g) else redis.call('HINCRBY', K.gcount, 'a:' .. g, -1) end
  end
  if not c[1] or c[3] or c[4] then return 0 end
  local conc = groupLimits(S, g)
  if conc > 0 and active >= conc then return 0 end
  return redis.call('ZADD', K.gready, 'NX', S.now, g)
end

local function park(g, untilMs)
  redis.call('ZADD', K.gparked, untilMs, g)
  redis.call('HSET', K.gcount, 'r:' .. g, '1')
end

-- A grouped job starts waiting. Returns 1 when its group became ready.
local function groupJoin(S, g, id, priority, seq)
  local m = groupMember(g, id, priority, seq)
  redis.call('ZADD', K.gwait, 0, m)
  redis.call('HSET', K.gjob, id, m)
  if redis.call('HINCRBY', K.gcount, 'w:' .. g, 1) == 1 then return wakeGroup(S, g) end
  return 0
end

-- A waiting grouped job leaves the line without running (removed, drained).
local function groupDrop(m)
  if redis.call('ZREM', K.gwait, m) == 0 then return end
  local g = memberGroup(m)
  if redis.call('HINCRBY', K.gcount, 'w:' .. g, -1) <= 0 then
    redis.call('HDEL', K.gcount, 'w:' .. g)
    redis.call('ZREM', K.gready, g)
  end
end

-- Grouped jobs among `ids` stopped running: their groups have a free slot.
-- Returns how many groups became ready.
local function groupLeave(S, ids)
  if not S.groups or #ids == 0 then return 0 end
  local members = redis.call('HMGET', K.gjob, unpack(ids))
  local woken = 0
  for _, m in ipairs(members) do
    if m then woken = woken + wakeGroup(S, memberGroup(m), true) end
  end
  return woken
end

-- Puts a job (back) in line: a retry, a delayed job that is due, a job a worker
-- gave back. Grouped jobs go to their group. `front`: ahead of its peers.
local function place(S, id, seq, front)
  local priority = tonumber(redis.call('HGET', K.pri, id) or '0')
  if S.groups then
    local m = redis.call('HGET', K.gjob, id)
    if m then
      if front then seq = 0 end
      return groupJoin(S, memberGroup(m), id, priority, seq)
    end
  end
  enqueue(id, priority, seq, front)
  return 0
end

-- Takes up to `want` grouped jobs, one per ready group per turn, counting each
-- against its group's concurrency and rate limits. Parked groups whose time has
-- come are woken first.
local function groupTake(S, want, now)
  local due = redis.call('ZRANGEBYSCORE', K.gparked, '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('ZREM', K.gparked, unpack(due))
    for _, g in ipairs(due) do
      redis.call('HDEL', K.gcount, 'r:' .. g)
      wakeGroup(S, g)
    end
  end
  local ids = {}
  while #ids < want do
    local popped = redis.call('ZPOPMIN', K.gready, want - #ids)
    if #popped == 0 then break end
    local again = {}
    for i = 1, #popped, 2 do
      local g = popped[i]
      local conc, rmax, rdur = groupLimits(S, g)
      local entries, started, freeAt = nil, 0, 0
      if rmax > 0 then
        entries, started = rateWindow(redis.call('HGET', K.grate, g), now, rdur)
        if started >= rmax then freeAt = rateFreeAt(entries, started, rmax, rdur) end
      end
      local head = freeAt == 0 and redis.call('ZRANGEBYLEX', K.gwait, '[' .. g .. '\0', '(' .. g .. '\1', 'LIMIT', 0, 1)[1]
      if head then
        redis.call('ZREM', K.gwait, head)
        ids[#ids + 1] = string.sub(head, #g + 23)
        local waiting = redis.call('HINCRBY', K.gcount, 'w:' .. g, -1)
        if waiting <= 0 then redis.call('HDEL', K.gcount, 'w:' .. g) end
        local active = redis.call('HINCRBY', K.gcount, 'a:' .. g, 1)
        if rmax > 0 then
          redis.call('HSET', K.grate, g, rateRecord(entries, now, 1))
          entries[#entries + 1] = { now, 1 }
          if started + 1 >= rmax then freeAt = rateFreeAt(entries, started + 1, rmax, rdur) end
        end
        if waiting > 0 and (conc == 0 or active < conc) then
          if freeAt > 0 then park(g, freeAt) else again[#again + 1] = g end
        end
      elseif freeAt > 0 then
        park(g, freeAt)
      else
        redis.call('HDEL', K.gcount, 'w:' .. g) -- counted as waiting, yet nothing was: heal the count
      end
    end
    if #again > 0 then
      local scored = {}
      for j, g in ipairs(again) do
        scored[j * 2 - 1] = now
        scored[j * 2] = g
      end
      redis.call('ZADD', K.gready, unpack(scored))
    end
  end
  return ids
end
