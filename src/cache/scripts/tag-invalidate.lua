-- tag-invalidate: bumps a tag's generation, so every entry written with an older one
-- (including one whose write is still in flight: it read the generation before this)
-- reads as absent, and tells every instance to drop its memory copies of the tag.
-- A tag with no generation key carries no live entry (tag-touch keeps the key alive as
-- long as any entry carrying it): nothing to bump, and no key is made that would never expire.
-- KEYS[1] tag generation key
-- ARGV[1] bus channel, ARGV[2] bus message
-- Returns the new generation, or -1 when the tag had none.
local gen = -1
if redis.call('EXISTS', KEYS[1]) == 1 then gen = redis.call('INCR', KEYS[1]) end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return gen
