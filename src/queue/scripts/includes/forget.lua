-- Deletes every record of finished jobs (not their place in a state set): one
-- variadic HDEL per record hash (K.rec), whatever the number of jobs. Most of
-- those hashes are empty for most queues (no retries, priorities, progress or
-- groups), and an HDEL of a thousand ids costs the conversion of every id even
-- when the hash is not there, so an absent hash is skipped (EXISTS is one cheap call).
local function forget(ids)
  if #ids == 0 then return end
  for i, key in ipairs(K.rec) do
    if i == 1 or redis.call('EXISTS', key) == 1 then redis.call('HDEL', key, unpack(ids)) end
  end
end
