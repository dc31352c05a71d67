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
local function wakeGroup(S, g)
  local c = redis.call('HMGET', K.gcount, 'w:' .. g, 'a:' .. g, 'p:' .. g, 'r:' .. g)
  if not c[1] or c[3] or c[4] then return 0 end
  local conc = groupLimits(S, g)
  if conc > 0 and tonumber(c[2] or '0') >= conc then return 0 end
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
-- Batched over the groups (one HMGET, one HSET or HDEL, one ZADD for all), since
-- each redis.call costs more than the work it does. Returns how many groups became ready.
local function groupLeave(S, ids)
  if not S.groups or #ids == 0 then return 0 end
  local leaving, order = {}, {}
  for _, m in ipairs(redis.call('HMGET', K.gjob, unpack(ids))) do
    if m then
      local g = memberGroup(m)
      if not leaving[g] then
        leaving[g] = 0
        order[#order + 1] = g
      end
      leaving[g] = leaving[g] + 1
    end
  end
  if #order == 0 then return 0 end
  -- Paused and parked flags are read only if some group was ever paused, or rate-limited.
  local flags = (S.groupPauses and 1 or 0) + ((S.grmax > 0 or S.overrides) and 1 or 0) > 0
  local per = flags and 4 or 2
  local fields = {}
  for _, g in ipairs(order) do
    local n = #fields
    fields[n + 1], fields[n + 2] = 'w:' .. g, 'a:' .. g
    if flags then fields[n + 3], fields[n + 4] = 'p:' .. g, 'r:' .. g end
  end
  local c = redis.call('HMGET', K.gcount, unpack(fields))
  local set, del, ready = {}, {}, {}
  for i, g in ipairs(order) do
    local at = (i - 1) * per
    local active = tonumber(c[at + 2] or '0') - leaving[g]
    if active <= 0 then
      active = 0
      del[#del + 1] = fields[at + 2]
    else
      set[#set + 1] = fields[at + 2]
      set[#set + 1] = active
    end
    if c[at + 1] and not (flags and (c[at + 3] or c[at + 4])) then
      local conc = groupLimits(S, g)
      if conc == 0 or active < conc then
        ready[#ready + 1] = S.now
        ready[#ready + 1] = g
      end
    end
  end
  if #del > 0 then redis.call('HDEL', K.gcount, unpack(del)) end
  if #set > 0 then redis.call('HSET', K.gcount, unpack(set)) end
  if #ready == 0 then return 0 end
  return redis.call('ZADD', K.gready, 'NX', unpack(ready))
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
-- come are woken first. Per job only the head lookup (ZRANGEBYLEX) is its own
-- call; counts, removals and turns are written once per round.
local function groupTake(S, want, now)
  local due = redis.call('ZRANGEBYSCORE', K.gparked, '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('ZREM', K.gparked, unpack(due))
    for _, g in ipairs(due) do
      redis.call('HDEL', K.gcount, 'r:' .. g)
      wakeGroup(S, g)
    end
  end
  local rated = S.grmax > 0 or S.overrides
  local ids = {}
  while #ids < want do
    local popped = redis.call('ZPOPMIN', K.gready, want - #ids)
    if #popped == 0 then break end
    local groups, fields = {}, {}
    for i = 1, #popped, 2 do
      local g = popped[i]
      groups[#groups + 1] = g
      fields[#fields + 1] = 'w:' .. g
      fields[#fields + 1] = 'a:' .. g
    end
    local counts = redis.call('HMGET', K.gcount, unpack(fields))
    local logs = rated and redis.call('HMGET', K.grate, unpack(groups)) or {}
    local heads, set, del, again, newLogs = {}, {}, {}, {}, {}
    for i, g in ipairs(groups) do
      local conc, rmax, rdur = groupLimits(S, g)
      local entries, started, freeAt = nil, 0, 0
      if rmax > 0 then
        entries, started = rateWindow(logs[i], now, rdur)
        if started >= rmax then freeAt = rateFreeAt(entries, started, rmax, rdur) end
      end
      local head = freeAt == 0 and redis.call('ZRANGEBYLEX', K.gwait, '[' .. g .. '\0', '(' .. g .. '\1', 'LIMIT', 0, 1)[1]
      if head then
        heads[#heads + 1] = head
        ids[#ids + 1] = string.sub(head, #g + 23)
        local waiting = tonumber(counts[i * 2 - 1] or '1') - 1
        local active = tonumber(counts[i * 2] or '0') + 1
        if waiting > 0 then
          set[#set + 1] = fields[i * 2 - 1]
          set[#set + 1] = waiting
        else
          del[#del + 1] = fields[i * 2 - 1]
        end
        set[#set + 1] = fields[i * 2]
        set[#set + 1] = active
        if rmax > 0 then
          newLogs[#newLogs + 1] = g
          newLogs[#newLogs + 1] = rateRecord(entries, now, 1)
          entries[#entries + 1] = { now, 1 }
          if started + 1 >= rmax then freeAt = rateFreeAt(entries, started + 1, rmax, rdur) end
        end
        if waiting > 0 and (conc == 0 or active < conc) then
          if freeAt > 0 then park(g, freeAt) else
            again[#again + 1] = now
            again[#again + 1] = g
          end
        end
      elseif freeAt > 0 then
        park(g, freeAt)
      else
        del[#del + 1] = fields[i * 2 - 1] -- counted as waiting, yet nothing was: heal the count
      end
    end
    if #heads > 0 then redis.call('ZREM', K.gwait, unpack(heads)) end
    if #set > 0 then redis.call('HSET', K.gcount, unpack(set)) end
    if #del > 0 then redis.call('HDEL', K.gcount, unpack(del)) end
    if #newLogs > 0 then redis.call('HSET', K.grate, unpack(newLogs)) end
    if #again > 0 then redis.call('ZADD', K.gready, unpack(again)) end
  end
  return ids
end
