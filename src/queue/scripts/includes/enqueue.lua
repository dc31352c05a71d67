-- Puts an ungrouped id where a worker will find it: the FIFO list at priority 0,
-- else the priority set scored so that higher priority, then older, pops first.
-- `front` puts a job that was already running (released or stalled) first in line.
local PRIORITY_SHIFT = 4398046511104 -- 2^42
local function enqueue(id, priority, seq, front)
  if priority > 0 then
    local score = seq - priority * PRIORITY_SHIFT
    -- In front of its priority's waiting jobs, and of those put in front before it.
    if front then score = -priority * PRIORITY_SHIFT - seq end
    redis.call('ZADD', K.waitp, score, id)
  elseif front then
    redis.call('RPUSH', K.wait, id)
  else
    redis.call('LPUSH', K.wait, id)
  end
end

-- Leaves min(n + 1, 8) markers in the signal list so that many blocked workers
-- wake, and one stuck client (a frozen process on a half-open connection) cannot
-- swallow the only wake-up: the extra marker costs an idle worker one empty fetch.
-- A worker that finds more work than it takes leaves markers for the next.
local function signal(n)
  local missing = math.min(n + 1, 8) - redis.call('LLEN', K.signal)
  for _ = 1, missing do redis.call('LPUSH', K.signal, '1') end
end
