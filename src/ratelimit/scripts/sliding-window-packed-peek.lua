-- Exact sliding window up to PACKED_LOG_MAX_LIMIT units (storage.ts; packed string log), read-only. KEYS/ARGV as in includes/batch.lua.
--@include now
--@include batch
--@include sliding-window-packed

return runBatch(function(now, limit, windowUs)
  return slidingPacked(now, limit, windowUs, false)
end)
