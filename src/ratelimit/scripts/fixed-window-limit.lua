-- Fixed window, consuming. KEYS: one state key per check. See includes/batch.lua for ARGV and reply.
--@include now
--@include batch
--@include fixed-window

return runBatch(function(now, limit, windowUs)
  return fixedWindow(now, limit, windowUs, true)
end)
