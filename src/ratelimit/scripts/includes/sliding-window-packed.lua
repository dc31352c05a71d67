-- Exact sliding window for small limits (storage.ts): the log of allowed units as one string
-- of packed doubles, 8 bytes per unit holding its time in µs, oldest first. The window is
-- (now - W, now]. A check costs one GET and one SET that also drops the units that left: two
-- commands where a sorted set needs four. Only allowed units are stored, so the log never
-- holds more than `limit`.
local function slidingPacked(now, limit, windowUs, write)
  local since = now - windowUs
  local packedNow = struct.pack('<d', now)
  -- The log in hand: checks in a row on one key (a hot key under batching) share one GET and
  -- one SET. A table of every key would also catch keys that recur out of turn, but it cost
  -- ~0.9 µs per check with distinct keys (measured), the common case.
  local held, log, dirty, newest = nil, '', false, 0

  local function at(i)
    return (struct.unpack('<d', log, i * 8 - 7))
  end

  -- Writes the log in hand back; it lives until its newest unit has left the window.
  local function flush()
    if dirty then
      redis.call('SET', held, log, 'PX', ceilMs(newest + windowUs - now))
      dirty = false
    end
  end

  local function check(key, cost)
    if key ~= held then
      flush()
      held = key
      log = redis.call('GET', key) or ''
    end
    local n = #log / 8
    -- First unit inside the window: gallop from the oldest (most checks find 0-2 that left),
    -- then bisect.
    local lo, hi = 1, 1
    while hi <= n and at(hi) <= since do
      lo = hi + 1
      hi = hi * 2
    end
    if hi > n + 1 then hi = n + 1 end
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if at(mid) > since then hi = mid else lo = mid + 1 end
    end
    local used = n - lo + 1
    if used + cost > limit then
      -- Enough of the oldest units must leave for `cost` to fit.
      local first = at(lo + used + cost - limit - 1)
      return 0, limit - used, ceilMs(at(n) + windowUs - now), ceilMs(first + windowUs - now)
    end
    if not write then
      if used == 0 then return 1, limit, 0, 0 end
      return 1, limit - used, ceilMs(at(n) + windowUs - now), 0
    end
    -- Keep the log in time order even if the Redis clock stepped back (a failover to a server
    -- whose clock is behind): a unit is never stamped before the newest one, which can only
    -- keep it in the window longer.
    local packed = packedNow
    newest = now
    if n > 0 then
      local last = at(n)
      if last > now then packed, newest = struct.pack('<d', last), last end
    end
    if lo > 1 then log = string.sub(log, lo * 8 - 7) end
    if cost == 1 then log = log .. packed else log = log .. string.rep(packed, cost) end
    dirty = true
    return 1, limit - used - cost, ceilMs(newest + windowUs - now), 0
  end

  return check, flush
end
