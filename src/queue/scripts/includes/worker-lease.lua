-- What every call of a worker (fetch, settle, heartbeat) does for the worker itself
-- (needs: keys). The reply's state tells the worker whether it may start the jobs it
-- holds reserved (docs/architecture.md, "Starting a reserved job").
local PAUSED, LAPSED = 1, 2

-- Renews the lease of worker `wid` and returns its state: PAUSED, LAPSED if the lease
-- had lapsed before this call (gone: another worker's heartbeat took its jobs back; or
-- past its deadline), plus 4 x the Redis time (ms) of its latest recall: the later of
-- its latest lapse, kept in its replies hash (`lapse`), and the queue's latest
-- pauseGroup (`gpt`). Jobs it fetched before a recall must not start: after a lapse
-- they may belong to another worker now, after a group pause they may be the group's.
-- Only the first call after a lapse finds it, and the calls a resumed process had in
-- flight then all renew the lease; the worker may handle their replies in any order, so
-- every reply carries the latest recall and the worker compares it with the last one
-- it saw. (A worker's very first call finds no lease either; it holds nothing from before.)
local function leaseState(S, wid, now, lease, replies)
  local deadline = redis.call('ZSCORE', K.workers, wid)
  redis.call('ZADD', K.workers, now + lease, wid)
  local flags, lapse = S.paused and PAUSED or 0, now
  if not deadline or tonumber(deadline) < now then
    flags = flags + LAPSED
    redis.call('HSET', replies, 'lapse', now)
  else
    lapse = tonumber(redis.call('HGET', replies, 'lapse') or '0')
  end
  return flags + 4 * math.max(lapse, S.groupPausedAt)
end

-- Records how many jobs worker `wid` holds reserved (fetched, not started): `count` as
-- the worker counted them when it sent the call, plus the reserved jobs of its last
-- fetch if the worker had not seen that fetch's reply yet (`seen`: the last fetch token
-- it saw; `lastToken`, `lastReserved`: the replies hash's `token` and `rsv`).
local function recordReserved(wid, count, seen, lastToken, lastReserved)
  if lastToken and lastToken ~= seen then count = count + tonumber(lastReserved or '0') end
  if count > 0 then
    redis.call('HSET', K.reserved, wid, count)
  else
    redis.call('HDEL', K.reserved, wid)
  end
end
