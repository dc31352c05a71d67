-- Moves events to the dead-letter stream and acknowledges the entries they complete,
-- atomically: an entry is never acknowledged without its dead letters. An event whose
-- entry is no longer pending (another consumer completed it meanwhile) is skipped, so a
-- one-event entry is dead-lettered once; an appendBatch entry whose consumer died
-- between two of its events' dead letters is redelivered, and may repeat one.
-- KEYS: 1 stream, 2 dead-letter stream
-- ARGV: 1 group, 2 stream name, then per event: event id, entry id, ack (1: this
--   event completes its entry), data JSON, deliveries, error, consumer
-- Returns the number of events dead-lettered.
local moved = 0
for i = 3, #ARGV, 7 do
  local entry = ARGV[i + 1]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], entry, entry, 1) > 0 then
    redis.call('XADD', KEYS[2], '*', 'id', ARGV[i], 'stream', ARGV[2], 'group', ARGV[1], 'data', ARGV[i + 3],
      'deliveries', ARGV[i + 4], 'error', ARGV[i + 5], 'consumer', ARGV[i + 6])
    if ARGV[i + 2] == '1' then redis.call('XACK', KEYS[1], ARGV[1], entry) end
    moved = moved + 1
  end
end
return moved
