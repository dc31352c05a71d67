/**
 * Redis key layout of one queue. Every key shares the hash tag `{prefix:name}`,
 * so all of a queue lives in one Cluster slot and every script's keys are legal
 * together. Jobs live in queue-wide hashes (not one key per job), which is what
 * lets a script fetch or settle many jobs while declaring every key in KEYS.
 */
export interface QueueKeys {
  /** LIST of ids at priority 0, LPUSH in, RPOP out (FIFO). */
  wait: string;
  /** ZSET of ids with priority > 0; score = seq - priority * 2^42 (higher priority, then older, first). */
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
  /** HASH of queue flags: `paused`. */
  meta: string;
  /** STRING counter: ids, FIFO order and lease tokens. */
  seq: string;
  /** LIST holding at most one marker: blocked workers BRPOP it to wake on new work. */
  signal: string;
  /** Prefix of dedup keys: STRING `<dedup>:<key>` -> first job id, with the dedup TTL. */
  dedup: string;
  /** Hash tag prefix shared by all keys, for SCAN patterns. */
  tag: string;
}

export function queueKeys(prefix: string, name: string): QueueKeys {
  const tag = `{${prefix}:${name}}`;
  const k = (s: string) => `${tag}:${s}`;
  return {
    wait: k('wait'),
    waitp: k('waitp'),
    pri: k('pri'),
    delayed: k('delayed'),
    active: k('active'),
    workers: k('workers'),
    jobs: k('jobs'),
    atts: k('atts'),
    stalls: k('stalls'),
    completed: k('completed'),
    failed: k('failed'),
    results: k('results'),
    errors: k('errors'),
    meta: k('meta'),
    seq: k('seq'),
    signal: k('signal'),
    dedup: k('dd'),
    tag,
  };
}

/**
 * HASH of one worker's last fetch and settle replies, so that a call resent after a
 * lost reply is answered from it instead of being applied twice (fetch.lua, settle.lua).
 */
export const workerRepliesKey = (keys: QueueKeys, workerId: string) => `${keys.tag}:w:${workerId}`;

/** Global set of queue names (outside any queue's tag), for `hopper stats` with no queue given. */
export const registryKey = (prefix: string) => `${prefix}:queues`;
