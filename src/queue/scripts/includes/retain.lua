-- Keeps a finished job in `setKey` until `now + keepAge` (keepAge 0: no age limit)
-- and trims the set to `keepCount` (-1: no count limit), oldest expiry first.
local FOREVER = 1e15
local function retain(setKey, id, now, keepAge, keepCount, jobsKey, attsKey, priKey, stallsKey, resultsKey, errorsKey)
  local expires = FOREVER + now
  if keepAge > 0 then expires = now + keepAge end
  redis.call('ZADD', setKey, expires, id)
  if keepCount >= 0 then
    local excess = redis.call('ZCARD', setKey) - keepCount
    if excess > 0 then
      for _, old in ipairs(redis.call('ZRANGE', setKey, 0, excess - 1)) do
        forget(jobsKey, attsKey, priKey, stallsKey, resultsKey, errorsKey, old)
      end
      redis.call('ZREMRANGEBYRANK', setKey, 0, excess - 1)
    end
  end
end
