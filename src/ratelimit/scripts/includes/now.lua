-- Redis clock in µs: every process agrees on it, whatever its own clock says.
-- 1.7e15 µs is exact in a Lua double (below 2^53).
local function nowUs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- Durations go back to the client in whole ms, rounded up: waiting them out is always enough.
local function ceilMs(us)
  if us <= 0 then return 0 end
  return math.ceil(us / 1000)
end

-- %d would truncate, tostring() keeps only 14 digits: big µs values need %.17g to round-trip.
local function num(x)
  return string.format('%.17g', x)
end
