-- Flow children (src/flow, docs/flows.md): a child that finished for good leaves
-- its outcome in its own queue's outbox, in the same script that finished it, so
-- no crash can lose it. The worker then delivers it to the parent's queue (another
-- slot on a Cluster) and deletes the entry; the recovery sweep delivers entries
-- nobody deleted within OUTBOX_GRACE_MS. Only queues that had flow children
-- (meta `flows`) pay for the lookup.
-- Needs: keys, settings, split.
local OUTBOX_GRACE_MS = 5000
-- `ids`: job ids; `held`: the indexes among them that finished; `kind` 'c' (completed)
-- or 'f' (failed); `payloads`: result or error JSONs joined by byte 30, by index.
local function flowOutbox(S, ids, held, token, kind, payloads)
  local done = {}
  for k, j in ipairs(held) do done[k] = ids[j] end
  local refs = redis.call('HMGET', K.fparent, unpack(done))
  local values, due, list = {}, {}, nil
  for k, j in ipairs(held) do
    if refs[k] then
      list = list or split(payloads)
      values[#values + 1] = ids[j]
      values[#values + 1] = token .. SEP .. kind .. SEP .. refs[k] .. SEP .. (list[j] or 'null')
      due[#due + 1] = S.now + OUTBOX_GRACE_MS
      due[#due + 1] = ids[j]
    end
  end
  if #values > 0 then
    redis.call('HSET', K.foutv, unpack(values))
    redis.call('ZADD', K.fout, unpack(due))
  end
end
