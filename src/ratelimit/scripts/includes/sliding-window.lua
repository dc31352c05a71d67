-- Exact sliding window for large limits (storage.ts): a sorted set with one member per unit of
-- cost allowed, scored by its time in µs. The window is (now - W, now]. Only allowed hits are
-- stored, so the set never holds more than `limit` members, and it expires W after its newest
-- hit.
local function slidingWindow(now, limit, windowUs, write)
  local since = string.format('%d', now - windowUs)
  local after = '(' .. since
  local stamp = string.format('%d', now)
  local member = stamp .. ':'
  local ttl = ceilMs(windowUs)
  -- The key in hand: checks in a row on one key (a hot key under batching) trim and count it
  -- once and set its expiry once (see sliding-window-packed.lua for why not a table).
  local held, used, added = nil, 0, false

  -- When the hit at rank `rank` (0 = oldest in the window) leaves it, in µs from now.
  local function leavesIn(key, rank)
    local hit = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', rank, 1)
    if hit[2] == nil then return 0 end
    return tonumber(hit[2]) + windowUs - now
  end

  local function flush()
    if added then
      redis.call('PEXPIRE', held, ttl)
      added = false
    end
  end

  local function check(key, cost)
    if key ~= held then
      flush()
      held = key
      if write then
        redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
        used = redis.call('ZCARD', key)
      else
        used = redis.call('ZCOUNT', key, after, '+inf')
      end
    end
    if used + cost > limit then
      -- Enough of the oldest hits must leave for `cost` to fit.
      return 0, limit - used, ceilMs(leavesIn(key, used - 1)), ceilMs(leavesIn(key, used + cost - limit - 1))
    end
    if not write then
      if used == 0 then return 1, limit, 0, 0 end
      return 1, limit - used, ceilMs(leavesIn(key, used - 1)), 0
    end
    -- Members are "now:rank": unique even if two scripts read the same TIME microsecond.
    if cost == 1 then
      redis.call('ZADD', key, stamp, member .. (used + 1))
    else
      local args = {}
      for j = 1, cost do
        args[#args + 1] = stamp
        args[#args + 1] = member .. (used + j)
        -- unpack() has a stack limit: add in chunks.
        if #args >= 2000 then
          redis.call('ZADD', key, unpack(args))
          args = {}
        end
      end
      if #args > 0 then redis.call('ZADD', key, unpack(args)) end
    end
    used = used + cost
    added = true
    return 1, limit - used, ttl, 0
  end

  return check, flush
end
