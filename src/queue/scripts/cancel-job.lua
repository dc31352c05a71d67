-- Tells the worker running a job to cancel it (queue.cancel): publishes the job's
-- id and current lease token, so only the worker holding that attempt acts on it.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id, 2 the cancel channel, 3 reason
-- Returns -1 when the job is not active, else how many workers heard the message.
--@include keys

local id = ARGV[1]
local lease = redis.call('HGET', K.active, id)
if not lease then return -1 end
local token = string.match(lease, '^([^|]*)|')
return redis.call('PUBLISH', ARGV[2], id .. '\30' .. token .. '\30' .. ARGV[3])
