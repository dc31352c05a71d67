-- Job events for QueueEvents (src/queue/events): one stream entry per event per
-- call, holding the ids of every job it concerns joined by byte 30, so a fetch or
-- settle of a hundred jobs adds one entry, not a hundred. Results and errors are
-- never copied: a subscriber reads them from the job when it needs them. MAXLEN ~
-- keeps the stream bounded whatever the volume (meta `evlen` entries, default
-- 10,000; '0' turns events off).
-- Needs: keys.
local EVENTS_DEFAULT_CAP = '10000'

-- `evlen`: S.evlen when the script read the settings, nil to read it here.
local function eventCap(evlen)
  if evlen == nil then evlen = redis.call('HGET', K.meta, 'evlen') end
  return evlen or EVENTS_DEFAULT_CAP
end

-- `ids`: a table of job ids (nothing is written when it is empty) or a string;
-- `field`, `value`: one extra field of the entry (progress values).
local function emitEvent(cap, event, ids, field, value)
  if cap == '0' then return end
  if type(ids) == 'table' then
    if #ids == 0 then return end
    ids = table.concat(ids, '\30')
  end
  if field then
    redis.call('XADD', K.events, 'MAXLEN', '~', cap, '*', 'e', event, 'i', ids, field, value)
  else
    redis.call('XADD', K.events, 'MAXLEN', '~', cap, '*', 'e', event, 'i', ids)
  end
end
