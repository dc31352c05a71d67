-- Shared by every limit/peek script: one call carries many checks (KEYS[i] with cost ARGV[3 + i]).
-- ARGV: 1 limit, 2 window ms, 3 burst (capacity; token bucket and GCRA only), 4.. cost per key,
-- left out when every check costs 1 (the common case: 64 fewer arguments to pass and parse).
-- Returns 4 integers per key: allowed (1/0), remaining, reset ms, retry-after ms.
-- `make(now, limit, windowUs, burst)` returns the per-key check: whatever all keys share
-- (window number, formatted strings) is computed once per call, since each Lua string
-- operation costs about a microsecond. It may also return `finish`, run after the last check:
-- a check that holds a key's state across checks writes it back there.
local function runBatch(make)
  local check, finish = make(nowUs(), tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3]))
  local out = {}
  local costs = #ARGV > 3
  for i = 1, #KEYS do
    local cost = 1
    if costs then cost = tonumber(ARGV[3 + i]) end
    local allowed, remaining, reset, retry = check(KEYS[i], cost)
    local n = #out
    out[n + 1] = allowed
    out[n + 2] = remaining
    out[n + 3] = reset
    out[n + 4] = retry
  end
  if finish then finish() end
  return out
end
