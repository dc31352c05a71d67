-- Writes a failed attempt into the job's `errors` field, keeping the earlier attempts
-- behind it: the newest attempt's JSON first, then up to FAIL_HISTORY - 1 earlier
-- ones, each after a byte 30 (JSON never holds a raw one). The newest stays first so
-- readers of the head (clean-finished.lua's finish time) need no change, and the
-- history lives and dies with the errors field: every path that deletes a job
-- (forget()) deletes it. Cost: one HGET and one HSET of the field, no new key.
-- An error bigger than FAIL_BYTES is decoded and its message and stack cut, so a
-- job's history stays below about FAIL_HISTORY * FAIL_BYTES.
local FAIL_HISTORY = 10
local FAIL_BYTES = 6000
local FAIL_MESSAGE, FAIL_STACK = 2000, 4000

local function boundError(payload)
  if #payload <= FAIL_BYTES then return payload end
  local ok, e = pcall(cjson.decode, payload)
  if not ok or type(e) ~= 'table' then
    e = { name = 'Error', message = string.sub(payload, 1, FAIL_MESSAGE) }
  end
  local cut = {
    name = string.sub(tostring(e.name or 'Error'), 1, 200),
    message = string.sub(tostring(e.message or ''), 1, FAIL_MESSAGE),
  }
  if type(e.stack) == 'string' then cut.stack = string.sub(e.stack, 1, FAIL_STACK) end
  return cjson.encode(cut)
end

-- `started` and `finished` are ms (numbers or their text), `attempt` the attempt number.
local function recordFailure(id, started, finished, attempt, payload)
  local entry = '{"p":' .. started .. ',"f":' .. finished .. ',"a":' .. attempt .. ',"e":' .. boundError(payload) .. '}'
  local old = redis.call('HGET', K.errors, id)
  if old then
    -- Keep the first FAIL_HISTORY - 1 entries of the old value (newest first).
    local at, kept = 0, 0
    while kept < FAIL_HISTORY - 1 do
      local nextSep = string.find(old, '\30', at + 1, true)
      kept = kept + 1
      if not nextSep then
        at = #old + 1
        break
      end
      at = nextSep
    end
    entry = entry .. '\30' .. string.sub(old, 1, at - 1)
  end
  redis.call('HSET', K.errors, id, entry)
end
