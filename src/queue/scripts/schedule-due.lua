-- Claims the schedules whose next tick is due, for one scheduler to fire them.
-- A claim only spreads the work: schedulers in several processes skip what another
-- claimed, rather than all computing the same ticks and all but one losing. It is
-- not what makes a tick fire once: schedule-fire.lua applies a tick only if the
-- schedule's tick and runs value are still the ones read here (compare-and-set).
-- A scheduler that dies holding claims delays those ticks by the claim time.
-- KEYS: 1 next (ZSET id -> next tick), 2 runs (HASH id -> version:made:lastTick),
--   3 claims (HASH id -> claim expiry ms)
-- ARGV: 1 at most this many schedules, 2 claim ms
-- Returns { now, ms until the scheduler should look again (-1: nothing scheduled),
-- then per claimed schedule its id, tick and runs value }.
--@include now

local now = nowMs()
local batch = tonumber(ARGV[1])
local claimUntil = now + tonumber(ARGV[2])
local out = { now, -1 }
local soonest = nil
local picked, ticks, claimed = {}, {}, {}
-- Past other schedulers' claims, a batch at a time, at most 4 batches deep.
for offset = 0, batch * 3, batch do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'WITHSCORES', 'LIMIT',
    offset, batch)
  if #due == 0 then break end
  local ids = {}
  for i = 1, #due, 2 do ids[#ids + 1] = due[i] end
  local claims = redis.call('HMGET', KEYS[3], unpack(ids))
  for i, id in ipairs(ids) do
    local claim = tonumber(claims[i])
    if claim and claim > now then
      if not soonest or claim < soonest then soonest = claim end
    elseif #picked < batch then
      picked[#picked + 1] = id
      ticks[#picked] = due[i * 2]
      claimed[#claimed + 1] = id
      claimed[#claimed + 1] = claimUntil
    end
  end
  if #picked == batch or #due < batch * 2 then break end
end
if #picked > 0 then
  redis.call('HSET', KEYS[3], unpack(claimed))
  local runs = redis.call('HMGET', KEYS[2], unpack(picked))
  for i, id in ipairs(picked) do
    out[#out + 1] = id
    out[#out + 1] = ticks[i]
    out[#out + 1] = runs[i] or ''
  end
end
local first = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #first > 0 then soonest = math.min(soonest or math.huge, tonumber(first[2])) end
if soonest then out[2] = soonest - now end
return out
