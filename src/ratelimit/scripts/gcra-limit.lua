-- GCRA, consuming. KEYS: one TAT key per check. See includes/batch.lua.
--@include now
--@include batch
--@include gcra

return runBatch(function(now, limit, windowUs, burst)
  return gcra(now, limit, windowUs, burst, true)
end)
