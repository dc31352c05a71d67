-- Stores progress and log lines sent by handlers, a batch per call. Only the
-- worker holding the job's lease may write: a stale worker's notes are refused.
-- Logs keep the last ARGV[1] lines per job.
-- KEYS: the queue's keys (keys.lua)
-- ARGV: 1 log lines kept, then per note 4 fields: kind ('p' progress, 'l' log line),
--       job id, lease token, value (progress JSON, or the line)
-- Returns the ids whose note was refused (lease lost).
--@include keys
--@include events

local keep = tonumber(ARGV[1])
local cap = nil -- read at the first progress value
local refused = {}
for i = 2, #ARGV, 4 do
  local kind, id, prefix, value = ARGV[i], ARGV[i + 1], ARGV[i + 2] .. '|', ARGV[i + 3]
  local lease = redis.call('HGET', K.active, id)
  if not lease or string.sub(lease, 1, #prefix) ~= prefix then
    refused[#refused + 1] = id
  elseif kind == 'p' then
    redis.call('HSET', K.progress, id, value)
    cap = cap or eventCap()
    emitEvent(cap, 'progress', id, 'd', value)
  else
    local text = redis.call('HGET', K.logs, id)
    text = text and (text .. '\n' .. value) or value
    local _, lines = string.gsub(text, '\n', '')
    -- Drop the oldest lines beyond `keep` (lines = newlines + 1).
    for _ = keep, lines do text = string.sub(text, string.find(text, '\n', 1, true) + 1) end
    redis.call('HSET', K.logs, id, text)
  end
end
return refused
