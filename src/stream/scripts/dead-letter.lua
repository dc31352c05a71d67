-- Moves entries to the dead-letter stream, then acknowledges them, atomically: an
-- entry is never acknowledged without its dead letter, nor dead-lettered twice.
-- An entry no longer pending (another consumer committed it meanwhile) is skipped.
-- KEYS: 1 stream, 2 dead-letter stream
-- ARGV: 1 group, 2 stream name, then per entry: id, data JSON, deliveries, error, consumer
-- Returns the number of entries dead-lettered.
local moved = 0
for i = 3, #ARGV, 5 do
  local id = ARGV[i]
  if #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1) > 0 then
    redis.call('XADD', KEYS[2], '*', 'id', id, 'stream', ARGV[2], 'group', ARGV[1], 'data', ARGV[i + 1],
      'deliveries', ARGV[i + 2], 'error', ARGV[i + 3], 'consumer', ARGV[i + 4])
    redis.call('XACK', KEYS[1], ARGV[1], id)
    moved = moved + 1
  end
end
return moved
