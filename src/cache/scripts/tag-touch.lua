-- tag-touch: before a tagged write, reads each tag's generation and makes sure the
-- generation key outlives the entry about to carry it (an entry is only valid while its
-- tags' generations are the ones it was written with; a generation key that lapsed and
-- restarted at 0 could otherwise make an invalidated entry valid again). A tag never seen
-- starts at generation 0.
-- KEYS tag generation keys (one Cluster slot per call: the caller groups them)
-- ARGV[1] life in ms the keys must have at least
-- Returns the generations, in KEYS order.
local out = {}
local life = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local gen = redis.call('GET', key)
  if not gen then
    redis.call('SET', key, 0, 'PX', life)
    gen = 0
  elseif redis.call('PTTL', key) < life then
    redis.call('PEXPIRE', key, life)
  end
  out[i] = tonumber(gen)
end
return out
