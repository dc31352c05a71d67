-- Exact sliding window: a sorted set with one member per unit of cost allowed, scored by its
-- time in µs. The window is (now - W, now]. Only allowed hits are stored, so the set never
-- holds more than `limit` members, and it expires W after its newest hit.
local function slidingWindow(now, limit, windowUs, write)
  local since = string.format('%d', now - windowUs)
  local after = '(' .. since
  local stamp = string.format('%d', now)
  local member = stamp .. ':'
  local ttl = ceilMs(windowUs)

  -- When the hit at rank `rank` (0 = oldest in the window) leaves it, in µs from now.
  local function leavesIn(key, rank)
    local hit = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', rank, 1)
    if hit[2] == nil then return 0 end
    return tonumber(hit[2]) + windowUs - now
  end

  return function(key, cost)
    local used
    if write then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
      used = redis.call('ZCARD', key)
    else
      used = redis.call('ZCOUNT', key, after, '+inf')
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
    redis.call('PEXPIRE', key, ttl)
    return 1, limit - used - cost, ttl, 0
  end
end
