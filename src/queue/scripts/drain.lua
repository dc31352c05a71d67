-- Deletes waiting and delayed jobs (not active or finished ones), a bounded
-- number per call so Redis never blocks long; the caller repeats until 0.
-- KEYS: 1 wait, 2 waitp, 3 delayed, 4 jobs, 5 atts, 6 pri, 7 stalls, 8 results, 9 errors
-- ARGV: 1 batch size
-- Returns the number of jobs deleted by this call.
--@include forget

local budget = tonumber(ARGV[1])
local ids = {}
for _, setKey in ipairs({ KEYS[2], KEYS[3] }) do
  local popped = redis.call('ZPOPMIN', setKey, budget - #ids)
  for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
end
if #ids < budget then
  local rest = redis.call('RPOP', KEYS[1], budget - #ids)
  if rest then
    for _, id in ipairs(rest) do ids[#ids + 1] = id end
  end
end
forget({ KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9] }, ids)
return #ids
