import type { ConnectionOptions } from '../redis/connection.js';
import type { SpoolOptions } from '../spool/options.js';
import type { Logger } from '../util/logger.js';

/** One stream entry as a sink sees it. */
export interface StreamEntry<T = unknown> {
  /**
   * The event's id, unique and ordered; sinks use it as the idempotency key. The Redis entry
   * id (`<ms>-<seq>`) for an event in its own entry (append, appendMany), `<ms>-<seq>:<index>`
   * for one of several in an entry (appendBatch).
   */
  id: string;
  /** Stream name (without prefix). */
  stream: string;
  data: T;
  /** Times Redis delivered its entry (1 on a first read; more after claims from dead consumers). */
  deliveries: number;
  /**
   * `data` as stored in the stream (JSON text), set on entries read from Redis: a sink
   * may write it as is instead of serialising `data` again.
   */
  readonly json?: string;
}

/**
 * Writes a batch. Resolving means the batch is durably committed: only then are the
 * entries acknowledged. It may receive an entry again (at-least-once), so it must be
 * idempotent by `entry.id`.
 */
export type Sink = (batch: StreamEntry[]) => Promise<void>;

export interface EventStreamOptions {
  connection?: ConnectionOptions;
  prefix?: string;
  /**
   * Trim towards this many entries, never past an entry a consumer group has not
   * acknowledged. Unset: the stream is never trimmed.
   */
  maxLen?: number;
  /** How often the trim runs when `maxLen` is set (ms, default 5000). */
  trimInterval?: number;
  logger?: Logger;
  /**
   * A producer spool: while Redis does not answer, appends go to this local log and
   * resolve with spool ids (`spool-<run>-<n>`, not entry ids); it is replayed in order,
   * exactly once, when Redis answers again (see docs/spool.md).
   */
  spool?: SpoolOptions;
}

export interface StreamProcessorOptions {
  connection?: ConnectionOptions;
  /** Used when the stream is given by name (default `hopper`). */
  prefix?: string;
  sink: Sink;
  /** Consumers in this process (default 5). */
  consumers?: number;
  /** A batch goes to the sink when it holds this many entries (default 100)... */
  batchSize?: number;
  /** ...or this many ms after its first entry arrived, whichever comes first (default 1000). */
  flushInterval?: number;
  /** Deliveries after which an entry goes to the dead-letter stream (default 5). */
  maxDeliveries?: number;
  /**
   * The dead-letter stream keeps its newest this many entries (exact MAXLEN on each dead
   * letter; default 100,000; 0: never trimmed).
   */
  deadMaxLen?: number;
  /** Entries idle this long (ms) belong to a stopped consumer and are claimed (default 30000). */
  claimIdle?: number;
  /** How long close() may take to flush and acknowledge (ms, default 30000). */
  shutdownTimeout?: number;
  /** Consumers idle this long (ms) with nothing pending are removed from the group (default 10 minutes). */
  consumerTimeout?: number;
  logger?: Logger;
}

export interface GroupInfo {
  name: string;
  consumers: number;
  /** Delivered, not yet acknowledged. */
  pending: number;
  /** Entries not yet delivered to the group (null when Redis cannot tell, e.g. after XDEL). */
  lag: number | null;
  lastDeliveredId: string;
  /** Entries the group has read (Redis 7 `entries-read`; null when Redis cannot tell). */
  entriesRead: number | null;
}

export interface StreamInfo {
  length: number;
  /** Entries in the dead-letter stream. */
  dead: number;
  groups: GroupInfo[];
}
