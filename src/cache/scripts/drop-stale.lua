-- drop-stale: a reader found an entry whose tag was invalidated since it was written;
-- removes it (only if it is still that very entry: a newer write stays), so the next
-- read misses and takes the loader lock instead of finding it fresh again.
-- KEYS[1] value key
-- ARGV[1] the entry as read
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
