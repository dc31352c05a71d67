-- Approximate sliding window, consuming. KEYS: one state key per check. See includes/batch.lua.
--@include now
--@include batch
--@include sliding-window-approx

return runBatch(function(now, limit, windowUs)
  return slidingApprox(now, limit, windowUs, true)
end)
