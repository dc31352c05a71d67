import type { FlowChild } from '../flow/types.js';
import type { MetricsOptions } from '../metrics/types.js';
import type { ConnectionOptions } from '../redis/connection.js';
import type { SpoolOptions } from '../spool/options.js';
import type { TraceCarrier } from '../tracing/carrier-format.js';
import type { Logger } from '../util/logger.js';

/** Seed 000's wallet-audit levels; any integer 0..MAX_PRIORITY works, higher runs first. */
export const Priority = {
  REBALANCE_NEEDED: 5,
  OPEN_POSITION_DETECTED: 4,
  OPEN_ORDER_DETECTED: 3,
  NEW_BALANCE_UPDATE: 2,
  BALANCE_CHECK_REQUIRED: 1,
} as const;

export const MAX_PRIORITY = 1000;
/** Log lines kept per job. */
export const LOG_LINES = 100;
/** Longest group name. */
export const MAX_GROUP_LENGTH = 128;

export type BackoffOptions = number | { type: 'fixed' | 'exponential'; delay: number; jitter?: number };

/** true: delete at once; a number: keep at most that many; or an age (ms) and/or a count. */
export type RetentionOptions = boolean | number | { age?: number; count?: number };

export interface JobOptions {
  /** 0..1000, higher runs first. Default 0. */
  priority?: number;
  /** Milliseconds before the job may run. */
  delay?: number;
  /** Total attempts including the first. Default 1. */
  attempts?: number;
  backoff?: BackoffOptions;
  /** Idempotency key: adding an id that exists returns it and adds nothing. Not all digits. */
  jobId?: string;
  /** Drops or merges adds that share a key: see DedupOptions. */
  dedup?: DedupOptions;
  /**
   * The job's group (a tenant, user, wallet): groups are served round-robin and
   * may have their own concurrency and rate limits (Queue.setLimits, setGroupLimits).
   */
  group?: string;
  /** Milliseconds an attempt may run; 0 means no limit. Default: the worker's `jobTimeout`. */
  timeout?: number;
  removeOnComplete?: RetentionOptions;
  removeOnFail?: RetentionOptions;
  /**
   * Who submitted the job, as the caller names it (at most 200 characters); stored, never
   * interpreted. `hopper serve` sets it to the submitting token's name and shows a job's
   * status only to that token (or an admin).
   */
  owner?: string;
  /**
   * W3C trace context of the producer (OpenTelemetry): set by `add` from the active span
   * when `@opentelemetry/api` is installed and a tracer provider is registered; may be
   * given to relay a context by hand. The worker's attempt spans are its children.
   */
  trace?: TraceCarrier;
}

/**
 * - `throttle` (default): adds with the same key within `ttl` ms are dropped and report the first job's id.
 * - `debounce`: the job waits `ttl` ms; an add with the same key while it still waits replaces its
 *   data and options and pushes its start back to `ttl` ms from then. `delay` does not apply.
 * - `until-done`: one live job per key: adds are dropped until the job completes, fails for good or
 *   is removed. `ttl` does not apply.
 */
export interface DedupOptions {
  key: string;
  ttl?: number;
  mode?: 'throttle' | 'debounce' | 'until-done';
}

/** A rate limit: at most `max` jobs started in any window of `duration` ms (an exact sliding window). */
export interface RateLimit {
  max: number;
  duration: number;
}

/** Limits of a group; unset fields take the queue's group defaults. */
export interface GroupLimits {
  /** Jobs of the group running at once, across all workers. */
  concurrency?: number;
  rate?: RateLimit;
}

/** Limits that hold across every worker of a queue (stored in Redis). `null` removes one. */
export interface QueueLimits {
  /** Jobs running at once, across all workers. */
  concurrency?: number | null;
  /** Jobs started per window, across all workers. */
  rate?: RateLimit | null;
  /** Defaults for every group. */
  group?: { concurrency?: number | null; rate?: RateLimit | null } | null;
}

/** `waiting-children`: a flow parent whose children have not all finished (src/flow, docs/flows.md). */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'waiting-children';

export interface JobCounts {
  waiting: number;
  delayed: number;
  /** Jobs whose handler is running (as of each worker's last call to Redis). */
  active: number;
  /** Jobs a worker fetched ahead and holds, not started yet. */
  reserved: number;
  completed: number;
  failed: number;
  /** Flow parents waiting for their children (docs/flows.md). */
  waitingChildren: number;
}

export interface JobError {
  name: string;
  message: string;
  stack?: string;
}

/** One failed attempt of a job, as kept in its history (`JobInfo.errors`). */
export interface FailedAttempt {
  /** The attempt's number (1 for the first run); 0 for a flow parent failed by its child. */
  attempt: number;
  /** ms: when the attempt started and when it failed. */
  startedAt: number;
  failedAt: number;
  /** Its error; one of more than 6,000 bytes of JSON is cut to a 2,000-character message and a 4,000-character stack. */
  error: JobError;
}

