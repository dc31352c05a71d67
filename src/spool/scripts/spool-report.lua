-- Publishes one producer's spool state in a small hash per queue or stream (its own
-- hash tag, so one slot on a Cluster), for `hopper monitor`, the dashboard and
-- /metrics of any process. A producer reports while its spool holds records and
-- deletes its field once drained; a killed producer's field goes stale, and every
-- report drops fields older than the stale bound, so the hash holds at most the
-- producers that reported lately. The hash itself expires when nobody reports.
-- KEYS: 1 the reports hash
-- ARGV: 1 field (host:pid:run), 2 value (JSON with `at`; '' deletes the field),
--   3 now ms, 4 stale ms, 5 hash ttl ms
-- Returns the number of stale fields dropped.
local key, field, value = KEYS[1], ARGV[1], ARGV[2]
local now, stale = tonumber(ARGV[3]), tonumber(ARGV[4])
if value == '' then
  redis.call('HDEL', key, field)
else
  redis.call('HSET', key, field, value)
  redis.call('PEXPIRE', key, ARGV[5])
end
local dropped = 0
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local ok, r = pcall(cjson.decode, all[i + 1])
  if not ok or type(r) ~= 'table' or type(r.at) ~= 'number' or r.at < now - stale then
    redis.call('HDEL', key, all[i])
    dropped = dropped + 1
  end
end
return dropped
