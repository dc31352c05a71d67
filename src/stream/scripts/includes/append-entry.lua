-- Writes the entry whose layout starts at ARGV[i] to the stream KEYS[1] (append.lua's
-- layout: 'd', json or n, json1..jsonN); returns its id and where the next entry starts.
local function appendEntry(i)
  if ARGV[i] == 'd' then return redis.call('XADD', KEYS[1], '*', 'd', ARGV[i + 1]), i + 2 end
  local n = tonumber(ARGV[i])
  local args = { KEYS[1], '*' }
  for j = 1, n do
    args[2 * j + 1] = 'e'
    args[2 * j + 2] = ARGV[i + j]
  end
  return redis.call('XADD', unpack(args)), i + n + 1
end
