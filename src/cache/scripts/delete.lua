-- delete: removes a value and tells the other instances to drop their memory copy.
-- KEYS[1] value key
-- ARGV[1] bus channel, ARGV[2] bus message
local n = redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return n
