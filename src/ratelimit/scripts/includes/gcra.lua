-- GCRA: one value per key, the theoretical arrival time (TAT, whole µs). Each unit of cost
-- moves it T = W / limit later; a check is allowed while the TAT it would set is at most
-- burst * T ahead of now. A TAT in the past counts as now, so the key expires at the TAT.
-- The TAT is rounded up to a whole µs per check (formatting a float costs twice as much);
-- the comparison allows `burst` µs of slack for that, a 10^-6 effect.
local function gcra(now, limit, windowUs, burst, write)
  local period = windowUs / limit
  local capacity = burst * period
  return function(key, cost)
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    local nextTat = math.ceil(tat + cost * period)
    -- Each check held in the burst may have added < 1 µs of rounding: that much slack.
    if nextTat - now > capacity + burst then
      local remaining = math.max(0, math.floor((capacity + burst - (tat - now)) / period))
      return 0, remaining, ceilMs(tat - now), ceilMs(nextTat - now - capacity)
    end
    if write then
      tat = nextTat
      redis.call('SET', key, string.format('%d', tat), 'PX', ceilMs(tat - now) + 1)
    end
    return 1, math.max(0, math.floor((capacity + burst - (tat - now)) / period)), ceilMs(tat - now), 0
  end
end
