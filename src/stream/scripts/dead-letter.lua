-- Moves events to the dead-letter stream and acknowledges the entries they complete,
-- atomically: an entry is never acknowledged without its dead letters. An event whose
-- entry is no longer pending (another consumer completed it meanwhile) is skipped, so a
-- one-event entry is dead-lettered once; an appendBatch entry whose consumer died
-- between two of its events' dead letters is redelivered, and may repeat one.
-- The dead-letter stream keeps its newest ARGV[3] entries (exact MAXLEN; 0: unbounded),
-- so a flood of bad events cannot grow it without end.
-- KEYS: 1 stream, 2 dead-letter stream
-- ARGV: 1 group, 2 stream name, 3 dead-letter max length, then per event: event id,
--   entry id, ack (1: this event completes its entry), data JSON, deliveries, error, consumer
-- Returns the number of events dead-lettered.
local moved = 0
for i = 4, #ARGV, 7 do
  local entry = ARGV[i + 1]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1) > 0 then
    local args = { KEYS[2] }
    if ARGV[3] ~= '0' then
      args[2] = 'MAXLEN'
      args[3] = ARGV[3]
    end
    local fields = { '*', 'id', ARGV[i], 'stream', ARGV[2], 'group', ARGV[1], 'data', ARGV[i + 3],
      'deliveries', ARGV[i + 4], 'error', ARGV[i + 5], 'consumer', ARGV[i + 6] }
    for _, f in ipairs(fields) do args[#args + 1] = f end
    redis.call('XADD', unpack(args))
    if ARGV[i + 2] == '1' then redis.call('XACK', KEYS[1], ARGV[1], entry) end
    moved = moved + 1
  end
end
return moved
