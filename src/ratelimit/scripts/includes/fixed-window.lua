-- Fixed window: windows [k*W, (k+1)*W) on the Redis clock. The value is "k:used"; the key
-- expires at the window's end, and k is kept too because a script's view of expiry is frozen
-- at its start while TIME moves on: a stale count is recognised by its window number.
local function fixedWindow(now, limit, windowUs, write)
  local index = math.floor(now / windowUs)
  local endUs = (index + 1) * windowUs
  local head = string.format('%d:', index)
  local headLen = #head
  local expireAt = string.format('%d', endUs / 1000)
  local reset = ceilMs(endUs - now)
  return function(key, cost)
    local used = 0
    local v = redis.call('GET', key)
    if v and string.sub(v, 1, headLen) == head then used = tonumber(string.sub(v, headLen + 1)) end
    if used + cost > limit then return 0, limit - used, reset, reset end
    if write then
      used = used + cost
      redis.call('SET', key, head .. used, 'PXAT', expireAt)
    end
    -- Nothing counted: already full, nothing to wait for.
    if used == 0 then return 1, limit, 0, 0 end
    return 1, limit - used, reset, 0
  end
end
