-- Looks through at most a budget of job records (HSCAN from a cursor) for a plain
-- substring of the job's name or data, so a search costs bounded Redis time and
-- transfers only the ids that match. The caller continues from the returned cursor.
-- KEYS: 1 the queue's jobs hash
-- ARGV: 1 cursor ('0' to start), 2 most records to look at, 3 'name' or 'data',
--   4 the substring, 5 most ids to return
-- Returns { next cursor ('0': done), records looked at, matching ids... }.
local cursor, budget, mode, needle, most = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local looked, hits = 0, {}
repeat
  local r = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 100)
  cursor = r[1]
  local kv = r[2]
  for i = 1, #kv, 2 do
    looked = looked + 1
    local rec = kv[i + 1]
    local nameEnd = string.find(rec, '\n', 1, true) or #rec
    local found
    if mode == 'name' then
      found = string.find(string.sub(rec, 1, nameEnd), needle, 1, true)
    else
      -- The data is what follows the third line break (name, add time, options).
      local b = string.find(rec, '\n', nameEnd + 1, true)
      local c = b and string.find(rec, '\n', b + 1, true)
      found = c and string.find(rec, needle, c + 1, true)
    end
    if found and #hits < most then hits[#hits + 1] = kv[i] end
  end
until cursor == '0' or looked >= budget or #hits >= most
local reply = { cursor, looked }
for _, id in ipairs(hits) do reply[#reply + 1] = id end
return reply
