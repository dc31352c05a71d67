-- Deletes every record of finished jobs (not their place in a state set):
-- one variadic HDEL per record hash (K.rec), whatever the number of jobs.
local function forget(ids)
  if #ids == 0 then return end
  for _, key in ipairs(K.rec) do redis.call('HDEL', key, unpack(ids)) end
end
