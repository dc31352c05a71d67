/**
 * Redis key layout of one queue. Every key shares the hash tag `{prefix:name}`,
 * so all of a queue lives in one Cluster slot and every script's keys are legal
 * together. Jobs live in queue-wide hashes (not one key per job), which is what
 * lets a script fetch or settle many jobs while declaring every key in KEYS.
 */
export interface QueueKeys {
  /** LIST of ungrouped ids at priority 0, LPUSH in, RPOP out (FIFO). */
  wait: string;
  /** ZSET of ungrouped ids with priority > 0; score = seq - priority * 2^42 (higher priority, then older, first). */
  waitp: string;
  /** HASH id -> priority, only for jobs whose priority is > 0. */
  pri: string;
  /** ZSET id -> due time (ms, Redis clock). */
  delayed: string;
  /** HASH id -> "token|workerId|startedAt" for jobs held by a worker. */
  active: string;
  /** ZSET workerId -> lease deadline (ms). One lease per worker covers all its jobs. */
  workers: string;
  /** HASH id -> job record: name, add time, options and data on four lines (see record.ts). */
  jobs: string;
  /** HASH id -> attempts made (failed attempts so far). */
  atts: string;
  /** HASH id -> times the job was taken back from a worker whose lease lapsed. */
  stalls: string;
  /** ZSET id -> expiry time of the record (retention), for completed jobs. */
  completed: string;
  /** ZSET id -> expiry time of the record, for failed jobs: the dead-letter set. */
  failed: string;
  /** HASH id -> `{"p":processedOn,"f":finishedOn,"r":result}`. */
  results: string;
  /** HASH id -> `{"p":processedOn,"f":finishedOn,"e":error}` of the last failed attempt. */
  errors: string;
  /**
   * HASH of queue settings and flags: `paused`; limits `conc`, `rmax`, `rdur`,
   * `gconc`, `grmax`, `grdur`; `govr` (some group has its own limits), `gpause` (some group was paused),
   * `gprio` (some grouped job had a priority); `rlog` (the
   * queue rate limit's sliding log); feature flags `groups`, `ud` set on first use.
   */
  meta: string;
  /** STRING counter: ids, FIFO order and lease tokens. */
  seq: string;
  /** LIST holding at most one marker: blocked workers BRPOP it to wake on new work. */
  signal: string;
  /** HASH id -> progress JSON set by the handler. */
  progress: string;
  /** HASH id -> the handler's log lines joined by newlines, the last LOG_LINES kept. */
  logs: string;
  /** ZSET (all scores 0) of waiting grouped jobs with a priority: `group \0 rank seq \0 id`, one lexicographic range per group. */
  gwait: string;
  /** HASH id -> its group, for every grouped job until its record is deleted. */
  gjob: string;
  /** ZSET group -> turn (ms it became ready or was last served): groups that may start a job now; lowest first. */
  gready: string;
  /** ZSET group -> time its rate limit lets it start a job again. */
  gparked: string;
  /**
   * HASH per group: `w:` waiting and `a:` active job counts, `p:` paused, `r:` parked by its rate limit,
   * `h:` and `t:` the first and last id of its line (grouped jobs at priority 0).
   */
  gcount: string;
  /** HASH `limit:<group>` -> "concurrency,max,duration" (an empty field: the queue's default). */
  gconf: string;
  /** HASH group -> its rate limit's sliding log. */
  grate: string;
  /** HASH `k:<key>` -> job id and `j:<id>` -> key, for dedup mode until-done. */
  udone: string;
  /** HASH id -> the next id in its group's line ('' after the last): one entry per waiting grouped job at priority 0. */
  gnext: string;
  /**
   * HASH workerId -> jobs it holds reserved: fetched (in `active`) but not started. Each worker
   * reports its own count with every fetch, settle and heartbeat call; getCounts subtracts the sum from `active`.
   */
  reserved: string;
  /** HASH parent id -> "remaining,blocked": flow parents waiting for children (state waiting-children); see docs/flows.md. */
  fdeps: string;
  /** HASH parent id -> "remaining,blocked": flow parents a child's failure failed (they are in `failed` too). */
  fblocked: string;
  /** HASH child id -> "policy SEP parent queue SEP parent id": a flow child's link to its parent. */
  fparent: string;
  /** ZSET child id -> when the recovery sweep delivers its outcome if no worker did: the flow outbox. */
  fout: string;
  /** HASH child id -> "token SEP kind SEP policy SEP parent queue SEP parent id SEP payload": outcomes to deliver. */
  foutv: string;
  /**
   * STREAM of job events (added, active, progress, completed, failed, retried, stalled,
   * removed, drained) for QueueEvents; an entry holds one event of many jobs (ids joined
   * by byte 30), never a result. Capped with MAXLEN ~ (meta `evlen`, default 10,000 entries).
   */
  events: string;
  /** Prefix of dedup keys: STRING `<dedup>:<key>` -> first job id, with the dedup TTL. */
  dedup: string;
  /** Hash tag prefix shared by all keys, for SCAN patterns. */
  tag: string;
}

/** The keys every queue script receives, in this order (named again in scripts/includes/keys.lua). */
export const SCRIPT_KEYS = [
  'wait',
  'waitp',
  'pri',
  'delayed',
  'active',
  'workers',
  'jobs',
  'atts',
  'stalls',
  'completed',
  'failed',
  'results',
  'errors',
  'meta',
  'seq',
  'signal',
  'progress',
  'logs',
  'gwait',
  'gjob',
  'gready',
  'gparked',
  'gcount',
  'gconf',
  'grate',
  'udone',
  'gnext',
  'reserved',
  'fdeps',
  'fblocked',
  'fparent',
  'fout',
  'foutv',
  'events',
] as const satisfies readonly (keyof QueueKeys)[];

export function queueKeys(prefix: string, name: string): QueueKeys {
  const tag = `{${prefix}:${name}}`;
  const keys = { dedup: `${tag}:dd`, tag } as QueueKeys;
  for (const k of SCRIPT_KEYS) keys[k] = `${tag}:${k}`;
  return keys;
}

/**
 * HASH of one worker's last fetch and settle replies, so that a call resent after a
 * lost reply is answered from it instead of being applied twice (fetch.lua, settle.lua).
 */
export const workerRepliesKey = (keys: QueueKeys, workerId: string) => `${keys.tag}:w:${workerId}`;

/**
 * STRING holding one add.lua batch's reply under its request id, for `addTimeout` plus a
 * minute, so a batch sent again (a lost reply, a retry) is answered without being applied twice.
 */
export const addRequestKey = (keys: QueueKeys, requestId: string) => `${keys.tag}:req:${requestId}`;

/** HASH of one flow parent's children: child ref (queue SEP id) -> "token SEP state SEP payload" (src/flow). */
export const flowChildrenKey = (keys: QueueKeys, parentId: string) => `${keys.tag}:kids:${parentId}`;

/** Global set of queue names (outside any queue's tag), for `hopper stats` with no queue given. */
export const registryKey = (prefix: string) => `${prefix}:queues`;

/**
 * STRING: the highest sequence number applied of one spooled producer run (add-spooled.lua),
 * so a call sent twice, directly and from the spool, is applied once. Expires after MARK_TTL_MS.
 */
export const spoolMarkKey = (keys: QueueKeys, run: string) => `${keys.tag}:spool:${run}`;
