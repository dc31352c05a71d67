-- Deletes every record of finished jobs (not their place in a state set).
-- `rec` lists the record hashes: jobs, atts, pri, stalls, results, errors.
-- One variadic HDEL per hash, whatever the number of jobs.
local function forget(rec, ids)
  if #ids == 0 then return end
  for _, key in ipairs(rec) do redis.call('HDEL', key, unpack(ids)) end
end
