-- Dedup mode until-done: a key holds its job id from add until the job finishes
-- (completes, fails for good, or is removed); then the key is free again.
local function releaseUntilDone(S, ids)
  if not S.untilDone or #ids == 0 then return end
  local fields = {}
  for i, id in ipairs(ids) do fields[i] = 'j:' .. id end
  local keys = redis.call('HMGET', K.udone, unpack(fields))
  for i, key in ipairs(keys) do
    if key then
      redis.call('HDEL', K.udone, fields[i])
      if redis.call('HGET', K.udone, 'k:' .. key) == ids[i] then redis.call('HDEL', K.udone, 'k:' .. key) end
    end
  end
end
