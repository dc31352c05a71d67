-- Lists waiting grouped jobs at priority 0 (those in their groups' lines), group
-- by group in name order, each line in run order: `skip` jobs passed over, then
-- up to `count`. It walks the lines from the start, one call per job passed:
-- an admin listing (getJobs), never on the path of a job.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 skip, 2 count
-- Returns the ids.
--@include keys

local skip, count = tonumber(ARGV[1]), tonumber(ARGV[2])
local groups = {}
for _, field in ipairs(redis.call('HKEYS', K.gcount)) do
  if string.sub(field, 1, 2) == 'h:' then groups[#groups + 1] = string.sub(field, 3) end
end
table.sort(groups)
local ids = {}
for _, g in ipairs(groups) do
  if #ids >= count then break end
  local at = redis.call('HGET', K.gcount, 'h:' .. g)
  while at and at ~= '' and #ids < count do
    if skip > 0 then skip = skip - 1 else ids[#ids + 1] = at end
    at = redis.call('HGET', K.gnext, at)
  end
end
return ids
