-- extend-lock: a loader still running keeps its lock short-lived but alive, so a dead
-- holder's lock lapses quickly while a slow live one is not taken over.
-- KEYS[1] lock key
-- ARGV[1] lock token, ARGV[2] lock ttl (ms)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
