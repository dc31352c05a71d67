-- GCRA, read-only. KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include gcra

return runBatch(function(now, limit, windowUs, burst)
  return gcra(now, limit, windowUs, burst, false)
end)
