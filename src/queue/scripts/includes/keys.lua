-- The queue's keys, in the order script-keys.ts sends them (SCRIPT_KEYS in keys.ts).
-- Keys past these are the calling script's own (replies hash, dedup keys).
local K = {
  wait = KEYS[1], waitp = KEYS[2], pri = KEYS[3], delayed = KEYS[4], active = KEYS[5],
  workers = KEYS[6], jobs = KEYS[7], atts = KEYS[8], stalls = KEYS[9], completed = KEYS[10],
  failed = KEYS[11], results = KEYS[12], errors = KEYS[13], meta = KEYS[14], seq = KEYS[15],
  signal = KEYS[16], progress = KEYS[17], logs = KEYS[18], gwait = KEYS[19], gjob = KEYS[20],
  gready = KEYS[21], gparked = KEYS[22], gcount = KEYS[23], gconf = KEYS[24], grate = KEYS[25],
  udone = KEYS[26], gnext = KEYS[27], reserved = KEYS[28],
  fdeps = KEYS[29], fblocked = KEYS[30], fparent = KEYS[31], fout = KEYS[32], foutv = KEYS[33],
  events = KEYS[34],
}
local EXTRA = 35
-- The hashes holding a job's records: forget() deletes an id from each.
K.rec = { K.jobs, K.atts, K.pri, K.stalls, K.results, K.errors, K.progress, K.logs, K.gjob, K.fparent }
