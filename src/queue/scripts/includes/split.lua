-- Splits a string joined with the ASCII record separator (byte 30). Jobs travel
-- joined in one argument or reply because each separate string costs the client
-- about a microsecond to encode or decode, and one long string almost nothing.
-- JSON never holds a raw byte 30 and job ids may not contain control characters.
local SEP = '\30'
local function split(s)
  local out = {}
  for part in string.gmatch(s, '[^\30]+') do out[#out + 1] = part end
  return out
end