/** A job as `getJob` reads it back. */
export interface JobInfo<D = unknown, R = unknown> {
  id: string;
  name: string;
  data: D;
  opts: JobOptions;
  state: JobState;
  /** Attempts that ended in failure so far. */
  attemptsMade: number;
  /** Times a worker lost its lease on this job. */
  stalls: number;
  timestamp: number;
  processedOn?: number;
  finishedOn?: number;
  returnValue?: R;
  error?: JobError;
  /**
   * The failed attempts kept, oldest first, the newest (the one in `error`) last: at most
   * the last 10 (FAIL_HISTORY in fail-record.lua). Absent for a job that never failed.
   */
  errors?: FailedAttempt[];
  /** Due time of a delayed job. */
  delayUntil?: number;
  /** The last value the handler passed to `updateProgress`. */
  progress?: unknown;
  /** The handler's `log` lines, the last `LOG_LINES` kept. */
  logs: string[];
}

export interface QueueOptions {
  connection?: ConnectionOptions;
  /** Key prefix; all keys of a queue are `{prefix:name}:...`. Default `hopper`. */
  prefix?: string;
  /** Largest serialised `data` accepted by add, in bytes. Default 512 KiB. */
  maxPayloadBytes?: number;
  /** Options applied to every job unless the job sets its own. */
  defaultJobOptions?: JobOptions;
  logger?: Logger;
  /** Count added jobs into the queue's metrics (see docs/metrics.md); false turns it off. Default true. */
  metrics?: boolean | MetricsOptions;
  /**
   * Milliseconds an add() keeps resending its batch through a Redis outage before it
   * rejects with AddOutcomeUnknownError (100 .. 2^31-1). Default 10 s.
   */
  addTimeout?: number;
  /**
   * A producer spool: while Redis does not answer, add() and addBulk() write to this
   * local log and resolve with client-made ids; it is replayed in order, exactly once,
   * when Redis answers again (see docs/spool.md).
   */
  spool?: SpoolOptions;
  /**
   * Opt-in: each add resolves only once its batch reached `replicas` replicas (Redis WAIT,
   * up to `timeoutMs`, default 1000), so a failover cannot lose an acknowledged add; short of
   * that it rejects with ReplicationTimeoutError (the job is stored on the master). Off by
   * default: replication is asynchronous (docs/architecture.md, "Failover and durability").
   */
  durability?: { replicas: number; timeoutMs?: number };
  /**
   * Spreads this one logical queue over N ordinary queues, each with its own hash tag, so a
   * busy queue uses every master of a Redis Cluster (1 .. 1024; see docs/scaling.md). Every
   * Queue and Worker of the queue must give the same N: another count is refused.
   */
  partitions?: number;
}

export interface WorkerOptions {
  connection?: ConnectionOptions;
  prefix?: string;
  /** The queue's partition count (QueueOptions.partitions): the worker takes from all partitions. */
  partitions?: number;
  /** Handlers running at once. Default 1. */
  concurrency?: number;
  /** Jobs fetched ahead of free slots, so Redis round trips overlap handlers. Default: concurrency, at most 100. */
  prefetch?: number;
  /** Worker lease: jobs of a worker silent this long go back to waiting. Default 30 s. */
  leaseMs?: number;
  /** Lease losses after which a job fails instead of going back. Default 1. */
  maxStalls?: number;
  /** Attempt timeout for jobs that set none; 0 means no limit. Default 5 minutes. */
  jobTimeout?: number;
  /** Start on construction. Default true. */
  autorun?: boolean;
  /** Run the queue's scheduler, which makes the jobs of repeatable schedules. Default true. */
  schedules?: boolean;
  logger?: Logger;
  /** Record counts, timings and failed jobs (see docs/metrics.md); false turns it off. Default true. */
  metrics?: boolean | MetricsOptions;
  /**
   * Computes the delay before a failed job's next attempt (ms), for every job of this
   * worker; `undefined` falls back to the job's `backoff`. `attemptsMade` counts the
   * attempt that just failed. A throw is reported on `error` and the job's backoff used.
   */
  backoffStrategy?: (attemptsMade: number, error: Error, job: Job) => number | undefined;
  /**
   * Opt-in: a batch of outcomes counts as settled only once it reached `replicas` replicas
   * (Redis WAIT, up to `timeoutMs`); short of that the call is resent (settle is idempotent).
   */
  durability?: { replicas: number; timeoutMs?: number };
}

/** What a handler receives. */
export interface Job<D = unknown> {
  readonly id: string;
  readonly name: string;
  readonly data: D;
  readonly opts: JobOptions;
  /** Failed attempts before this one. */
  readonly attemptsMade: number;
  readonly timestamp: number;
  /**
   * Fires when the attempt times out, and when the worker closes before the
   * handler finished (after close's grace period): stop work and return.
   */
  readonly signal: AbortSignal;
  /** Stores a progress value (any JSON, at most 64 KiB) that getJob reads back. */
  updateProgress(value: unknown): Promise<void>;
  /** Appends a line (at most 4 KiB) to the job's log; the last LOG_LINES lines are kept. */
  log(line: string): Promise<void>;
  /** A flow parent's children and their outcomes (empty for a job without children); see docs/flows.md. */
  children(): Promise<FlowChild[]>;
  /**
   * Ends this attempt without using one (`throw job.snooze(ms)`): the job runs again in
   * `ms` (0: at the back of the line), however the handler ends after the call.
   */
  snooze(ms: number): Error;
  /**
   * The handler hit an outside rate limit (`throw job.rateLimit(ms)`): the job goes back
   * first in line without using an attempt, and no worker of the queue starts a job for `ms`.
   */
  rateLimit(ms: number): Error;
}

export type Handler<D = unknown, R = unknown> = (job: Job<D>) => R | Promise<R>;
