-- set: writes a value, takes the loader lock away from any load in flight (its older
-- result must not overwrite this one), and tells the other instances to drop their
-- memory copy (key only).
-- KEYS[1] value key, KEYS[2] lock key
-- ARGV[1] entry, ARGV[2] life in ms (ttl + stale window), ARGV[3] bus channel, ARGV[4] bus message
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
