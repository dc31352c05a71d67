-- read: many keys in one call (all reads made in one event-loop turn are batched into it).
-- For each key: its value and remaining life, and, when a token is given and the value is
-- not fresh, its loader lock taken (SET NX PX), so of all the processes missing a key at
-- once only one calls the loader.
-- An entry is "<staleWindowMs>|<flag>|<version>|<payload>" and lives ttl + staleWindow ms in Redis:
-- it is fresh while more than staleWindow ms of its life remain (Redis's clock).
-- KEYS value1, lock1, value2, lock2, ...
-- ARGV[1] lock ttl (ms); ARGV[1 + i] lock token for pair i ('' = read only)
-- Returns {value1 or nil, pttl1, locked1 (1/0), value2 ...}
local out = {}
for i = 1, #KEYS / 2 do
  local vkey, token = KEYS[2 * i - 1], ARGV[i + 1]
  local v = redis.call('GET', vkey)
  local pttl = -2
  local fresh = false
  if v then
    pttl = redis.call('PTTL', vkey)
    local window = tonumber(string.match(v, '^(%d+)|'))
    fresh = window ~= nil and pttl > window
  end
  local took = 0
  if not fresh and token ~= '' and redis.call('SET', KEYS[2 * i], token, 'NX', 'PX', ARGV[1]) then took = 1 end
  out[3 * i - 2] = v or false
  out[3 * i - 1] = pttl
  out[3 * i] = took
end
return out
