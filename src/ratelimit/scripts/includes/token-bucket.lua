-- Token bucket: holds up to `burst` tokens, refills `limit` tokens per window continuously,
-- a check takes `cost` tokens. The value is "tokens:lastUpdateUs"; a missing key is a full
-- bucket, so the key expires once the bucket would be full again.
local function tokenBucket(now, limit, windowUs, burst, write)
  local perTokenUs = windowUs / limit
  local stamp = string.format(':%d', now)
  return function(key, cost)
    local tokens = burst
    local v = redis.call('GET', key)
    if v then
      local t, at = string.match(v, '^([^:]+):(%d+)$')
      tokens = math.min(burst, tonumber(t) + math.max(0, now - tonumber(at)) / perTokenUs)
    end
    -- 1e-9 token of slack: float refill sums must not deny a check that is due exactly now.
    if tokens + 1e-9 < cost then
      local reset = ceilMs((burst - tokens) * perTokenUs)
      return 0, math.floor(tokens + 1e-9), reset, ceilMs((cost - tokens) * perTokenUs)
    end
    if write then
      tokens = math.max(0, tokens - cost)
      redis.call('SET', key, num(tokens) .. stamp, 'PX', ceilMs((burst - tokens) * perTokenUs) + 1)
    end
    return 1, math.floor(tokens + 1e-9), ceilMs((burst - tokens) * perTokenUs), 0
  end
end
