-- Dedup of one new job by its key (add.lua, add-spooled.lua): the modes are described
-- in add.lua. Needs: keys, settings, write-job (settings()).
-- Returns the id a job with this dedup key must give way to, or false (and takes the key).
local function dedup(mode, key, id, record, ttl)
  if mode == 't' then
    local first = redis.call('GET', KEYS[tonumber(key)])
    if first then return first end
    redis.call('SET', KEYS[tonumber(key)], id, 'PX', ttl)
  elseif mode == 'd' then
    local k = KEYS[tonumber(key)]
    local pending = redis.call('GET', k)
    if pending and redis.call('ZSCORE', K.delayed, pending) then
      redis.call('HSET', K.jobs, pending, record)
      redis.call('ZADD', K.delayed, settings().now + ttl, pending)
      redis.call('PEXPIRE', k, ttl)
      return pending
    end
    redis.call('SET', k, id, 'PX', ttl)
  elseif mode == 'u' then
    local holder = redis.call('HGET', K.udone, 'k:' .. key)
    if holder then return holder end
    redis.call('HSET', K.udone, 'k:' .. key, id, 'j:' .. id, key)
    if not settings().untilDone then
      redis.call('HSET', K.meta, 'ud', '1')
      S.untilDone = true
    end
  end
  return false
end
