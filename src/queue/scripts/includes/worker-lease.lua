-- What every call of a worker (fetch, settle, heartbeat) does for the worker itself
-- (needs: keys). The reply's state tells the worker whether it may start the jobs it
-- holds reserved (docs/architecture.md, "Starting a reserved job").
local PAUSED, LAPSED = 1, 2

-- Renews the lease of worker `wid` and says whether it had lapsed before this call:
-- gone (another worker's heartbeat took its jobs back) or past its deadline. Jobs it
-- fetched before may then belong to another worker: it must not start them.
-- (A worker's very first call finds no lease either; it holds nothing from before.)
local function renewLease(wid, now, lease)
  local deadline = redis.call('ZSCORE', K.workers, wid)
  redis.call('ZADD', K.workers, now + lease, wid)
  return not deadline or tonumber(deadline) < now
end

local function workerState(S, lapsed)
  return (S.paused and PAUSED or 0) + (lapsed and LAPSED or 0)
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
