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

-- A failed job going back in line (retry) takes its until-done key again, read from
-- the options line of its record (the third; see record.ts). Returns false when it
-- took the key or has none, else the key and the id of the live job holding it.
local function retakeUntilDone(S, id)
  if not S.untilDone then return false end
  local record = redis.call('HGET', K.jobs, id)
  if not record then return false end
  local a = string.find(record, '\n', 1, true)
  local b = a and string.find(record, '\n', a + 1, true)
  local c = b and string.find(record, '\n', b + 1, true)
  if not c then return false end
  local ok, opts = pcall(cjson.decode, string.sub(record, b + 1, c - 1))
  if not ok then return false end
  local d = type(opts) == 'table' and opts.dedup
  if type(d) ~= 'table' or d.mode ~= 'until-done' or type(d.key) ~= 'string' then return false end
  local holder = redis.call('HGET', K.udone, 'k:' .. d.key)
  if holder and holder ~= id then return d.key, holder end
  redis.call('HSET', K.udone, 'k:' .. d.key, id, 'j:' .. id, d.key)
  return false
end
