-- Deletes every record of a finished job (not its place in a state set).
local function forget(jobsKey, attsKey, priKey, stallsKey, resultsKey, errorsKey, id)
  redis.call('HDEL', jobsKey, id)
  redis.call('HDEL', attsKey, id)
  redis.call('HDEL', priKey, id)
  redis.call('HDEL', stallsKey, id)
  redis.call('HDEL', resultsKey, id)
  redis.call('HDEL', errorsKey, id)
end
