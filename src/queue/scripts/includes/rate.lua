-- An exact sliding-window log: start times (ms) joined by commas, oldest first,
-- each with a count (`time:count`, one entry per call that started jobs). At most
-- `max` starts fall in any window of `dur` ms, whichever moment it begins at.
-- Returns the entries still inside the window and their total count.
local function rateWindow(log, now, dur)
  local entries, total = {}, 0
  if log then
    for t, n in string.gmatch(log, '(%d+):(%d+)') do
      t, n = tonumber(t), tonumber(n)
      if t > now - dur then
        entries[#entries + 1] = { t, n }
        total = total + n
      end
    end
  end
  return entries, total
end

-- When the window will hold fewer than `max` starts again (only when it holds max or more).
local function rateFreeAt(entries, total, max, dur)
  for _, e in ipairs(entries) do
    total = total - e[2]
    if total < max then return e[1] + dur end
  end
  return 0
end

local function rateRecord(entries, now, n)
  local parts = {}
  for i, e in ipairs(entries) do parts[i] = e[1] .. ':' .. e[2] end
  parts[#parts + 1] = now .. ':' .. n
  return table.concat(parts, ',')
end
