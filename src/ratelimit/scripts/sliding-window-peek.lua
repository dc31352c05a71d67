-- Exact sliding window above PACKED_LOG_MAX_LIMIT units (storage.ts; sorted set), read-only (ZCOUNT, no trimming). KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include sliding-window

return runBatch(function(now, limit, windowUs)
  return slidingWindow(now, limit, windowUs, false)
end)
