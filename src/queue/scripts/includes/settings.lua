-- The queue's settings and feature flags (meta hash), read once per call.
-- Feature flags are set the first time a feature is used and never cleared, so
-- a queue that uses no groups or until-done dedup never pays for their lookups.
-- `now` is the Redis clock (needs: now); `nowText` is it as a string, made once:
-- a number passed to redis.call or joined into a string is formatted every time,
-- at a few hundred nanoseconds each.
local function readSettings()
  local m = redis.call('HMGET', K.meta, 'paused', 'conc', 'rmax', 'rdur', 'gconc', 'grmax', 'grdur',
    'govr', 'groups', 'ud', 'held', 'gpause', 'gprio', 'flows', 'evlen', 'rlu', 'gpt')
  local S = {
    paused = m[1] ~= false,
    conc = tonumber(m[2] or '0'), rmax = tonumber(m[3] or '0'), rdur = tonumber(m[4] or '0'),
    gconc = tonumber(m[5] or '0'), grmax = tonumber(m[6] or '0'), grdur = tonumber(m[7] or '0'),
    overrides = m[8] ~= false, groups = m[9] ~= false, untilDone = m[10] ~= false, held = m[11] ~= false,
    groupPauses = m[12] ~= false, groupPriorities = m[13] ~= false, flows = m[14] ~= false,
    evlen = m[15],
    -- A handler's job.rateLimit(ms): the queue starts nothing before this time.
    limitedUntil = tonumber(m[16] or '0'),
    -- The Redis time of the latest pauseGroup: jobs reserved before it go back (worker-lease.lua).
    groupPausedAt = tonumber(m[17] or '0'),
    now = nowMs(),
  }
  S.nowText = string.format('%d', S.now)
  return S
end
