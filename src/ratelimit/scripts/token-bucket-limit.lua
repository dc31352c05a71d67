-- Token bucket, consuming. KEYS: one state key per check. See includes/batch.lua.
--@include now
--@include batch
--@include token-bucket

return runBatch(function(now, limit, windowUs, burst)
  return tokenBucket(now, limit, windowUs, burst, true)
end)
