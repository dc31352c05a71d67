-- Exact sliding window up to PACKED_LOG_MAX_LIMIT units (storage.ts; packed string log), consuming. KEYS: one log per check. See includes/batch.lua for ARGV and reply.
--@include now
--@include batch
--@include sliding-window-packed

return runBatch(function(now, limit, windowUs)
  return slidingPacked(now, limit, windowUs, true)
end)
