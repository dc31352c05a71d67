-- Puts due delayed jobs in line (at most 1,000 per call; the next call takes the rest).
-- Jobs due in the same millisecond go in add order: the sorted set orders ties by
-- member, which for generated ids is string order (1, 10, 11, 2), so ties are sorted
-- by number (a generated id is its sequence number); jobIds follow them, by string.
-- A full batch leaves its last millisecond's jobs for the next call, so a tie is not split.
-- Needs: keys, enqueue, groups.
local function promoteDue(S, now)
  local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1000)
  if #due == 0 then return end
  local ids, scores = {}, {}
  for i = 1, #due, 2 do
    ids[#ids + 1] = due[i]
    scores[#scores + 1] = due[i + 1]
  end
  local n = #ids
  if n == 1000 and scores[1] ~= scores[n] then
    local last = scores[n]
    while scores[n] == last do n = n - 1 end
  end
  local order, num = {}, {}
  for i = 1, n do
    order[i] = i
    num[i] = string.match(ids[i], '^%d+$') and tonumber(ids[i]) or false
  end
  table.sort(order, function(a, b)
    if scores[a] ~= scores[b] then return tonumber(scores[a]) < tonumber(scores[b]) end
    if num[a] and num[b] then return num[a] < num[b] end
    if num[a] or num[b] then return num[a] ~= false end
    return ids[a] < ids[b]
  end)
  local seq = redis.call('INCRBY', K.seq, n) - n
  for k, i in ipairs(order) do place(S, ids[i], seq + k, false) end
  redis.call('ZREMRANGEBYRANK', K.delayed, 0, n - 1)
end
