-- Groups (tenants, users, wallets). A grouped job at priority 0 waits in its
-- group's line: a linked list in hashes, K.gcount `h:` its first and `t:` its last
-- id, K.gnext id -> the id after it ('' after the last). So fetch finds the heads
-- of a hundred groups with one HMGET, where a sorted-set range costs a call per
-- group. Grouped jobs with a priority wait in K.gwait instead (one sorted set for
-- every group, all scores 0, members `group \0 rank seq \0 id`: each group's one
-- lexicographic range in run order, rank = 1000 - priority, seq 0 for a job a
-- worker gave back) and run before their group's line; fetch looks there only
-- once the meta flag `gprio` says some grouped job ever had a priority.
-- K.gjob tells any grouped job's group. K.gready holds the groups that may start
-- a job now, scored by turn: fetch serves the lowest turn and gives the group the
-- next highest, so groups take turns (round-robin) and one busy group cannot
-- starve the others. A group is out of K.gready while nothing of it waits, it is
-- paused, it is at its concurrency limit, or its rate limit parked it (K.gparked:
-- group -> when it may start again); wakeGroup() checks all four wherever one of
-- them may have changed. K.gcount keeps what wakeGroup needs in one hash, read
-- with one HMGET: `w:` waiting, `a:` active, `p:` paused, `r:` parked. Turns are
-- Redis-clock milliseconds: groups served in the same millisecond tie, which
-- costs fairness nothing and saves a counter per turn.
-- Needs: keys, rate, enqueue.
local MAX_RANK = 1000

local function groupMember(g, id, priority, seq)
  return g .. '\0' .. string.format('%04d%016d', MAX_RANK - priority, seq) .. '\0' .. id
end

local function memberGroup(m)
  return string.sub(m, 1, string.find(m, '\0', 1, true) - 1)
end

local function memberId(g, m)
  return string.sub(m, #g + 23)
end

-- The head of g's prioritized jobs in K.gwait, or false.
local function prioritizedHead(g)
  return redis.call('ZRANGEBYLEX', K.gwait, '[' .. g .. '\0', '(' .. g .. '\1', 'LIMIT', 0, 1)[1] or false
end

-- Puts id at the end of g's line, or at its front (a job given back by a worker).
local function lineAdd(g, id, front)
  local h, t = 'h:' .. g, 't:' .. g
  local ends = redis.call('HMGET', K.gcount, h, t)
  if not ends[1] then
    redis.call('HSET', K.gcount, h, id, t, id)
    redis.call('HSET', K.gnext, id, '')
  elseif front then
    redis.call('HSET', K.gnext, id, ends[1])
    redis.call('HSET', K.gcount, h, id)
  else
    redis.call('HSET', K.gnext, ends[2], id, id, '')
    redis.call('HSET', K.gcount, t, id)
  end
end

-- Takes id out of g's line wherever it is: walks the line to it (removal is an
-- admin action, like LREM on the ungrouped list). Returns false if it is not there.
local function lineRemove(g, id)
  local after = redis.call('HGET', K.gnext, id)
  if not after then return false end
  local h, t = 'h:' .. g, 't:' .. g
  local prev = redis.call('HGET', K.gcount, h)
  if prev == id then
    if after == '' then redis.call('HDEL', K.gcount, h, t) else redis.call('HSET', K.gcount, h, after) end
  else
    while prev do
      local n = redis.call('HGET', K.gnext, prev)
      if n == id then break end
      prev = n ~= '' and n
    end
    if not prev then return false end
    redis.call('HSET', K.gnext, prev, after)
    if after == '' then redis.call('HSET', K.gcount, t, prev) end
  end
  redis.call('HDEL', K.gnext, id)
  return true
end

