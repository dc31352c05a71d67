-- Approximate sliding window: the counts of the current and the previous fixed window, the
-- previous one weighted by the share of it still inside the sliding window:
--   estimate = prev * (W - elapsed) / W + cur
-- The value is "k:cur:prev" for window k; it expires when window k + 1 ends.
local function slidingApprox(now, limit, windowUs, write)
  local index = math.floor(now / windowUs)
  local startUs = index * windowUs
  local endUs = startUs + windowUs
  local head = string.format('%d:', index)
  local prevHead = string.format('%d:', index - 1)
  local headLen = #head
  local expireAt = string.format('%d', (endUs + windowUs) / 1000)
  local weight = (endUs - now) / windowUs
  return function(key, cost)
    local cur, prev = 0, 0
    local v = redis.call('GET', key)
    if v then
      local tag = string.sub(v, 1, headLen)
      if tag == head then
        local c, p = string.match(v, '^%d+:(%d+):(%d+)$')
        cur, prev = tonumber(c), tonumber(p)
      elseif tag == prevHead then
        prev = tonumber(string.match(v, '^%d+:(%d+):'))
      end
    end
    local estimate = prev * weight + cur
    if estimate + cost > limit then
      local wait
      if cur + cost <= limit then
        -- Later in this window the previous window's weight has shrunk enough.
        wait = endUs - (limit - cur - cost) * windowUs / prev - now
      else
        -- Only in the next window, once this window's count has shrunk enough as its "prev".
        local e = 0
        if cur > 0 then e = math.max(0, windowUs - (limit - cost) * windowUs / cur) end
        wait = endUs + e - now
      end
      local reset = endUs - now
      if cur > 0 then reset = reset + windowUs end
      return 0, math.max(0, math.floor(limit - estimate)), ceilMs(reset), ceilMs(wait)
    end
    if write then
      cur = cur + cost
      redis.call('SET', key, head .. cur .. ':' .. prev, 'PXAT', expireAt)
      estimate = estimate + cost
    end
    -- Nothing counts any more once both windows have slid out.
    local reset = 0
    if cur > 0 then
      reset = endUs + windowUs - now
    elseif prev > 0 then
      reset = endUs - now
    end
    return 1, math.max(0, math.floor(limit - estimate)), ceilMs(reset), 0
  end
end
