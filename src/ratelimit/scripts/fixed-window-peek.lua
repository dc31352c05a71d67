-- Fixed window, read-only: the answer a check of `cost` would get now. KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include fixed-window

return runBatch(function(now, limit, windowUs)
  return fixedWindow(now, limit, windowUs, false)
end)
