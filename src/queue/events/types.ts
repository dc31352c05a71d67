import type { ConnectionOptions } from '../../redis/connection.js';
import type { Logger } from '../../util/logger.js';

/** The job events a queue records (see docs/events.md). */
/** Every event a queue's events stream carries, in the order of a job's life. */
export const QUEUE_EVENT_NAMES = [
  'added',
  'active',
  'progress',
  'completed',
  'failed',
  'retried',
  'stalled',
  'removed',
  'drained',
] as const;

export type QueueEventName = (typeof QUEUE_EVENT_NAMES)[number];

/** What a job event tells: the job's id only; results and errors are read from the job. */
export interface JobEvent {
  jobId: string;
}

/** A progress event also carries the value the handler passed to `updateProgress`. */
export interface ProgressEvent extends JobEvent {
  data: unknown;
}

/**
 * QueueEvents' events, each with the stream entry id it came from (pass the last one
 * as `lastEventId` to resume after a restart without missing an event still kept).
 */
export interface QueueEventsMap {
  /** A job was stored (add, addBulk, a schedule's tick); delayed jobs too. */
  added: [event: JobEvent, eventId: string];
  /** A worker took the job (fetched it; it starts at once unless the worker holds it in its prefetch buffer). */
  active: [event: JobEvent, eventId: string];
  progress: [event: ProgressEvent, eventId: string];
  /** The job completed; read its result with getJob or waitUntilFinished. */
  completed: [event: JobEvent, eventId: string];
  /** The job failed for good (its last attempt, an UnrecoverableError, or too many stalls). */
  failed: [event: JobEvent, eventId: string];
  /** An attempt failed and the job will run again (after its backoff), or retry() redrove it. */
  retried: [event: JobEvent, eventId: string];
  /** The job's worker stopped renewing its lease: it goes back in line (or fails, past maxStalls). */
  stalled: [event: JobEvent, eventId: string];
  /** The job was deleted (remove(), drain()). */
  removed: [event: JobEvent, eventId: string];
  /** A worker took the last waiting jobs (delayed jobs do not count). */
  drained: [eventId: string];
  /** Reading the stream failed (Redis away); it retries with backoff. */
  error: [error: Error];
}

export interface QueueEventsOptions {
  /** A Redis URL or ioredis options; default `REDIS_URL`. */
  connection?: ConnectionOptions;
  prefix?: string;
  /**
   * Where to start reading: `'$'` (default) events from now on, `'0'` every event the
   * stream still holds, or an event id seen before (events after it).
   */
  lastEventId?: string;
  /** Longest a read blocks before it looks again (ms, default 5000). */
  blockMs?: number;
  /** Start reading at once (default true); else call `run()`. */
  autorun?: boolean;
  logger?: Logger;
  /** The queue's partition count (QueueOptions.partitions): one reader per partition, events merged. */
  partitions?: number;
}
