-- Settles an add whose outcome the client could not learn (AddOutcomeUnknownError):
-- returns the stored reply of the request if add.lua ran it; otherwise fences the
-- request id ('void'), so that a copy of the call still on its way (a stopped server's
-- socket buffer, a client's resend) writes nothing when it arrives.
-- KEYS: the queue's keys (keys.lua), then the request's reply key
-- ARGV: 1 ttl ms of the fence
-- Returns the reply as add.lua returned it, or false: not stored, and never will be.
--@include keys
--@include split

local request = KEYS[EXTRA]
local last = redis.call('GET', request)
if last == 'void' then return false end
if last then
  local reply = split(last)
  reply[1] = tonumber(reply[1])
  return reply
end
redis.call('SET', request, 'void', 'PX', ARGV[1])
return false
