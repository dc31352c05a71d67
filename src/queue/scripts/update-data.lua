-- Replaces a job's data (queue.updateData), in any state. A running handler keeps
-- the data it was given; later attempts get the new data.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 id, 2 data JSON
-- Returns 1, or 0 when there is no such job.
--@include keys
--@include record-lines

local id = ARGV[1]
local record = redis.call('HGET', K.jobs, id)
if not record then return 0 end
local _, _, c = recordBreaks(record)
redis.call('HSET', K.jobs, id, string.sub(record, 1, c) .. ARGV[2])
return 1
