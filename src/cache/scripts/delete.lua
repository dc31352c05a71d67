-- delete: removes a value, takes the loader lock away from any load in flight (its
-- result must not bring the value back), and tells the other instances to drop their
-- memory copy.
-- KEYS[1] value key, KEYS[2] lock key
-- ARGV[1] bus channel, ARGV[2] bus message
local n = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return n
