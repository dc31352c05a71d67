import type { MetricsOptions } from '../metrics/types.js';
import type { ConnectionOptions } from '../redis/connection.js';
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
  /** Adds with the same key within ttl ms are dropped and report the first job's id. */
  dedup?: { key: string; ttl: number };
  /** Milliseconds an attempt may run; 0 means no limit. Default: the worker's `jobTimeout`. */
  timeout?: number;
  removeOnComplete?: RetentionOptions;
  removeOnFail?: RetentionOptions;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

export interface JobCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
}

export interface JobError {
  name: string;
  message: string;
  stack?: string;
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
  /** Due time of a delayed job. */
  delayUntil?: number;
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
}

export interface WorkerOptions {
  connection?: ConnectionOptions;
  prefix?: string;
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
  logger?: Logger;
  /** Record counts, timings and failed jobs (see docs/metrics.md); false turns it off. Default true. */
  metrics?: boolean | MetricsOptions;
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
  /** Fires at the attempt's timeout and when the worker closes. */
  readonly signal: AbortSignal;
}

export type Handler<D = unknown, R = unknown> = (job: Job<D>) => R | Promise<R>;
