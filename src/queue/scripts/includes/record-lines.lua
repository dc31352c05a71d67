-- A job record's four lines (record.ts): name, add time, options JSON, data JSON.
-- Returns the positions of the newlines ending the first three.
local function recordBreaks(record)
  local a = string.find(record, '\n', 1, true)
  local b = string.find(record, '\n', a + 1, true)
  local c = string.find(record, '\n', b + 1, true)
  return a, b, c
end
