-- Token bucket, read-only. KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include token-bucket

return runBatch(function(now, limit, windowUs, burst)
  return tokenBucket(now, limit, windowUs, burst, false)
end)
