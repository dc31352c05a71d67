-- Exact sliding window above PACKED_LOG_MAX_LIMIT units (storage.ts; sorted set), consuming. KEYS: one sorted set per check. See includes/batch.lua for ARGV and reply.
--@include now
--@include batch
--@include sliding-window

return runBatch(function(now, limit, windowUs)
  return slidingWindow(now, limit, windowUs, true)
end)