-- Takes up to n ids from the front of g's line (drain).
local function linePop(g, n)
  local h, t = 'h:' .. g, 't:' .. g
  local ids, at = {}, redis.call('HGET', K.gcount, h)
  while at and at ~= '' and #ids < n do
    ids[#ids + 1] = at
    at = redis.call('HGET', K.gnext, at)
  end
  if #ids == 0 then return ids end
  redis.call('HDEL', K.gnext, unpack(ids))
  if at and at ~= '' then redis.call('HSET', K.gcount, h, at) else redis.call('HDEL', K.gcount, h, t) end
  return ids
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
  return redis.call('ZADD', K.gready, 'NX', S.nowText, g)
end

local function park(g, untilMs)
  redis.call('ZADD', K.gparked, untilMs, g)
  redis.call('HSET', K.gcount, 'r:' .. g, '1')
end

-- A grouped job starts waiting (seq 0: a job given back, first in its group).
-- Returns 1 when its group became ready.
local function groupJoin(S, g, id, priority, seq)
  redis.call('HSET', K.gjob, id, g)
  if priority > 0 then
    if not S.groupPriorities then
      redis.call('HSET', K.meta, 'gprio', '1') -- from now on fetch looks in gwait
      S.groupPriorities = true
    end
    redis.call('ZADD', K.gwait, 0, groupMember(g, id, priority, seq))
  else
    lineAdd(g, id, seq == 0)
  end
  if redis.call('HINCRBY', K.gcount, 'w:' .. g, 1) == 1 then return wakeGroup(S, g) end
  return 0
end

-- `n` waiting jobs of g left the line without running (removed, drained).
local function groupDropped(g, n)
  if n == 0 then return end
  if redis.call('HINCRBY', K.gcount, 'w:' .. g, -n) <= 0 then
    redis.call('HDEL', K.gcount, 'w:' .. g)
    redis.call('ZREM', K.gready, g)
  end
end

-- Takes a waiting grouped job out of its group's line (remove). Does nothing
-- when it is not waiting (delayed, active or finished).
local function groupDrop(g, id)
  local dropped = lineRemove(g, id)
  if not dropped then
    -- A prioritized job: its member holds a seq nobody keeps, so look in the group's range.
    for _, m in ipairs(redis.call('ZRANGEBYLEX', K.gwait, '[' .. g .. '\0', '(' .. g .. '\1')) do
      if memberId(g, m) == id then
        dropped = redis.call('ZREM', K.gwait, m) == 1
        break
      end
    end
  end
  if dropped then groupDropped(g, 1) end
end

-- Grouped jobs among `ids` stopped running: their groups have a free slot.
-- Batched over the groups (one HMGET, one HSET or HDEL, one ZADD for all), since
-- each redis.call costs more than the work it does. Returns how many groups became ready.
local function groupLeave(S, ids)
  if not S.groups or #ids == 0 then return 0 end
  local leaving, order = {}, {}
  for _, g in ipairs(redis.call('HMGET', K.gjob, unpack(ids))) do
    if g then
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
        ready[#ready + 1] = S.nowText
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
    local g = redis.call('HGET', K.gjob, id)
    if g then
      if front then seq = 0 end
      return groupJoin(S, g, id, priority, seq)
    end
  end
  enqueue(id, priority, seq, front)
  return 0
end

-- Takes up to `want` grouped jobs, one per ready group per turn, counting each
-- against its group's concurrency and rate limits. Parked groups whose time has
-- come are woken first. Per round, heads, counts, removals and turns are each one
-- call for all groups; only prioritized jobs (once any exist) cost a call per group.
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
    -- ZRANGE and ZREMRANGEBYRANK rather than ZPOPMIN, whose scores would be formatted for nothing.
    local groups = redis.call('ZRANGE', K.gready, 0, want - #ids - 1)
    if #groups == 0 then break end
    redis.call('ZREMRANGEBYRANK', K.gready, 0, #groups - 1)
    local fields = {}
    for _, g in ipairs(groups) do
      fields[#fields + 1] = 'w:' .. g
      fields[#fields + 1] = 'a:' .. g
      fields[#fields + 1] = 'h:' .. g
    end
    local counts = redis.call('HMGET', K.gcount, unpack(fields))
    local logs = rated and redis.call('HMGET', K.grate, unpack(groups)) or {}
    -- lineAt: the index in `groups` of each group served from its line (fromLine holds the ids)
    local members, fromLine, lineAt, set, del, again, newLogs = {}, {}, {}, {}, {}, {}, {}
    for i, g in ipairs(groups) do
      local f = i * 3 - 2 -- fields f, f + 1, f + 2: waiting, active, line head
      local conc, rmax, rdur = groupLimits(S, g)
      local entries, started, freeAt = nil, 0, 0
      if rmax > 0 then
        entries, started = rateWindow(logs[i], now, rdur)
        if started >= rmax then freeAt = rateFreeAt(entries, started, rmax, rdur) end
      end
      local id = false
      if freeAt == 0 then
        local m = S.groupPriorities and prioritizedHead(g)
        if m then
          members[#members + 1] = m
          id = memberId(g, m)
        elseif counts[f + 2] then
          id = counts[f + 2]
          fromLine[#fromLine + 1] = id
          lineAt[#lineAt + 1] = i
        end
      end
      if id then
        ids[#ids + 1] = id
        local waiting = tonumber(counts[f] or '1') - 1
        local active = tonumber(counts[f + 1] or '0') + 1
        if waiting > 0 then
          set[#set + 1] = fields[f]
          set[#set + 1] = waiting
        else
          del[#del + 1] = fields[f]
        end
        set[#set + 1] = fields[f + 1]
        set[#set + 1] = active
        if rmax > 0 then
          newLogs[#newLogs + 1] = g
          newLogs[#newLogs + 1] = rateRecord(entries, now, 1)
          entries[#entries + 1] = { now, 1 }
          if started + 1 >= rmax then freeAt = rateFreeAt(entries, started + 1, rmax, rdur) end
        end
        if waiting > 0 and (conc == 0 or active < conc) then
          if freeAt > 0 then park(g, freeAt) else
            again[#again + 1] = S.nowText
            again[#again + 1] = g
          end
        end
      elseif freeAt > 0 then
        park(g, freeAt)
      else
        del[#del + 1] = fields[f] -- counted as waiting, yet nothing was: heal the count
      end
    end
    if #fromLine > 0 then
      -- The taken line heads' successors become the heads; an emptied line loses its ends.
      local after = redis.call('HMGET', K.gnext, unpack(fromLine))
      for k, i in ipairs(lineAt) do
        local head = fields[i * 3]
        if after[k] and after[k] ~= '' then
          set[#set + 1] = head
          set[#set + 1] = after[k]
        else
          del[#del + 1] = head
          del[#del + 1] = 't:' .. groups[i]
        end
      end
      redis.call('HDEL', K.gnext, unpack(fromLine))
    end
    if #members > 0 then redis.call('ZREM', K.gwait, unpack(members)) end
    if #set > 0 then redis.call('HSET', K.gcount, unpack(set)) end
    if #del > 0 then redis.call('HDEL', K.gcount, unpack(del)) end
    if #newLogs > 0 then redis.call('HSET', K.grate, unpack(newLogs)) end
    if #again > 0 then redis.call('ZADD', K.gready, unpack(again)) end
  end
  return ids
end
