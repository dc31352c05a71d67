-- Keeps finished jobs in `setKey` until `now + keepAge` (keepAge 0: no age limit)
-- and trims the set to `keepCount` (-1: no count limit), soonest expiry first.
local FOREVER = 1e15
local function retain(setKey, ids, now, keepAge, keepCount)
  local expires = FOREVER + now
  if keepAge > 0 then expires = now + keepAge end
  local scored = {}
  for i, id in ipairs(ids) do
    scored[i * 2 - 1] = expires
    scored[i * 2] = id
  end
  redis.call('ZADD', setKey, unpack(scored))
  if keepCount >= 0 then
    local excess = redis.call('ZCARD', setKey) - keepCount
    if excess > 0 then
      forget(redis.call('ZRANGE', setKey, 0, excess - 1))
      redis.call('ZREMRANGEBYRANK', setKey, 0, excess - 1)
    end
  end
end
