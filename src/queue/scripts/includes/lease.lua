-- Removes a job from `active` if `token` still holds it and returns the time the
-- attempt started; false when the lease was lost (the fencing check: a late
-- acknowledgement from a worker that lost its lease is never applied).
local function takeLease(activeKey, id, token)
  local held = redis.call('HGET', activeKey, id)
  if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return false end
  redis.call('HDEL', activeKey, id)
  return string.match(held, '|(%d+)$')
end
