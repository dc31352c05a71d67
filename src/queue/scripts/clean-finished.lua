-- Deletes completed or failed jobs that finished at least `age` ms ago (Redis clock),
-- looking at a bounded slice of the set per call; the caller repeats from `next`.
-- The set is scored by expiry, not by finish time, so each job's finish time is read
-- from the head of its result/error JSON (`{"p":started,"f":finished,...`).
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 'completed' or 'failed', 2 age ms, 3 most jobs to delete, 4 rank to start
--   at, 5 most jobs to look at
-- Returns { next rank (-1: the set's end was reached), ids deleted... }.
--@include keys
--@include now
--@include forget

local setKey, recKey = K.completed, K.results
if ARGV[1] == 'failed' then setKey, recKey = K.failed, K.errors end
local cutoff = nowMs() - tonumber(ARGV[2])
local want, start, budget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local ids = redis.call('ZRANGE', setKey, start, start + budget - 1)
if #ids == 0 then return { -1 } end
local recs = redis.call('HMGET', recKey, unpack(ids))
local gone, looked = {}, 0
for i, id in ipairs(ids) do
  if #gone >= want then break end
  looked = i
  -- A job without a record (kept by count only, or cut short) has no finish time: kept.
  local finished = recs[i] and tonumber(string.match(recs[i], '^{"p":[^,]*,"f":(%d+)'))
  if finished and finished <= cutoff then gone[#gone + 1] = id end
end
if #gone > 0 then
  redis.call('ZREM', setKey, unpack(gone))
  forget(gone)
end
local nextRank = start + looked - #gone
if #ids < budget and looked == #ids then nextRank = -1 end
local reply = { nextRank }
for _, id in ipairs(gone) do reply[#reply + 1] = id end
return reply
