-- Exact sliding window for small limits (storage.ts): one string per key, a 16-byte header
-- (the key's expiry in ms and a base time in µs, packed doubles) then the log of allowed
-- units, oldest first, each its time as µs after the base (4-byte unsigned, LE). The window
-- is (now - W, now]. Why this shape (measured in docs/ratelimit.md): reading and rewriting a
-- string in Lua costs about a microsecond per kilobyte (Redis's Lua hashes every byte of each
-- new string), so the log is kept short (4 bytes a unit) and is appended to, not rewritten:
-- - a check of cost c passes iff the (limit - c + 1)-th newest unit has left the window, one
--   lookup from the log's end;
-- - an allowed unit is APPENDed; the log is rewritten (units that left dropped, expiry moved
--   to newest + 2W) only when the expiry would fall short of newest + W, when more than
--   `slack` units that left have piled up, or when the offset outgrows 4 bytes (71.6 minutes
--   after the base; then the base moves to the oldest unit kept, so every unit kept must lie
--   within 71.6 minutes of it: storage.ts keeps windows over an hour off this layout). A busy
--   key is rewritten about once per window.
-- The price: a key lives up to 2W after its newest unit.
local function slidingPacked(now, limit, windowUs, write)
  local since = now - windowUs
  local slack = math.max(8, math.floor(limit / 4))
  -- The key in hand: checks in a row on one key (a hot key under batching) share one GET and
  -- one write. `log` is the value in hand, its first `stored` bytes as in Redis unless
  -- `rewrite`; `tail` holds units added since the last check, joined to `log` only if the
  -- next check is on the same key.
  local held, log, tail, stored, rewrite = nil, '', '', 0, false
  local n, expiresAt, base = 0, 0, 0

  local function at(i)
    return base + (struct.unpack('<I4', log, 13 + i * 4))
  end

  -- The first unit from `i` on still in the window (n + 1 if none): gallop, then bisect.
  local function firstInWindow(i)
    local lo, hi, step = i, i, 1
    while hi <= n and at(hi) <= since do
      lo = hi + 1
      hi = hi + step
      step = step * 2
    end
    if hi > n + 1 then hi = n + 1 end
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if at(mid) > since then hi = mid else lo = mid + 1 end
    end
    return lo
  end

  local function flush()
    if rewrite then
      redis.call('SET', held, log .. tail, 'PXAT', string.format('%d', expiresAt))
    else
      local add = tail
      if #log > stored then add = string.sub(log, stored + 1) .. tail end
      if add ~= '' then redis.call('APPEND', held, add) end
    end
    tail, rewrite = '', false
  end

  local function units(offset, cost)
    local packed = struct.pack('<I4', offset)
    if cost == 1 then return packed end
    return string.rep(packed, cost)
  end

  local function check(key, cost)
    if key ~= held then
      if held then flush() end
      held = key
      log = redis.call('GET', key) or ''
      stored, expiresAt = #log, 0
      if stored >= 16 then expiresAt, base = struct.unpack('<d<d', log) end
    elseif tail ~= '' then
      log = log .. tail
      tail = ''
    end
    n = math.max(0, (#log - 16) / 4)
    local pivot = n - limit + cost
    if pivot >= 1 and at(pivot) > since then
      -- Denied: at least limit - cost + 1 units are in the window, so none remain for cost 1.
      local remaining = 0
      if cost > 1 then remaining = math.max(0, limit - (n - firstInWindow(math.max(1, n - limit + 1)) + 1)) end
      return 0, remaining, ceilMs(at(n) + windowUs - now), ceilMs(at(pivot) + windowUs - now)
    end
    local lo = firstInWindow(math.max(1, pivot + 1))
    local used = n - lo + 1
    if not write then
      if used == 0 then return 1, limit, 0, 0 end
      return 1, limit - used, ceilMs(at(n) + windowUs - now), 0
    end
    -- Keep the log in time order even if the Redis clock stepped back (a failover to a server
    -- whose clock is behind): a unit is never stamped before the newest one, which can only
    -- keep it in the window longer.
    local newest = now
    if n > 0 then newest = math.max(now, at(n)) end
    local offset = newest - base
    if n + cost <= limit + slack and expiresAt * 1000 >= newest + windowUs and offset < 4294967296 then
      tail = tail .. units(offset, cost)
    else
      local kept = ''
      if used == 0 then
        base = newest
      elseif offset < 4294967296 then
        kept = string.sub(log, 13 + lo * 4)
      else
        local parts, oldest = {}, at(lo)
        for i = lo, n do parts[#parts + 1] = struct.pack('<I4', at(i) - oldest) end
        base, kept = oldest, table.concat(parts)
      end
      expiresAt = math.ceil((newest + 2 * windowUs) / 1000)
      log = struct.pack('<d<d', expiresAt, base) .. kept .. units(newest - base, cost)
      rewrite = true
    end
    return 1, limit - used - cost, ceilMs(newest + windowUs - now), 0
  end

  return check, function()
    if held then flush() end
  end
end
