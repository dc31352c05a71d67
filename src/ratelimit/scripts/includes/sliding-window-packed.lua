-- Exact sliding window for small limits (storage.ts): the log of allowed units as one string
-- of packed doubles, 8 bytes per unit holding its time in µs, oldest first. The window is
-- (now - W, now]. A check costs one GET and, once per key per call, one SET that also drops
-- the units that left: two commands where a sorted set needs four. Checks on one key in the
-- same call work on the log in hand (each sees the previous one's effect) and share the GET
-- and the SET. Only allowed units are stored, so the log never holds more than `limit`.
local function slidingPacked(now, limit, windowUs, write)
  local since = now - windowUs
  local packedNow = struct.pack('<d', now)
  -- Key -> its log as this call last wrote it; written in `finish`. One table, no other
  -- bookkeeping: with distinct keys (the common case) this costs one lookup per check.
  local logs = {}

  local function at(log, i)
    return (struct.unpack('<d', log, i * 8 - 7))
  end

  local function check(key, cost)
    local log = logs[key] or redis.call('GET', key) or ''
    local n = #log / 8
    -- First unit inside the window: gallop from the oldest (most checks find 0-2 that left),
    -- then bisect.
    local lo, hi = 1, 1
    while hi <= n and at(log, hi) <= since do
      lo = hi + 1
      hi = hi * 2
    end
    if hi > n + 1 then hi = n + 1 end
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if at(log, mid) > since then hi = mid else lo = mid + 1 end
    end
    local used = n - lo + 1
    if used + cost > limit then
      -- Enough of the oldest units must leave for `cost` to fit.
      local first = at(log, lo + used + cost - limit - 1)
      return 0, limit - used, ceilMs(at(log, n) + windowUs - now), ceilMs(first + windowUs - now)
    end
    if not write then
      if used == 0 then return 1, limit, 0, 0 end
      return 1, limit - used, ceilMs(at(log, n) + windowUs - now), 0
    end
    -- Keep the log in time order even if the Redis clock stepped back (a failover to a server
    -- whose clock is behind): a unit is never stamped before the newest one, which can only
    -- keep it in the window longer.
    local packed, stamp = packedNow, now
    if n > 0 then
      local newest = at(log, n)
      if newest > now then packed, stamp = struct.pack('<d', newest), newest end
    end
    if lo > 1 then log = string.sub(log, lo * 8 - 7) end
    if cost == 1 then log = log .. packed else log = log .. string.rep(packed, cost) end
    logs[key] = log
    return 1, limit - used - cost, ceilMs(stamp + windowUs - now), 0
  end

  -- Each log lives until its newest unit has left the window.
  local function finish()
    for key, log in pairs(logs) do
      redis.call('SET', key, log, 'PX', ceilMs(at(log, #log / 8) + windowUs - now))
    end
  end

  return check, finish
end
