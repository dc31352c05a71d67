-- Approximate sliding window, read-only. KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include sliding-window-approx

return runBatch(function(now, limit, windowUs)
  return slidingApprox(now, limit, windowUs, false)
end)
